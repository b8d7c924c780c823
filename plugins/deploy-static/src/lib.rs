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
//! The `nodes` setting is the truth: a node taken out of it is told to drop the service by
//! the next update, and remembered until it did (see [`plan`]); meanwhile it does not count
//! for the health, and the status lists it as `removing` (see [`status`]).
//!
//! Settings: `nodes` (required, a list of base URLs, `["http://10.0.0.5:8080", …]`);
//! `retries` (attempts per request, default 2: a node that is down is reported, not waited on).

mod node;
mod plan;
mod status;

use ferry_guest::deploy::{Operation, Target};
use ferry_guest::http::{Endpoint, Method, Request, Retry};
use ferry_guest::types::Error;
use ferry_guest::{Settings, error};

use node::{Reply, call, service_path};
use plan::{Plan, Release, State, release_summary, summary};
use status::Answer;

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

use exports::ferry::plugin::deployer::{Guest, Observed};

/// The infra's settings: the configured nodes, and how hard to try each.
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

    /// The configured nodes and the removed ones `state` still remembers.
    fn plan(&self, state: &State) -> Plan {
        Plan::new(self.nodes.clone(), state)
    }
}

struct StaticDeployer;

impl Guest for StaticDeployer {
    /// Pushes the version to the configured nodes (or drops the service there when disabled),
    /// then tells the removed nodes to drop it. Removed nodes only ever add to the message:
    /// the update is about the configured ones.
    fn apply(target: Target) -> Result<Operation, Error> {
        let nodes = Nodes::from_settings()?;
        let plan = nodes.plan(&target.state()?);
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
        for node in &plan.configured {
            let request = match &body {
                Some(zip) => Request::new(Method::Put, node, service_path(&target))
                    .body("application/zip", zip.clone()),
                None => Request::new(Method::Delete, node, service_path(&target)),
            };
            match call(node, request, &nodes.retry) {
                Ok(Reply::Ok(_)) => done.push(node.url()),
                Ok(Reply::Unreachable(why)) => down.push((node.url(), why)),
                // Disabling a node that does not serve the service: nothing to do.
                Err(e) if body.is_none() && e.code == "not_found" => done.push(node.url()),
                Err(e) => return Err(e),
            }
        }
        let mut message = match version {
            Some(v) => summary(&format!("{} serving", v.version), &done, &down),
            None => summary("service removed", &done, &down),
        };
        if body.is_some() && done.is_empty() {
            // The removed nodes may be all that still serves: they keep it.
            return Err(error(
                "unreachable",
                format!("no node took the package: {message}"),
            ));
        }
        let released: Vec<(Endpoint, Release)> = plan
            .removed
            .iter()
            .map(|node| {
                let request = Request::new(Method::Delete, node, service_path(&target));
                let release = Release::from_reply(call(node, request, &nodes.retry));
                (node.clone(), release)
            })
            .collect();
        message.push_str(&release_summary(&released));
        let dropped: Vec<&Endpoint> = released
            .iter()
            .filter(|(_, r)| *r == Release::Dropped)
            .map(|(n, _)| n)
            .collect();
        Ok(Operation::done(message, &plan.next_state(&dropped)))
    }

    fn poll(_target: Target, operation: Operation) -> Result<Operation, Error> {
        // Pushes finish within `apply`.
        Ok(operation)
    }

    fn status(target: Target) -> Result<Observed, Error> {
        let nodes = Nodes::from_settings()?;
        let plan = nodes.plan(&target.state()?);
        let wanted = target
            .single_version("static nodes")?
            .map(|v| v.version.clone());
        let ask = |list: &[Endpoint]| -> Vec<(Endpoint, Answer)> {
            list.iter()
                .map(|node| {
                    let request = Request::new(Method::Get, node, "/v1/node/services".into());
                    let reply = call(node, request, &nodes.retry);
                    (node.clone(), Answer::from_reply(reply, &target.service))
                })
                .collect()
        };
        Ok(status::judge(
            &target.service,
            wanted.as_deref(),
            &ask(&plan.configured),
            &ask(&plan.removed),
        ))
    }

    /// Removes the service from every node. A configured node that cannot be reached fails
    /// the delete (it would serve again when back, with nothing left to remember it); a node
    /// only remembered from earlier settings is taken for decommissioned when it cannot be
    /// reached or the infra no longer grants it.
    fn delete(target: Target) -> Result<Operation, Error> {
        let nodes = Nodes::from_settings()?;
        let plan = nodes.plan(&target.state()?);
        let (mut done, mut blocking, mut skipped) = (Vec::new(), Vec::new(), Vec::new());
        for node in plan.all() {
            let configured = plan.configured.contains(node);
            let request = Request::new(Method::Delete, node, service_path(&target));
            match call(node, request, &nodes.retry) {
                Ok(Reply::Ok(_)) => done.push(node.url()),
                Err(e) if e.code == "not_found" => done.push(node.url()),
                Ok(Reply::Unreachable(why)) if configured => blocking.push((node.url(), why)),
                Ok(Reply::Unreachable(why)) => skipped.push((node.url(), why)),
                Err(e) if !configured && e.code == "host_denied" => {
                    skipped.push((node.url(), e.message))
                }
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
        let mut removed = Operation::done(
            summary("service removed", &done, &skipped),
            &State::default(),
        );
        removed.state = String::new();
        Ok(removed)
    }
}

export!(StaticDeployer);
