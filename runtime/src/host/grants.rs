//! A step's or an infra's outbound grants as written, parsed and judged before any secret is
//! looked up: what `ferry validate` and `ferry infras apply` can refuse from the file alone.
//!
//! Two rules come on top of the patterns parsing:
//! - one host, one credential: two credentials whose host patterns can match the same request
//!   would leave the order of the grants to decide which one signs it (S3 and SageMaker behind
//!   one emulator port, each with its own `aws` credential, had SageMaker calls signed as S3);
//! - an endpoint a plugin is told to use (`endpoint`, `*_endpoint`, `nodes` settings) must be
//!   on a granted host, or every request the plugin makes there is refused at run time.

use std::collections::BTreeMap;

use super::outbound::GrantProblem;
use super::pattern::{HostPattern, default_port};

/// The parsed grants: hosts allowed as they are, and each credential's hosts.
#[derive(Debug, Default)]
pub struct HostGrants {
    pub allowed: Vec<HostPattern>,
    pub credentials: Vec<(String, Vec<HostPattern>)>,
}

impl HostGrants {
    /// Parses the patterns of `hosts` and of each `(credential, its hosts)` grant, and finds
    /// credentials that share a host. Every problem is returned, with the grants that parsed.
    pub fn parse(
        hosts: &[String],
        grants: &[(&str, &[String])],
    ) -> (HostGrants, Vec<GrantProblem>) {
        let mut problems = Vec::new();
        let mut patterns = |texts: &[String]| -> Vec<HostPattern> {
            texts
                .iter()
                .filter_map(|t| {
                    HostPattern::parse(t)
                        .map_err(|m| problems.push(GrantProblem::Pattern(m)))
                        .ok()
                })
                .collect()
        };
        let allowed = patterns(hosts);
        let credentials: Vec<(String, Vec<HostPattern>)> = grants
            .iter()
            .map(|(name, hosts)| (name.to_string(), patterns(hosts)))
            .collect();
        for (i, (first, first_hosts)) in credentials.iter().enumerate() {
            for (second, second_hosts) in &credentials[i + 1..] {
                // The same credential granted twice signs every request the same way.
                if first == second {
                    continue;
                }
                let shared = first_hosts.iter().find_map(|a| {
                    second_hosts
                        .iter()
                        .find(|b| a.overlaps(b))
                        .map(|b| (a.to_string(), b.to_string()))
                });
                if let Some((first_host, second_host)) = shared {
                    problems.push(GrantProblem::Overlap {
                        first: first.clone(),
                        first_host,
                        second: second.clone(),
                        second_host,
                    });
                }
            }
        }
        (
            HostGrants {
                allowed,
                credentials,
            },
            problems,
        )
    }

    /// Whether a request to `scheme://host:port` is granted, plainly or with a credential.
    pub fn covers(&self, scheme: &str, host: &str, port: u16) -> bool {
        self.allowed
            .iter()
            .chain(self.credentials.iter().flat_map(|(_, hosts)| hosts))
            .any(|p| p.matches(scheme, host, port))
    }

    /// The endpoint settings (as plugins receive them) whose host is not granted.
    pub fn ungranted_endpoints(&self, settings: &BTreeMap<String, String>) -> Vec<GrantProblem> {
        endpoint_urls(settings)
            .into_iter()
            .filter_map(|(setting, url)| {
                let (scheme, host, port) = authority(&url)?;
                (!self.covers(&scheme, &host, port)).then(|| GrantProblem::Endpoint {
                    setting,
                    url,
                    host: format!("{scheme}://{host}:{port}"),
                })
            })
            .collect()
    }
}

/// Whether a setting names where a plugin sends requests: `endpoint`, `s3_endpoint`,
/// `gcs_endpoint`, … and the nodes of a static infra.
fn is_endpoint_setting(key: &str) -> bool {
    key == "endpoint" || key.ends_with("_endpoint") || key == "nodes"
}

