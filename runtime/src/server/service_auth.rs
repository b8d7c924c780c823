//! Who may call a service's public endpoints on an API node, as its package says (Dataiku's
//! `auth_method`): anyone (`public`), a key of this node with the `UseServices` permission
//! and the service in its scope (`api_keys`), or a JWT bearer token from the service's OAuth2
//! issuer (`oauth2`). No credential, or one that does not check out, is a 401; a good one
//! without the right scope is a 403.
//!
//! For OAuth2 the node fetches the issuer's JWKS (`jwks_uri`, at most 1 MiB) on first use and
//! again when a token names a key it does not know (at most every 30 s), so keys rotate
//! without a redeploy. Only asymmetric algorithms are accepted: a shared secret would have to
//! sit in the package.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use http::StatusCode;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use super::auth::presented;
use super::http::{ApiError, Request};
use crate::app::App;
use crate::workflow::{OAuth2Spec, ServiceAuth};

/// Largest JWKS document read.
const MAX_JWKS: usize = 1 << 20;
/// A JWKS is fetched again for an unknown key id at most this often.
const REFETCH_AFTER: Duration = Duration::from_secs(30);

#[derive(Default)]
pub struct ServiceGate {
    jwks: Mutex<HashMap<String, (Instant, JwkSet)>>,
}

fn unauthorized(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
}

fn forbidden(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
}

impl ServiceGate {
    /// Lets the request through to `service`'s endpoints, or says why not.
    pub async fn admit(
        &self,
        app: &App,
        service: &str,
        auth: ServiceAuth,
        oauth2: Option<&OAuth2Spec>,
        request: &Request,
    ) -> Result<(), ApiError> {
        match auth {
            ServiceAuth::Public => Ok(()),
            ServiceAuth::ApiKeys => {
                let need = || {
                    unauthorized(format!(
                        "service `{service}` requires an API key: `Authorization: Bearer <key>` (a key with UseServices)"
                    ))
                };
                let key = presented(request).ok_or_else(need)?;
                let key = app.authenticate(&key).await?.ok_or_else(need)?;
                if key.may_use(service) {
                    Ok(())
                } else {
                    Err(forbidden(format!(
                        "key `{}` may not call service `{service}` (it needs UseServices, with the service in its scope)",
                        key.name
                    )))
                }
            }
            ServiceAuth::Oauth2 => {
                let spec = oauth2.ok_or_else(|| {
                    ApiError::internal("the package requires OAuth2 but has no [service.oauth2]")
                })?;
                let token = bearer(request).ok_or_else(|| {
                    unauthorized(format!(
                        "service `{service}` requires an OAuth2 bearer token from {}",
                        spec.issuer
                    ))
                })?;
                self.check_token(&token, spec).await
            }
        }
    }

    async fn check_token(&self, token: &str, spec: &OAuth2Spec) -> Result<(), ApiError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| unauthorized(format!("the bearer token is not a JWT: {e}")))?;
        if !matches!(
            header.alg,
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512
                | Algorithm::ES256
                | Algorithm::ES384
                | Algorithm::EdDSA
        ) {
            return Err(unauthorized(format!(
                "tokens signed with {:?} are not accepted",
                header.alg
            )));
        }
        let key = self.key(spec, header.kid.as_deref()).await?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&spec.issuer]);
        validation.set_audience(&[&spec.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        let claims = jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation)
            .map_err(|e| unauthorized(format!("the bearer token was refused: {e}")))?
            .claims;
        let granted: Vec<&str> = match (&claims["scope"], &claims["scp"]) {
            (serde_json::Value::String(s), _) => s.split_whitespace().collect(),
            (_, serde_json::Value::Array(a)) => a.iter().filter_map(|v| v.as_str()).collect(),
            _ => Vec::new(),
        };
        match spec.scopes.iter().find(|s| !granted.contains(&s.as_str())) {
            Some(missing) => Err(forbidden(format!(
                "the token lacks the scope `{missing}` the service requires"
            ))),
            None => Ok(()),
        }
    }

    /// The decoding key named `kid` (or the only key) of the issuer's JWKS.
    async fn key(&self, spec: &OAuth2Spec, kid: Option<&str>) -> Result<DecodingKey, ApiError> {
        let find = |set: &JwkSet| match kid {
            Some(kid) => set.find(kid).cloned(),
            None if set.keys.len() == 1 => set.keys.first().cloned(),
            None => None,
        };
        let cached = self
            .jwks
            .lock()
            .expect("jwks lock")
            .get(&spec.jwks_uri)
            .cloned();
        let jwk = match cached {
            Some((_, set)) if find(&set).is_some() => find(&set),
            Some((at, _)) if at.elapsed() < REFETCH_AFTER => None,
            _ => {
                let set = fetch(&spec.jwks_uri).await?;
                let found = find(&set);
                self.jwks
                    .lock()
                    .expect("jwks lock")
                    .insert(spec.jwks_uri.clone(), (Instant::now(), set));
                found
            }
        };
        let jwk = jwk.ok_or_else(|| {
            unauthorized(format!(
                "the token's key {} is not in the issuer's JWKS",
                kid.unwrap_or("(no kid)")
            ))
        })?;
        DecodingKey::from_jwk(&jwk).map_err(|e| {
            ApiError::internal(format!("the issuer's JWKS holds an unusable key: {e}"))
        })
    }
}

fn bearer(request: &Request) -> Option<String> {
    let value = request
        .headers
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

async fn fetch(uri: &str) -> Result<JwkSet, ApiError> {
    let unavailable = |message: String| {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "jwks_unavailable", message)
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| unavailable(e.to_string()))?;
    let mut response = client
        .get(uri)
        .send()
        .await
        .map_err(|e| unavailable(format!("cannot fetch the issuer's keys from {uri}: {e}")))?;
    if !response.status().is_success() {
        return Err(unavailable(format!(
            "the issuer's keys at {uri} answered {}",
            response.status()
        )));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| unavailable(format!("reading {uri}: {e}")))?
    {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_JWKS {
            return Err(unavailable(format!(
                "the JWKS at {uri} is larger than 1 MiB"
            )));
        }
    }
    serde_json::from_slice(&body)
        .map_err(|e| unavailable(format!("the document at {uri} is not a JWKS: {e}")))
}
