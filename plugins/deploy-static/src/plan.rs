//! The deployer's memory and its decisions, apart from any I/O: which nodes a call talks to,
//! what a removed node's answer means, what the plugin remembers afterwards, and the
//! operation's message.
//!
//! The infra's `nodes` setting is the truth. A node the state remembers that is no longer
//! configured was removed: an update tells it to drop the service (`DELETE`) and forgets it
//! once it answered — dropped, or 404 (it did not have it). One that did not answer stays
//! remembered, so the next update tries again and `delete` still reaches it; it never fails
//! the update, whose business is the configured nodes.

use ferry_guest::http::Endpoint;
use ferry_guest::types::Error;
use serde::{Deserialize, Serialize};

use crate::node::Reply;

/// What the plugin remembers between calls: every node that may serve the service — the
/// configured ones, and removed ones that have not dropped it yet.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub nodes: Vec<String>,
}

/// The nodes one call talks to.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The infra's `nodes`: they get the version (`PUT`), or drop the service when the
    /// deployment is disabled. Only they judge the deployment's health.
    pub configured: Vec<Endpoint>,
    /// Remembered but no longer configured: told to drop the service (`DELETE`).
    pub removed: Vec<Endpoint>,
}

impl Plan {
    pub fn new(configured: Vec<Endpoint>, state: &State) -> Plan {
        let mut removed: Vec<Endpoint> = Vec::new();
        for url in &state.nodes {
            // The state holds what `Endpoint::url` wrote, so every entry parses; one that did
            // not could not be reached anyway.
            if let Ok(node) = Endpoint::parse(url)
                && !configured.contains(&node)
                && !removed.contains(&node)
            {
                removed.push(node);
            }
        }
        Plan {
            configured,
            removed,
        }
    }

    /// Every node, configured first.
    pub fn all(&self) -> impl Iterator<Item = &Endpoint> {
        self.configured.iter().chain(&self.removed)
    }

    /// What to remember after an update: every configured node (it serves the version, or
    /// will once back), then each removed node except those in `dropped`.
    pub fn next_state(&self, dropped: &[&Endpoint]) -> State {
        State {
            nodes: self
                .configured
                .iter()
                .chain(self.removed.iter().filter(|n| !dropped.contains(n)))
                .map(Endpoint::url)
                .collect(),
        }
    }
}

/// What a removed node made of being told to drop the service.
#[derive(Debug, Clone, PartialEq)]
pub enum Release {
    /// Dropped it, or did not have it (404): it can be forgotten.
    Dropped,
    /// Down, refusing, or no longer granted by the infra: remembered, tried again next time.
    Pending(String),
}

impl Release {
    /// The meaning of the answer to `DELETE /v1/node/services/{service}`.
    pub fn from_reply(reply: Result<Reply, Error>) -> Release {
        match reply {
            Ok(Reply::Ok(_)) => Release::Dropped,
            Err(e) if e.code == "not_found" => Release::Dropped,
            Ok(Reply::Unreachable(why)) => Release::Pending(format!("unreachable: {why}")),
            Err(e) if e.code == "host_denied" => Release::Pending(format!(
                "{}: the infra no longer grants this host; keep it in the node credential's hosts until the node has dropped the service",
                e.message
            )),
            Err(e) => Release::Pending(e.message),
        }
    }
}

/// `v2 serving on 1 of 2 nodes; http://b unreachable: refused`.
pub fn summary(action: &str, done: &[String], down: &[(String, String)]) -> String {
    let mut message = format!(
        "{action} on {} of {} nodes",
        done.len(),
        done.len() + down.len()
    );
    for (node, why) in down {
        message.push_str(&format!("; {node} unreachable: {why}"));
    }
    message
}