/// `(setting, url)` for each URL an endpoint setting holds: the value itself, or each string
/// of a list (which plugins receive as JSON text).
fn endpoint_urls(settings: &BTreeMap<String, String>) -> Vec<(String, String)> {
    let mut urls = Vec::new();
    for (key, value) in settings.iter().filter(|(k, _)| is_endpoint_setting(k)) {
        match serde_json::from_str::<Vec<String>>(value) {
            Ok(list) => urls.extend(list.into_iter().map(|u| (key.clone(), u))),
            Err(_) => urls.push((key.clone(), value.clone())),
        }
    }
    urls
}

/// Scheme, host and port of an `http(s)://` URL; `None` for anything else, which the plugin
/// refuses with its own message.
fn authority(url: &str) -> Option<(String, String, u16)> {
    let uri: http::Uri = url.parse().ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let host = uri.host()?.to_ascii_lowercase();
    let port = uri.port_u16().or(default_port(&scheme))?;
    Some((scheme, host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(name: &str, hosts: &[&str]) -> (String, Vec<String>) {
        (name.into(), hosts.iter().map(|h| h.to_string()).collect())
    }

    /// [`HostGrants::parse`] on grants given as owned pairs.
    fn parse(
        hosts: &[String],
        grants: &[(String, Vec<String>)],
    ) -> (HostGrants, Vec<GrantProblem>) {
        let pairs: Vec<(&str, &[String])> = grants
            .iter()
            .map(|(n, h)| (n.as_str(), h.as_slice()))
            .collect();
        HostGrants::parse(hosts, &pairs)
    }

    #[test]
    fn two_credentials_for_one_host_are_refused_by_name() {
        let (_, problems) = parse(
            &[],
            &[
                grant("aws-s3", &["http://127.0.0.1:5000"]),
                grant("aws-sm", &["http://127.0.0.1:5000"]),
                grant("nodes", &["http://127.0.0.1:8081"]),
            ],
        );
        let messages: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(messages.len(), 1, "{messages:?}");
        for needle in ["`aws-s3`", "`aws-sm`", "http://127.0.0.1:5000", "services"] {
            assert!(messages[0].contains(needle), "{needle}: {}", messages[0]);
        }
        assert_eq!(problems[0].key(), "credentials");

        let (_, problems) = parse(
            &[],
            &[
                grant("wide", &["http://127.0.0.1:*"]),
                grant("narrow", &["http://localhost:1", "http://127.0.0.1:9000"]),
            ],
        );
        let message = problems[0].to_string();
        assert!(
            message.contains("`wide` for http://127.0.0.1:*")
                && message.contains("`narrow` for http://127.0.0.1:9000"),
            "{message}"
        );
        // Separate hosts, or one credential granted twice, are fine.
        let (_, problems) = parse(
            &["http://127.0.0.1:5000".into()],
            &[
                grant("s3", &["http://127.0.0.1:9000"]),
                grant("sm", &["http://127.0.0.1:5000"]),
                grant("s3", &["http://127.0.0.1:9000"]),
            ],
        );
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn endpoints_must_be_on_a_granted_host() {
        let (grants, _) = parse(
            &["http://127.0.0.1:4443".into()],
            &[grant("aws", &["http://127.0.0.1:5000"])],
        );
        let settings: BTreeMap<String, String> = [
            ("endpoint", "http://127.0.0.1:5000"),
            ("s3_endpoint", "http://127.0.0.1:5001/base"),
            ("gcs_endpoint", "http://127.0.0.1:4443"),
            (
                "nodes",
                r#"["http://127.0.0.1:4443", "https://node.example.com"]"#,
            ),
            ("bucket", "http://not-an-endpoint"),
            ("endpoint_style", "path"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let found: Vec<(String, String)> = grants
            .ungranted_endpoints(&settings)
            .into_iter()
            .map(|p| match p {
                GrantProblem::Endpoint { setting, host, .. } => (setting, host),
                other => panic!("{other}"),
            })
            .collect();
        assert_eq!(
            found,
            [
                (
                    "nodes".to_owned(),
                    "https://node.example.com:443".to_owned()
                ),
                ("s3_endpoint".to_owned(), "http://127.0.0.1:5001".to_owned()),
            ]
        );
    }
}
