//! What a status check makes of the nodes' answers, apart from any I/O. The health is judged
//! on the configured nodes alone — the infra's `nodes` are the truth — while a removed node
//! still remembered (it has not dropped the service yet) is listed too, as `removing`, so the
//! detailed status shows every node that may still answer for the service.

use ferry_guest::http::Endpoint;
use ferry_guest::types::Error;

use crate::exports::ferry::plugin::deployer::{CloudResource, Health, Observed};
use crate::node::{Reply, public_url};

/// The status of a removed node, whatever it answered.
pub const REMOVING: &str = "removing";

/// What a node said when asked what it serves (`GET /v1/node/services`).
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// The versions of the service it serves (none: it does not serve it).
    Serving(Vec<String>),
    Unreachable(String),
    /// An error answer, or a request the host did not let out.
    Failed(String),
}

impl Answer {
    /// The meaning of the answer to `GET /v1/node/services` for `service`.
    pub fn from_reply(reply: Result<Reply, Error>, service: &str) -> Answer {
        match reply {
            Ok(Reply::Ok(body)) => Answer::Serving(
                body["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|i| i["service"] == service)
                    .filter_map(|i| i["version"].as_str().map(str::to_owned))
                    .collect(),
            ),
            Ok(Reply::Unreachable(why)) => Answer::Unreachable(why),
            Err(e) => Answer::Failed(e.message),
        }
    }

    fn versions(&self) -> &[String] {
        match self {
            Answer::Serving(v) => v,
            _ => &[],
        }
    }
}

/// The observed state from what each configured and each removed node answered; `wanted` is
/// the version to serve (`None`: disabled).
pub fn judge(
    service: &str,
    wanted: Option<&str>,
    configured: &[(Endpoint, Answer)],
    removed: &[(Endpoint, Answer)],
) -> Observed {
    let mut resources = Vec::new();
    let mut messages = Vec::new();
    let mut right = 0;
    for (node, answer) in configured {
        let (status, message) = match answer {
            Answer::Serving(v) => match v.first() {
                Some(v) => (format!("serving {v}"), None),
                None => ("not serving".to_owned(), None),
            },
            Answer::Unreachable(why) => ("unreachable".to_owned(), Some(why.clone())),
            Answer::Failed(why) => ("error".to_owned(), Some(why.clone())),
        };
        let versions = answer.versions();
        let ok = match wanted {
            Some(w) => versions.iter().any(|v| v == w),
            None => versions.is_empty(),
        };
        if ok {
            right += 1;
        } else {
            messages.push(format!(
                "node {}: {status}{}",
                node.url(),
                message
                    .as_deref()
                    .map(|m| format!(" ({m})"))
                    .unwrap_or_default()
            ));
        }
        resources.push(CloudResource {
            kind: "node".into(),
            name: node.url(),
            status,
            versions: versions.to_vec(),
            url: Some(public_url(node, service)),
            message,
        });
    }
    for (node, answer) in removed {
        let message = match answer {
            Answer::Serving(v) if v.is_empty() => {
                "removed from the infra's nodes; no longer serves the service (forgotten by the next update)".to_owned()
            }
            Answer::Serving(v) => format!(
                "removed from the infra's nodes, still serving {}; the next update drops the service there",
                v.join(", ")
            ),
            Answer::Unreachable(why) => format!(
                "removed from the infra's nodes, unreachable ({why}); the next update tries again to drop the service there"
            ),
            Answer::Failed(why) => format!(
                "removed from the infra's nodes, cannot be checked ({why}); the next update tries again to drop the service there"
            ),
        };
        if !matches!(answer, Answer::Serving(v) if v.is_empty()) {
            messages.push(format!("node {}: {message}", node.url()));
        }
        resources.push(CloudResource {
            kind: "node".into(),
            name: node.url(),
            status: REMOVING.to_owned(),
            versions: answer.versions().to_vec(),
            // Clients are not to be sent there.
            url: None,
            message: Some(message),
        });
    }
    let total = configured.len();
    let health = match (wanted, right) {
        (None, r) if r == total => Health::Disabled,
        (None, _) => Health::Degraded,
        (Some(_), r) if r == total => Health::Healthy,
        (Some(_), 0) => Health::Unhealthy,
        (Some(_), _) => Health::Degraded,
    };
    // What answers requests now, removed nodes included: a version one of them still serves
    // is in use.
    let mut serving: Vec<String> = Vec::new();
    for v in configured
        .iter()
        .chain(removed)
        .flat_map(|(_, a)| a.versions())
    {
        if !serving.contains(v) {
            serving.push(v.clone());
        }
    }
    let urls = match wanted {
        Some(_) => resources.iter().filter_map(|r| r.url.clone()).collect(),
        None => Vec::new(),
    };
    Observed {
        health,
        messages,
        serving,
        urls,
        resources,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(url: &str) -> Endpoint {
        Endpoint::parse(url).unwrap()
    }

    fn serving(v: &[&str]) -> Answer {
        Answer::Serving(v.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn a_removed_node_is_listed_as_removing_but_does_not_judge_the_health() {
        let configured = [(node("http://a:1"), serving(&["v2"]))];
        for answer in [
            serving(&["v1"]),
            serving(&[]),
            Answer::Unreachable("connection refused".into()),
            Answer::Failed("node http://b:2 answered 401".into()),
        ] {
            let removed = [(node("http://b:2"), answer.clone())];
            let o = judge("churn", Some("v2"), &configured, &removed);
            assert_eq!(o.health, Health::Healthy, "{answer:?}");
            assert_eq!(o.urls, ["http://a:1/public/api/v1/churn/"]);
            let b = &o.resources[1];
            assert_eq!(
                (b.name.as_str(), b.status.as_str(), b.url.as_deref()),
                ("http://b:2", "removing", None)
            );
            assert!(
                b.message
                    .as_deref()
                    .unwrap()
                    .contains("removed from the infra"),
                "{b:?}"
            );
            // Said in the messages unless it is already clear of the service.
            assert_eq!(
                o.messages.len(),
                usize::from(answer != serving(&[])),
                "{o:?}"
            );
        }
        let o = judge(
            "churn",
            Some("v2"),
            &configured,
            &[(node("http://b:2"), serving(&["v1"]))],
        );
        assert_eq!(o.serving, ["v2", "v1"], "what b still serves is in use");
        assert_eq!(o.resources[1].versions, ["v1"]);
        assert!(
            o.messages[0].contains("still serving v1"),
            "{:?}",
            o.messages
        );
    }

    #[test]
    fn configured_nodes_judge_the_health() {
        let a = node("http://a:1");
        let b = node("http://b:2");
        let o = judge(
            "churn",
            Some("v2"),
            &[
                (a.clone(), serving(&["v2"])),
                (b.clone(), Answer::Unreachable("refused".into())),
            ],
            &[],
        );
        assert_eq!(o.health, Health::Degraded);
        assert_eq!(o.messages, ["node http://b:2: unreachable (refused)"]);
        assert_eq!(o.resources[1].status, "unreachable");
        let o = judge(
            "churn",
            Some("v2"),
            &[(a.clone(), serving(&["v1"]))],
            &[(b.clone(), serving(&["v2"]))],
        );
        assert_eq!(
            o.health,
            Health::Unhealthy,
            "a removed node serving it does not count"
        );
        let o = judge(
            "churn",
            None,
            &[(a.clone(), serving(&[]))],
            &[(b, serving(&["v2"]))],
        );
        assert_eq!(o.health, Health::Disabled);
        assert!(o.urls.is_empty());
        let o = judge("churn", None, &[(a, serving(&["v2"]))], &[]);
        assert_eq!(o.health, Health::Degraded);
    }

    #[test]
    fn answers_are_read_for_the_service() {
        let body = serde_json::json!({"items": [
            {"service": "other", "version": "v9"},
            {"service": "churn", "version": "v2"},
        ]});
        assert_eq!(
            Answer::from_reply(Ok(Reply::Ok(body)), "churn"),
            serving(&["v2"])
        );
        assert_eq!(
            Answer::from_reply(Ok(Reply::Ok(serde_json::json!({"items": []}))), "churn"),
            serving(&[])
        );
        assert_eq!(
            Answer::from_reply(Err(ferry_guest::error("host_denied", "denied")), "churn"),
            Answer::Failed("denied".into())
        );
    }
}
