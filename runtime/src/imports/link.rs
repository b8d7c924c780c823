//! Fetching an export from a link, under the same kind of outbound policy plugins get: only
//! hosts the settings allow (HTTPS unless a pattern says `http://`), every redirect checked
//! against the same list, a size limit counted as bytes arrive, and timeouts — so a link can
//! neither reach into the server's network nor hang or fill it.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use super::ImportError;
use crate::host::HostPattern;

/// Where links may point, and how much they may bring.
#[derive(Debug, Clone)]
pub struct LinkPolicy {
    /// Hosts a link may name (none: no link is fetched).
    pub allowed: Vec<HostPattern>,
    /// The most bytes fetched.
    pub max_size: u64,
    /// How long the whole fetch may take.
    pub timeout: Duration,
}

impl LinkPolicy {
    /// A policy allowing `hosts`: patterns as plugins' grants are written
    /// (`scheme://host[:port]`); a bare host means `https://host`.
    pub fn new(hosts: &[String], max_size: u64, timeout: Duration) -> Result<Self, ImportError> {
        let allowed = hosts
            .iter()
            .map(|h| {
                let text = if h.contains("://") {
                    h.clone()
                } else {
                    format!("https://{h}")
                };
                HostPattern::parse(&text).map_err(ImportError::LinkRefused)
            })
            .collect::<Result<_, _>>()?;
        Ok(LinkPolicy {
            allowed,
            max_size,
            timeout,
        })
    }

    /// `link` parsed and allowed, or why not.
    pub fn check(&self, link: &str) -> Result<url::Url, ImportError> {
        let url = url::Url::parse(link)
            .map_err(|e| ImportError::LinkRefused(format!("the import link is not a URL: {e}")))?;
        let host = url.host_str().unwrap_or_default();
        let port = url.port_or_known_default().unwrap_or(0);
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ImportError::LinkRefused(format!(
                "the import link must be http(s), not {}",
                url.scheme()
            )));
        }
        if !self
            .allowed
            .iter()
            .any(|p| p.matches(url.scheme(), host, port))
        {
            let allowed = if self.allowed.is_empty() {
                "no host is allowed: allow one with `--allow-host` (ferry imports create) or `import_hosts` / `--import-host` (ferry serve)".to_owned()
            } else {
                format!(
                    "allowed: {}",
                    self.allowed
                        .iter()
                        .map(|p| p.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            return Err(ImportError::LinkRefused(format!(
                "import links to {}://{host}:{port} are not allowed ({allowed})",
                url.scheme()
            )));
        }
        Ok(url)
    }
}

/// The link as records and messages show it: without its query and fragment, which may
/// carry a signature or a token.
pub fn shown(url: &url::Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.set_fragment(None);
    let _ = url.set_password(None);
    let _ = url.set_username("");
    url.to_string()
}

/// Fetches `url` (already [checked](LinkPolicy::check)) into `out`; its size.
pub async fn fetch(policy: &LinkPolicy, url: &url::Url, out: &Path) -> Result<u64, ImportError> {
    let shown_url = shown(url);
    let fail = |why: String| ImportError::Link {
        url: shown_url.clone(),
        why,
    };
    let redirects = policy.clone();
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(policy.timeout)
        .redirect(reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 5 {
                attempt.error("more than 5 redirects")
            } else if redirects.check(attempt.url().as_str()).is_err() {
                attempt.error("redirected to a host that is not allowed")
            } else {
                attempt.follow()
            }
        }))
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let why = |e: reqwest::Error| {
        if e.is_timeout() {
            format!("no answer within {}s", policy.timeout.as_secs())
        } else if e.is_redirect() {
            "a redirect went to a host that is not allowed, or too far".to_owned()
        } else if e.is_connect() {
            "cannot connect".to_owned()
        } else {
            // Without the URL, which reqwest's message repeats with its query.
            e.without_url().to_string()
        }
    };
    let mut response = client
        .get(url.clone())
        .send()
        .await
        .map_err(|e| fail(why(e)))?;
    let status = response.status();
    if !status.is_success() {
        return Err(fail(format!("it answered {status}, not the zip")));
    }
    let content_type = response
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("text/html") {
        return Err(fail(
            "it answered an HTML page, not a zip (a sign-in or error page?)".into(),
        ));
    }
    if response
        .content_length()
        .is_some_and(|n| n > policy.max_size)
    {
        return Err(ImportError::TooLarge {
            limit: policy.max_size,
        });
    }
    let mut file = std::fs::File::create(out).map_err(ImportError::io(out))?;
    let mut size = 0u64;
    let mut first = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| fail(why(e)))? {
        size += chunk.len() as u64;
        if size > policy.max_size {
            return Err(ImportError::TooLarge {
                limit: policy.max_size,
            });
        }
        if first.len() < 4 {
            first.extend_from_slice(&chunk[..chunk.len().min(4 - first.len())]);
        }
        file.write_all(&chunk).map_err(ImportError::io(out))?;
    }
    file.sync_all().map_err(ImportError::io(out))?;
    if !first.starts_with(b"PK\x03\x04") && !first.starts_with(b"PK\x05\x06") {
        return Err(fail(format!(
            "it answered {size} bytes{} that are not a zip",
            if content_type.is_empty() {
                String::new()
            } else {
                format!(" of {content_type}")
            }
        )));
    }
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_go_only_where_the_policy_allows_https_by_default() {
        let policy = LinkPolicy::new(
            &["exports.example.com".into(), "http://127.0.0.1:*".into()],
            1 << 20,
            Duration::from_secs(5),
        )
        .unwrap();
        assert!(policy.check("https://exports.example.com/a.zip").is_ok());
        assert!(policy.check("http://exports.example.com/a.zip").is_err());
        assert!(policy.check("http://127.0.0.1:8080/a.zip").is_ok());
        assert!(policy.check("https://evil.example.com/a.zip").is_err());
        assert!(policy.check("file:///etc/passwd").is_err());
        let none = LinkPolicy::new(&[], 1, Duration::from_secs(1)).unwrap();
        let e = none.check("https://exports.example.com/a.zip").unwrap_err();
        assert!(e.to_string().contains("no host is allowed"), "{e}");
    }

    #[test]
    fn a_shown_link_keeps_no_query_or_credentials() {
        let url = url::Url::parse("https://u:p@h.example.com/x.zip?X-Amz-Signature=abc#f").unwrap();
        assert_eq!(shown(&url), "https://h.example.com/x.zip");
    }
}
