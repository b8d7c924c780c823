//! Named credentials, held by the host and applied to a plugin's outbound requests on their
//! way out, so that no plugin ever holds a secret. A workflow declares a credential (its kind
//! and non-secret parameters) and grants it to a step for some hosts; the secret values come
//! from the environment, a secrets file or the home's secret store ([`SecretSource`]), where
//! they are sealed under a master key ([`vault`]).

mod gcp;
mod secret;
mod sigv4;
pub mod vault;

pub use gcp::GcpAuth;
pub use secret::{SECRET_FIELDS, Secret, SecretFileError, SecretSource};
pub use sigv4::{AwsSigner, Payload};
pub use vault::{MasterKey, VaultError};

/// What a credential is, as declared (its kind and non-secret parameters); the secret values
/// are looked up when it is [resolved](Credential::resolve). The workflow model has its own
/// TOML form of this; the layer that builds sandboxes translates one into the other, so this
/// module knows nothing of workflows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Declaration {
    /// AWS Signature V4 for `service`, or for whichever of `services` a request is for.
    Aws {
        region: String,
        service: Option<String>,
        services: Vec<String>,
    },
    /// Google OAuth bearer tokens (a given token, or a service-account key exchanged).
    Gcp {
        scopes: Vec<String>,
        token_uri: Option<String>,
    },
    /// A static bearer token.
    Bearer,
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("credential `{name}`: secret `{field}` is missing: {hint}")]
    Missing {
        name: String,
        field: &'static str,
        hint: String,
    },
    #[error("credential `{name}`: {message}")]
    Invalid { name: String, message: String },
    #[error("credential `{name}`: cannot sign the request: {message}")]
    Sign { name: String, message: String },
    #[error("credential `{name}`: token exchange with {uri} failed: {message}")]
    TokenExchange {
        name: String,
        uri: String,
        message: String,
    },
}

/// A credential ready to authenticate requests.
#[derive(Debug)]
pub enum Credential {
    Aws(AwsSigner),
    Gcp(GcpAuth),
    /// A static token sent as `Authorization: Bearer` (a ferry API node's admin key).
    Bearer(Secret),
}

impl Credential {
    /// Builds credential `name` as declared, with its secret values from `secrets`.
    pub fn resolve(
        name: &str,
        spec: &Declaration,
        secrets: &SecretSource,
    ) -> Result<Credential, CredentialError> {
        let need = |field: &'static str| {
            secrets
                .get(name, field)
                .ok_or_else(|| CredentialError::Missing {
                    name: name.to_owned(),
                    field,
                    hint: secrets.describe(name, field),
                })
        };
        match spec {
            Declaration::Aws {
                region,
                service,
                services,
            } => Ok(Credential::Aws(AwsSigner::new(
                name,
                region,
                aws_services(name, service.as_deref(), services)?,
                need("access_key_id")?,
                need("secret_access_key")?,
                secrets.get(name, "session_token"),
            ))),
            Declaration::Bearer => Ok(Credential::Bearer(need("token")?)),
            Declaration::Gcp { scopes, token_uri } => {
                if let Some(token) = secrets.get(name, "access_token") {
                    return Ok(Credential::Gcp(GcpAuth::access_token(name, token)));
                }
                let key = secrets.get(name, "service_account_key").ok_or_else(|| {
                    CredentialError::Missing {
                        name: name.to_owned(),
                        field: "access_token",
                        hint: format!(
                            "{}, or give a service-account key the same way as `service_account_key`",
                            secrets.describe(name, "access_token")
                        ),
                    }
                })?;
                Ok(Credential::Gcp(GcpAuth::service_account(
                    name,
                    &key,
                    scopes,
                    token_uri.as_deref(),
                )?))
            }
        }
    }
}

/// The services an `aws` credential signs for: `service`, or `services`, or S3 by default.
fn aws_services(
    name: &str,
    service: Option<&str>,
    services: &[String],
) -> Result<Vec<String>, CredentialError> {
    let invalid = |message: String| CredentialError::Invalid {
        name: name.to_owned(),
        message,
    };
    let listed = match (service, services) {
        (Some(_), [_, ..]) => {
            return Err(invalid(
                "give `service` (one) or `services` (several), not both".into(),
            ));
        }
        (Some(one), []) => vec![one.to_owned()],
        (None, []) => vec!["s3".to_owned()],
        (None, many) => many.to_vec(),
    };
    for (i, s) in listed.iter().enumerate() {
        if s.is_empty()
            || !s
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(invalid(format!(
                "service `{s}` is not an AWS signing name such as `s3` or `sagemaker`"
            )));
        }
        if listed[..i].contains(s) {
            return Err(invalid(format!("service `{s}` is listed twice")));
        }
    }
    Ok(listed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_aws_credential_signs_for_one_service_or_several() {
        let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(aws_services("a", None, &[]).unwrap(), ["s3"]);
        assert_eq!(
            aws_services("a", Some("sagemaker"), &[]).unwrap(),
            ["sagemaker"]
        );
        assert_eq!(
            aws_services("a", None, &s(&["s3", "sagemaker"])).unwrap(),
            ["s3", "sagemaker"]
        );
        let both = aws_services("a", Some("s3"), &s(&["sagemaker"]))
            .unwrap_err()
            .to_string();
        assert!(both.contains("not both") && both.contains("`a`"), "{both}");
        assert!(aws_services("a", None, &s(&["s3", "s3"])).is_err());
        assert!(aws_services("a", None, &s(&["SageMaker"])).is_err());
    }
}