/// What happened on the removed nodes, to append to the summary (empty when there were none).
pub fn release_summary(released: &[(Endpoint, Release)]) -> String {
    let dropped: Vec<String> = released
        .iter()
        .filter(|(_, r)| *r == Release::Dropped)
        .map(|(n, _)| n.url())
        .collect();
    let mut message = String::new();
    if !dropped.is_empty() {
        message.push_str(&format!(
            "; service dropped from removed node{} {}",
            if dropped.len() == 1 { "" } else { "s" },
            dropped.join(", ")
        ));
    }
    for (node, release) in released {
        if let Release::Pending(why) = release {
            message.push_str(&format!(
                "; removed node {} still to drop the service ({why}); the next update tries again",
                node.url()
            ));
        }
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(url: &str) -> Endpoint {
        Endpoint::parse(url).unwrap()
    }

    fn state(urls: &[&str]) -> State {
        State {
            nodes: urls.iter().map(|u| u.to_string()).collect(),
        }
    }

    #[test]
    fn configured_nodes_get_the_version_and_remembered_others_are_told_to_drop_it() {
        let plan = Plan::new(
            vec![node("http://a:1"), node("http://c:3")],
            &state(&["http://a:1", "http://b:2"]),
        );
        assert_eq!(plan.configured, [node("http://a:1"), node("http://c:3")]);
        assert_eq!(plan.removed, [node("http://b:2")]);
        assert_eq!(
            plan.all().map(Endpoint::url).collect::<Vec<_>>(),
            ["http://a:1", "http://c:3", "http://b:2"]
        );
        // A first update remembers nothing: nothing to drop.
        let first = Plan::new(vec![node("http://a:1")], &State::default());
        assert!(first.removed.is_empty());
        // The same node written another way is still configured, not removed.
        let same = Plan::new(vec![node("http://a:1/")], &state(&["http://a:1"]));
        assert!(same.removed.is_empty(), "{same:?}");
    }

    #[test]
    fn a_removed_node_is_forgotten_once_it_answered_and_remembered_while_it_did_not() {
        let plan = Plan::new(
            vec![node("http://a:1")],
            &state(&["http://a:1", "http://b:2", "http://c:3"]),
        );
        let b = node("http://b:2");
        // b answered, c did not: a (configured) and c remain.
        assert_eq!(plan.next_state(&[&b]), state(&["http://a:1", "http://c:3"]));
        assert_eq!(
            plan.next_state(&[]),
            state(&["http://a:1", "http://b:2", "http://c:3"])
        );
        // A new configured node is remembered from the first push on, reached or not.
        let grown = Plan::new(
            vec![node("http://a:1"), node("http://d:4")],
            &state(&["http://a:1"]),
        );
        assert_eq!(grown.next_state(&[]), state(&["http://a:1", "http://d:4"]));
    }

    #[test]
    fn deleted_or_not_there_is_dropped_anything_else_is_tried_again() {
        let err = |code: &str, message: &str| Err(ferry_guest::error(code, message));
        assert_eq!(
            Release::from_reply(Ok(Reply::Ok(serde_json::json!({"undeployed": "churn"})))),
            Release::Dropped
        );
        assert_eq!(
            Release::from_reply(err("not_found", "node http://b answered 404")),
            Release::Dropped
        );
        assert_eq!(
            Release::from_reply(Ok(Reply::Unreachable("connection refused".into()))),
            Release::Pending("unreachable: connection refused".into())
        );
        assert_eq!(
            Release::from_reply(err("unauthorized", "node http://b answered 401: no key")),
            Release::Pending("node http://b answered 401: no key".into())
        );
        let Release::Pending(why) = Release::from_reply(err("host_denied", "DELETE http://b"))
        else {
            panic!("a denied node is not dropped");
        };
        assert!(why.contains("no longer grants this host"), "{why}");
    }

    #[test]
    fn summaries_name_the_unreachable_and_the_removed_nodes() {
        assert_eq!(
            summary(
                "v2 serving",
                &["http://a".into()],
                &[("http://b".into(), "refused".into())]
            ),
            "v2 serving on 1 of 2 nodes; http://b unreachable: refused"
        );
        assert_eq!(release_summary(&[]), "");
        assert_eq!(
            release_summary(&[
                (node("http://b:2"), Release::Dropped),
                (
                    node("http://c:3"),
                    Release::Pending("unreachable: refused".into())
                ),
                (node("http://d:4"), Release::Dropped),
            ]),
            "; service dropped from removed nodes http://b:2, http://d:4; removed node http://c:3 still to drop the service (unreachable: refused); the next update tries again"
        );
    }
}
