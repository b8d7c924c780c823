//! `deploy-static`: serves a service on a fixed set of ferry API nodes (`ferry serve`
//! processes), as Dataiku's STATIC infrastructures do. `apply` pushes the version's package to
//! every node (`PUT /v1/node/services/{service}`; each node verifies it and swaps it in
//! atomically), disabling removes it (`DELETE`), `status` asks every node what it serves.
//!
//! A node that cannot be reached does not fail the operation as long as one node took the
//! package: the deployment is DEGRADED until the node is back and serves the version again.
//! The node admin key is a credential the infra grants for the nodes' hosts; the host adds it
//! to each request, the plugin never sees it.
//!
//! Settings: `nodes` (required, a list of base URLs, `["http://10.0.0.5:8080", …]`);
//! `retries` (attempts per request, default 2: a node that is down is reported, not waited on).

use ferry_guest::deploy::{Operation, Target};
use ferry_guest::http::{self, Endpoint, Method, Request, Retry};
use ferry_guest::types::Error;
use ferry_guest::{Settings, error};
use serde::{Deserialize, Serialize};

wit_bindgen::generate!({
    world: "deployer-plugin",
    path: "../../wit",
    with: {
        "ferry:plugin/types@0.1.0": ferry_guest::types,
        "ferry:plugin/host@0.1.0": ferry_guest::host,
        "ferry:plugin/deployer@0.1.0/version-ref": ferry_guest::deploy::VersionRef,
        "ferry:plugin/deployer@0.1.0/target": ferry_guest::deploy::Target,
        "ferry:plugin/deployer@0.1.0/operation": ferry_guest::deploy::Operation,
    },
});

use exports::ferry::plugin::deployer::{CloudResource, Guest, Health, Observed};

/// What the plugin remembers: every node it ever pushed to, so that removing the deployment
/// reaches nodes since dropped from the settings too.
#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    nodes: Vec<String>,
}

struct Nodes {
    nodes: Vec<Endpoint>,
    retry: Retry,
}

impl Nodes {
    fn from_settings() -> Result<Nodes, Error> {
        let s = Settings::load(&["nodes", "retries"])?;
        let text = s
            .string("nodes")
            .ok_or_else(|| error("invalid_setting", "the `nodes` setting is required"))?;
        let urls: Vec<String> = serde_json::from_str(text).map_err(|_| {
            error(
                "invalid_setting",
                "`nodes` must be a list of URLs, for example [\"http://10.0.0.5:8080\"]",
            )
        })?;
        if urls.is_empty() {
            return Err(error("invalid_setting", "`nodes` lists no node"));
        }
        let nodes = urls
            .iter()
            .map(|u| Endpoint::parse(u).map_err(|m| error("invalid_setting", m)))
            .collect::<Result<_, _>>()?;
        Ok(Nodes {
            nodes,
            retry: Retry {
                attempts: s.positive("retries")?.unwrap_or(2) as u32,
                ..Retry::default()
            },
        })
    }

    /// The configured nodes, then any others the state remembers.
    fn with_remembered(&self, state: &State) -> Vec<Endpoint> {
        let mut all = self.nodes.clone();
        for url in &state.nodes {
            if let Ok(e) = Endpoint::parse(url)
                && !all.contains(&e)
            {
                all.push(e);
            }
        }
        all
    }
}

/// What one node said.
enum Reply {
    Ok(serde_json::Value),
    /// Down or not answering: DEGRADED, not failed.
    Unreachable(String),
}

fn call(node: &Endpoint, request: Request, retry: &Retry) -> Result<Reply, Error> {
    let response = match http::send_with_retry(&request, retry) {
        Ok(r) => r,
        Err(e) if e.code == "unreachable" => return Ok(Reply::Unreachable(e.message)),
        Err(e) => return Err(e),
    };
    if response.is_success() {
        return Ok(Reply::Ok(
            serde_json::from_slice(&response.body).unwrap_or_default(),
        ));
    }
    // The node's own error: {"error":{"code","message"}}.
    let body: serde_json::Value = serde_json::from_slice(&response.body).unwrap_or_default();
    let code = body["error"]["code"].as_str().unwrap_or("node_error");
    let message = body["error"]["message"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| http::excerpt(&response.text()));
    Err(error(
        code,
        format!(
            "node {} answered {}: {message}",
            node.url(),
            response.status
        ),
    ))
}

fn service_path(target: &Target) -> String {
    format!("/v1/node/services/{}", http::encode(&target.service, false))
}

