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

    /// Whether some request could match both patterns: a scheme both allow, on a port both
    /// allow for that scheme, to a host both match. Two credentials granted for overlapping
    /// patterns leave it to the order of the grants which one signs a request, so grants that
    /// overlap are refused.
    pub fn overlaps(&self, other: &HostPattern) -> bool {
        let ports_meet = |scheme: &str| {
            let port = |p: PortPattern| match p {
                PortPattern::Any => None,
                PortPattern::Default => default_port(scheme),
                PortPattern::Exact(n) => Some(n),
            };
            match (port(self.port), port(other.port)) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
        };
        ["http", "https"].iter().any(|scheme| {
            let allows = |p: &HostPattern| p.scheme.as_deref().is_none_or(|s| s == *scheme);
            allows(self) && allows(other) && ports_meet(scheme)
        }) && wildcards_meet(&self.host, &other.host)
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

/// Whether some text matches both wildcard patterns (`*` is one or more characters).
///
/// Each `*` is read as one character of any kind followed by any run of them, and the two
/// patterns are walked together: a state is a position in each, and the text exists when
/// both ends can be reached.
fn wildcards_meet(a: &str, b: &str) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum Token {
        Char(char),
        /// Exactly one character, whatever it is.
        One,
        /// Any run of characters, the empty one included.
        Run,
    }
    let tokens = |p: &str| -> Vec<Token> {
        p.chars()
            .flat_map(|c| match c {
                '*' => vec![Token::One, Token::Run],
                c => vec![Token::Char(c)],
            })
            .collect()
    };
    let (a, b) = (tokens(a), tokens(b));
    let mut seen = vec![vec![false; b.len() + 1]; a.len() + 1];
    let mut todo = vec![(0, 0)];
    while let Some((i, j)) = todo.pop() {
        if std::mem::replace(&mut seen[i][j], true) {
            continue;
        }
        if (i, j) == (a.len(), b.len()) {
            return true;
        }
        let (x, y) = (a.get(i).copied(), b.get(j).copied());
        let mut next = Vec::new();
        // A run may end here, or take the other side's next character.
        if x == Some(Token::Run) {
            next.push((i + 1, j));
            if y.is_some_and(|t| t != Token::Run) {
                next.push((i, j + 1));
            }
        }
        if y == Some(Token::Run) {
            next.push((i, j + 1));
            if x.is_some_and(|t| t != Token::Run) {
                next.push((i + 1, j));
            }
        }
        // One character on each side.
        if let (Some(x), Some(y)) = (x, y)
            && x != Token::Run
            && y != Token::Run
            && (x == Token::One || y == Token::One || x == y)
        {
            next.push((i + 1, j + 1));
        }
        todo.extend(next.into_iter().filter(|&(i, j)| !seen[i][j]));
    }
    false
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
    fn overlaps_when_one_request_could_match_both() {
        let meet = |a: &str, b: &str| {
            let (a, b) = (p(a), p(b));
            assert_eq!(a.overlaps(&b), b.overlaps(&a), "{a} vs {b}: not symmetric");
            a.overlaps(&b)
        };
        assert!(meet("http://127.0.0.1:5000", "http://127.0.0.1:5000"));
        assert!(meet("http://127.0.0.1:*", "http://127.0.0.1:5000"));
        assert!(meet("*://127.0.0.1:5000", "http://127.0.0.1:5000"));
        assert!(meet("http://127.0.0.1", "http://127.0.0.1:80"));
        assert!(meet("*://localhost", "https://localhost:443"));
        assert!(meet(
            "https://*.amazonaws.com",
            "https://s3.us-east-1.amazonaws.com"
        ));
        assert!(meet(
            "https://*.s3.*.amazonaws.com",
            "https://*.eu-west-1.*"
        ));
        assert!(meet("https://a*", "https://*b"));

        assert!(!meet("http://127.0.0.1:5000", "http://127.0.0.1:5001"));
        assert!(!meet("http://127.0.0.1:5000", "https://127.0.0.1:5000"));
        assert!(!meet("http://127.0.0.1", "http://127.0.0.1:443"));
        assert!(!meet("http://127.0.0.1:*", "http://localhost:*"));
        assert!(!meet(
            "https://s3.us-east-1.amazonaws.com",
            "https://api.sagemaker.us-east-1.amazonaws.com"
        ));
        // `*` is at least one character.
        assert!(!meet("https://*.example.com", "https://.example.com"));
        assert!(!meet("https://*.example.com", "https://example.com"));
        assert!(!meet("https://a*c", "https://ab"));
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
