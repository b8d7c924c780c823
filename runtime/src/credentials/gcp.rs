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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// A key generated for this test only; it grants nothing anywhere.
    const KEY: &str = include_str!("testdata/throwaway-rsa.pem");
    const PUBLIC: &str = include_str!("testdata/throwaway-rsa.pub");

    #[derive(Deserialize)]
    struct Seen {
        iss: String,
        scope: String,
        aud: String,
        iat: u64,
        exp: u64,
    }

    /// Google's token endpoint cannot run here, so this stands in for it: it checks the
    /// assertion's RS256 signature with the key's public half and its claims, then answers
    /// as the endpoint does.
    async fn token_endpoint(lifetime: u64) -> (String, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/token", listener.local_addr().unwrap());
        let count = Arc::new(AtomicUsize::new(0));
        let (aud, seen) = (url.clone(), count.clone());
        tokio::spawn(async move {
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let body = loop {
                    let n = socket.read(&mut chunk).await.unwrap();
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).into_owned();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let len: usize = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length: ")
                                    .map(|v| v.trim().parse().unwrap())
                            })
                            .unwrap_or(0);
                        if body.len() >= len {
                            break body.to_owned();
                        }
                    }
                };
                let form: std::collections::HashMap<String, String> =
                    url::form_urlencoded::parse(body.as_bytes())
                        .into_owned()
                        .collect();
                assert_eq!(
                    form["grant_type"],
                    "urn:ietf:params:oauth:grant-type:jwt-bearer"
                );
                let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
                validation.set_audience(&[aud.as_str()]);
                let claims = jsonwebtoken::decode::<Seen>(
                    &form["assertion"],
                    &jsonwebtoken::DecodingKey::from_rsa_pem(PUBLIC.as_bytes()).unwrap(),
                    &validation,
                )
                .expect("the assertion is signed with the service account's key")
                .claims;
                assert_eq!(claims.iss, "ferry-test@example.iam.gserviceaccount.com");
                assert_eq!(
                    claims.scope,
                    "https://www.googleapis.com/auth/devstorage.read_only"
                );
                assert_eq!(claims.aud, aud);
                assert_eq!(claims.exp - claims.iat, 3600);
                let n = seen.fetch_add(1, Ordering::SeqCst) + 1;
                let answer = format!(
                    r#"{{"access_token":"token-{n}","expires_in":{lifetime},"token_type":"Bearer"}}"#
                );
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                    answer.len()
                );
                socket.write_all(response.as_bytes()).await.unwrap();
            }
        });
        (url, count)
    }

    fn key_json(token_uri: &str) -> Secret {
        Secret::new(
            serde_json::json!({
                "type": "service_account",
                "client_email": "ferry-test@example.iam.gserviceaccount.com",
                "private_key": KEY,
                "token_uri": token_uri,
            })
            .to_string(),
        )
    }

    #[tokio::test]
    async fn a_service_account_key_is_exchanged_once_and_refreshed_near_expiry() {
        let scopes = ["https://www.googleapis.com/auth/devstorage.read_only".to_owned()];
        let (url, exchanges) = token_endpoint(3600).await;
        let auth = GcpAuth::service_account("gcs", &key_json(&url), &scopes, None).unwrap();
        assert_eq!(auth.token().await.unwrap().expose(), "token-1");
        assert_eq!(auth.token().await.unwrap().expose(), "token-1");
        assert_eq!(exchanges.load(Ordering::SeqCst), 1);

        // A token that lives less than the refresh margin is replaced on the next use.
        let (url, exchanges) = token_endpoint(60).await;
        let auth = GcpAuth::service_account("gcs", &key_json(&url), &scopes, None).unwrap();
        assert_eq!(auth.token().await.unwrap().expose(), "token-1");
        assert_eq!(auth.token().await.unwrap().expose(), "token-2");
        assert_eq!(exchanges.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_broken_key_is_refused_without_quoting_it() {
        let e = GcpAuth::service_account(
            "gcs",
            &Secret::new("{\"private_key\": \"hunter2\"}"),
            &[],
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("client_email") && !e.contains("hunter2"), "{e}");
        let bad = Secret::new(r#"{"client_email":"a@b","private_key":"hunter2"}"#);
        let e = GcpAuth::service_account("gcs", &bad, &[], None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("PEM") && !e.contains("hunter2"), "{e}");
    }
}
