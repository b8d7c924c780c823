//! Outbound host patterns as steps grant them: `scheme://host[:port]`, where `*` in the host
//! matches any run of characters, dots included (`https://*.s3.*.amazonaws.com` matches
//! `https://logs.s3.eu-west-1.amazonaws.com`), and a port is a number or `*`. A pattern without
//! a port means the scheme's default port, as a URL would.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern {
    text: String,
    scheme: Option<String>,
    host: String,
    port: PortPattern,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PortPattern {
    Any,
    Default,
    Exact(u16),
}

impl HostPattern {
    pub fn parse(text: &str) -> Result<HostPattern, String> {
        let explain = |why: &str| {
            format!(
                "host pattern `{text}` {why}; write it as scheme://host[:port], for example `https://*.s3.*.amazonaws.com` or `http://127.0.0.1:*`"
            )
        };
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| explain("has no scheme"))?;
        let scheme = match scheme {
            "*" => None,
            "http" | "https" => Some(scheme.to_owned()),
            _ => return Err(explain("has a scheme other than http, https or *")),
        };
        if rest.contains(['/', '?', '#', '@']) {
            return Err(explain("has a path, query or user part"));
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, "*")) => (h, PortPattern::Any),
            Some((h, p)) => (
                h,
                PortPattern::Exact(p.parse().map_err(|_| explain("has an invalid port"))?),
            ),
            None => (rest, PortPattern::Default),
        };
        if host.is_empty()
            || !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '*' | '_'))
        {
            return Err(explain("has an invalid host"));
        }
        Ok(HostPattern {
            text: text.to_owned(),
            scheme,
            host: host.to_ascii_lowercase(),
            port,
        })
    }

    /// Whether a request to `scheme://host:port` is covered.
    pub fn matches(&self, scheme: &str, host: &str, port: u16) -> bool {
        if self.scheme.as_deref().is_some_and(|s| s != scheme) {
            return false;
        }
        let port_ok = match self.port {
            PortPattern::Any => true,
            PortPattern::Exact(p) => p == port,
            PortPattern::Default => default_port(scheme) == Some(port),
        };
        port_ok && wildcard(&self.host, &host.to_ascii_lowercase())
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

pub fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

/// `*` matches one or more characters.
fn wildcard(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, tail)) => {
            let Some(rest) = text.strip_prefix(head) else {
                return false;
            };
            (1..=rest.len()).any(|i| rest.is_char_boundary(i) && wildcard(tail, &rest[i..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> HostPattern {
        HostPattern::parse(s).unwrap()
    }

    #[test]
    fn multi_label_wildcards() {
        let s3 = p("https://*.s3.*.amazonaws.com");
        assert!(s3.matches("https", "logs.s3.eu-west-1.amazonaws.com", 443));
        assert!(s3.matches("https", "a.b.s3.us-east-1.amazonaws.com", 443));
        assert!(!s3.matches("https", "s3.us-east-1.amazonaws.com", 443));
        assert!(!s3.matches("http", "logs.s3.eu-west-1.amazonaws.com", 80));
        assert!(!s3.matches("https", "logs.s3.eu-west-1.amazonaws.com.evil.net", 443));
        assert!(!s3.matches("https", "logs.s3.eu-west-1.amazonaws.com", 8443));
    }

    #[test]
    fn ports() {
        assert!(p("http://127.0.0.1:*").matches("http", "127.0.0.1", 9000));
        assert!(p("http://127.0.0.1:9000").matches("http", "127.0.0.1", 9000));
        assert!(!p("http://127.0.0.1:9000").matches("http", "127.0.0.1", 9001));
        assert!(p("https://storage.googleapis.com").matches(
            "https",
            "storage.googleapis.com",
            443
        ));
        assert!(p("*://localhost:*").matches("http", "LOCALHOST", 1));
    }

    #[test]
    fn refuses_what_is_not_a_host_pattern() {
        for bad in [
            "127.0.0.1",
            "ftp://x",
            "http://x/path",
            "http://x:port",
            "http://",
            "http://a b",
        ] {
            let e = HostPattern::parse(bad).unwrap_err();
            assert!(e.contains(bad), "{e}");
        }
    }
}
