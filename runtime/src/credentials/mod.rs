//! Named credentials, held by the host and applied to a plugin's outbound requests on their
//! way out, so that no plugin ever holds a secret. A workflow declares a credential (its kind
//! and non-secret parameters) and grants it to a step for some hosts; the secret values come
//! from the environment or a secrets file ([`SecretSource`]).

mod gcp;
mod secret;
mod sigv4;

pub use gcp::GcpAuth;
pub use secret::{Secret, SecretFileError, SecretSource};
pub use sigv4::{AwsSigner, Payload};

use crate::workflow::CredentialSpec;

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
        spec: &CredentialSpec,
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
            CredentialSpec::Aws { region, service } => Ok(Credential::Aws(AwsSigner::new(
                name,
                region,
                service,
                need("access_key_id")?,
                need("secret_access_key")?,
                secrets.get(name, "session_token"),
            ))),
            CredentialSpec::Bearer {} => Ok(Credential::Bearer(need("token")?)),
            CredentialSpec::Gcp { scopes, token_uri } => {
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