fn summary(action: &str, done: &[String], down: &[(String, String)]) -> String {
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

struct StaticDeployer;

impl Guest for StaticDeployer {
    fn apply(target: Target) -> Result<Operation, Error> {
        let nodes = Nodes::from_settings()?;
        let mut state: State = target.state()?;
        let version = target.single_version("static nodes")?;
        let body = match version {
            Some(v) => Some(std::fs::read(&v.archive).map_err(|e| {
                error(
                    "package_unreadable",
                    format!("cannot read {}: {e}", v.archive),
                )
            })?),
            None => None,
        };
        let (mut done, mut down) = (Vec::new(), Vec::new());
        for node in nodes.with_remembered(&state) {
            let request = match &body {
                Some(zip) => Request::new(Method::Put, &node, service_path(&target))
                    .body("application/zip", zip.clone()),
                None => Request::new(Method::Delete, &node, service_path(&target)),
            };
            match call(&node, request, &nodes.retry) {
                Ok(Reply::Ok(_)) => done.push(node.url()),
                Ok(Reply::Unreachable(why)) => down.push((node.url(), why)),
                // Disabling a node that does not serve the service: nothing to do.
                Err(e) if body.is_none() && e.code == "not_found" => done.push(node.url()),
                Err(e) => return Err(e),
            }
        }
        let pushed_somewhere = !done.is_empty();
        for url in nodes.nodes.iter().map(Endpoint::url) {
            if !state.nodes.contains(&url) {
                state.nodes.push(url);
            }
        }
        let message = match version {
            Some(v) => summary(&format!("{} serving", v.version), &done, &down),
            None => summary("service removed", &done, &down),
        };
        if body.is_some() && !pushed_somewhere {
            return Err(error(
                "unreachable",
                format!("no node took the package: {message}"),
            ));
        }
        Ok(Operation::done(message, &state))
    }

    fn poll(_target: Target, operation: Operation) -> Result<Operation, Error> {
        // Pushes finish within `apply`.
        Ok(operation)
    }

    fn status(target: Target) -> Result<Observed, Error> {
        let nodes = Nodes::from_settings()?;
        let state: State = target.state()?;
        let wanted = target
            .single_version("static nodes")?
            .map(|v| v.version.clone());
        let mut resources = Vec::new();
        let mut messages = Vec::new();
        let mut serving = Vec::new();
        let (mut right, mut total) = (0, 0);
        for node in nodes.with_remembered(&state) {
            total += 1;
            let request = Request::new(Method::Get, &node, "/v1/node/services".into());
            let url = format!(
                "{}/public/api/v1/{}/",
                node.url(),
                http::encode(&target.service, false)
            );
            let (status, versions, message) = match call(&node, request, &nodes.retry) {
                Ok(Reply::Ok(body)) => {
                    let versions: Vec<String> = body["items"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter(|i| i["service"] == target.service.as_str())
                        .filter_map(|i| i["version"].as_str().map(str::to_owned))
                        .collect();
                    let status = match versions.first() {
                        Some(v) => format!("serving {v}"),
                        None => "not serving".to_owned(),
                    };
                    (status, versions, None)
                }
                Ok(Reply::Unreachable(why)) => ("unreachable".to_owned(), Vec::new(), Some(why)),
                Err(e) => ("error".to_owned(), Vec::new(), Some(e.message)),
            };
            let ok = match &wanted {
                Some(w) => versions.contains(w),
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
            for v in &versions {
                if !serving.contains(v) {
                    serving.push(v.clone());
                }
            }
            resources.push(CloudResource {
                kind: "node".into(),
                name: node.url(),
                status,
                versions,
                url: Some(url),
                message,
            });
        }
        let health = match (&wanted, right) {
            (None, r) if r == total => Health::Disabled,
            (None, _) => Health::Degraded,
            (Some(_), r) if r == total => Health::Healthy,
            (Some(_), 0) => Health::Unhealthy,
            (Some(_), _) => Health::Degraded,
        };
        let urls = match wanted {
            Some(_) => resources.iter().filter_map(|r| r.url.clone()).collect(),
            None => Vec::new(),
        };
        Ok(Observed {
            health,
            messages,
            serving,
            urls,
            resources,
        })
    }

    /// Removes the service from every node. A configured node that cannot be reached fails
    /// the delete (it would serve again when back, with nothing left to remember it); a node
    /// only remembered from earlier settings is taken for decommissioned.
    fn delete(target: Target) -> Result<Operation, Error> {
        let nodes = Nodes::from_settings()?;
        let state: State = target.state()?;
        let (mut done, mut blocking, mut skipped) = (Vec::new(), Vec::new(), Vec::new());
        for node in nodes.with_remembered(&state) {
            let request = Request::new(Method::Delete, &node, service_path(&target));
            match call(&node, request, &nodes.retry) {
                Ok(Reply::Ok(_)) => done.push(node.url()),
                Err(e) if e.code == "not_found" => done.push(node.url()),
                Ok(Reply::Unreachable(why)) if nodes.nodes.contains(&node) => {
                    blocking.push((node.url(), why))
                }
                Ok(Reply::Unreachable(why)) => skipped.push((node.url(), why)),
                Err(e) => return Err(e),
            }
        }
        if !blocking.is_empty() {
            return Err(error(
                "unreachable",
                format!(
                    "{}; delete again once the node is back (or remove it from the infra's nodes)",
                    summary("service not removed", &done, &blocking)
                ),
            ));
        }
        let mut removed = Operation::done(summary("service removed", &done, &skipped), &state);
        removed.state = String::new();
        Ok(removed)
    }
}

export!(StaticDeployer);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_name_the_unreachable_nodes() {
        assert_eq!(
            summary(
                "v2 serving",
                &["http://a".into()],
                &[("http://b".into(), "refused".into())]
            ),
            "v2 serving on 1 of 2 nodes; http://b unreachable: refused"
        );
    }
}
