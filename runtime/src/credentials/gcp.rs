//! Google Cloud bearer tokens: either an access token given as a secret, or a service-account
//! key exchanged for one with the OAuth 2.0 JWT bearer grant (RFC 7523) and refreshed a few
//! minutes before it expires.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use tokio::sync::Mutex;

use super::{CredentialError, Secret};

/// Tokens are renewed when they have less than this left.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);
const DEFAULT_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

pub struct GcpAuth {
    name: String,
    source: TokenSource,
}

enum TokenSource {
    Static(Secret),
    ServiceAccount {
        key: ServiceAccountKey,
        scopes: String,
        token_uri: String,
        cached: Mutex<Option<(Secret, Instant)>>,
    },
}

/// The fields of a service-account key file ferry needs.
#[derive(Deserialize)]
struct ServiceAccountKey {
    client_email: String,
    private_key: String,
    #[serde(default)]
    token_uri: Option<String>,
}

#[derive(serde::Serialize)]
struct Claims<'a> {
    iss: &'a str,
    scope: &'a str,
    aud: &'a str,
    iat: u64,
    exp: u64,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

impl std::fmt::Debug for GcpAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GcpAuth")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl GcpAuth {
    pub fn access_token(name: &str, token: Secret) -> Self {
        GcpAuth {
            name: name.to_owned(),
            source: TokenSource::Static(token),
        }
    }

    /// `key` is the service-account key file's JSON. `token_uri` overrides the one in the key.
    pub fn service_account(
        name: &str,
        key: &Secret,
        scopes: &[String],
        token_uri: Option<&str>,
    ) -> Result<Self, CredentialError> {
        // serde's message could quote the key; say only what is wrong with its shape.
        let key: ServiceAccountKey =
            serde_json::from_str(key.expose()).map_err(|e| CredentialError::Invalid {
                name: name.to_owned(),
                message: format!(
                    "service_account_key is not a service-account key file (JSON with client_email and private_key): {:?} at line {}",
                    e.classify(),
                    e.line()
                ),
            })?;
        jsonwebtoken::EncodingKey::from_rsa_pem(key.private_key.as_bytes()).map_err(|_| {
            CredentialError::Invalid {
                name: name.to_owned(),
                message: "service_account_key's private_key is not an RSA key in PEM form".into(),
            }
        })?;
        let token_uri = token_uri
            .map(str::to_owned)
            .or_else(|| key.token_uri.clone())
            .unwrap_or_else(|| "https://oauth2.googleapis.com/token".to_owned());
        let scopes = if scopes.is_empty() {
            DEFAULT_SCOPE.to_owned()
        } else {
            scopes.join(" ")
        };
        Ok(GcpAuth {
            name: name.to_owned(),
            source: TokenSource::ServiceAccount {
                key,
                scopes,
                token_uri,
                cached: Mutex::new(None),
            },
        })
    }

    /// A valid access token, exchanging the key for a new one when needed.
    pub async fn token(&self) -> Result<Secret, CredentialError> {
        let TokenSource::ServiceAccount {
            key,
            scopes,
            token_uri,
            cached,
        } = &self.source
        else {
            let TokenSource::Static(token) = &self.source else {
                unreachable!()
            };
            return Ok(token.clone());
        };
        let mut cached = cached.lock().await;
        if let Some((token, expires)) = cached.as_ref()
            && Instant::now() + REFRESH_MARGIN < *expires
        {
            return Ok(token.clone());
        }
        let (token, lifetime) = self.exchange(key, scopes, token_uri).await?;
        tracing::debug!(credential = %self.name, expires_in = lifetime.as_secs(), "obtained a GCP access token");
        *cached = Some((token.clone(), Instant::now() + lifetime));
        Ok(token)
    }

    async fn exchange(
        &self,
        key: &ServiceAccountKey,
        scopes: &str,
        token_uri: &str,
    ) -> Result<(Secret, Duration), CredentialError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let claims = Claims {
            iss: &key.client_email,
            scope: scopes,
            aud: token_uri,
            iat: now,
            exp: now + 3600,
        };
        let signing_key = jsonwebtoken::EncodingKey::from_rsa_pem(key.private_key.as_bytes())
            .map_err(|_| self.invalid("private_key is not an RSA key in PEM form"))?;
        let assertion = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
            &claims,
            &signing_key,
        )
        .map_err(|e| self.invalid(&format!("cannot sign the token request: {e}")))?;
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")
            .append_pair("assertion", &assertion)
            .finish();
        let failed = |message: String| CredentialError::TokenExchange {
            name: self.name.clone(),
            uri: token_uri.to_owned(),
            message,
        };
        let response = reqwest::Client::new()
            .post(token_uri)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .map_err(|e| failed(e.without_url().to_string()))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| failed(e.without_url().to_string()))?;
        if !status.is_success() {
            // An OAuth error body names the problem (`invalid_grant`, …) and holds no secret.
            return Err(failed(format!("{status}: {}", text.trim())));
        }
        let parsed: TokenResponse = serde_json::from_str(&text)
            .map_err(|_| failed("the answer has no access_token".into()))?;
        let lifetime = Duration::from_secs(parsed.expires_in.unwrap_or(3600));
        Ok((Secret::new(parsed.access_token), lifetime))
    }

    fn invalid(&self, message: &str) -> CredentialError {
        CredentialError::Invalid {
            name: self.name.clone(),
            message: message.to_owned(),
        }
    }
}
