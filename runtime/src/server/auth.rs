//! Who is calling: an API key from `Authorization: Bearer KEY`, or HTTP Basic with the key as
//! the user name (what tools that only speak Basic can send). No key is a 401; a key without
//! the route's permission is a 403.

use base64::Engine as _;
use http::StatusCode;

use super::http::{ApiError, Request};
use crate::app::App;
use crate::store::{ApiKey, Permission};

/// The key presented with the request, if any.
pub(super) fn presented(request: &Request) -> Option<String> {
    let value = request
        .headers
        .get(http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let (scheme, rest) = value.split_once(' ')?;
    match scheme.to_ascii_lowercase().as_str() {
        "bearer" => Some(rest.trim().to_owned()),
        "basic" => {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(rest.trim())
                .ok()?;
            let text = String::from_utf8(decoded).ok()?;
            let (user, password) = text.split_once(':').unwrap_or((&text, ""));
            Some(if user.is_empty() { password } else { user }.to_owned())
        }
        _ => None,
    }
}

/// The caller's key, which must hold `needed`.
pub async fn require(app: &App, request: &Request, needed: Permission) -> Result<ApiKey, ApiError> {
    let unauthorized = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "an API key is required: `Authorization: Bearer <key>` (create one with `ferry keys create`)",
        )
    };
    let key = presented(request).ok_or_else(unauthorized)?;
    let key = app.authenticate(&key).await?.ok_or_else(unauthorized)?;
    if !key.permissions.contains(&needed) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("key `{}` lacks the {needed} permission", key.name),
        ));
    }
    Ok(key)
}
