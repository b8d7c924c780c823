//! `apply`, `status` and `delete` over a [`Transport`]: which node is asked what, in which
//! order, and what the answers add up to. The decisions themselves are in [`crate::plan`] and
//! [`crate::status`]; pushes finish within the call, so there is nothing to poll.

use ferry_guest::deploy::{Operation, Target};
use ferry_guest::error;
use ferry_guest::http::{Endpoint, Method, Request, Transport};
use ferry_guest::types::Error;

use crate::config::Config;
use crate::exports::ferry::plugin::deployer::Observed;
use crate::node::{Reply, call, service_path};
use crate::plan::{Plan, Release, State, release_summary, summary};
use crate::status::{self, Answer};

/// The configured nodes and the removed ones the target's state still remembers.
fn plan(cfg: &Config, target: &Target) -> Result<Plan, Error> {
    Ok(Plan::new(cfg.nodes.clone(), &target.state()?))
}

/// Pushes the version to the configured nodes (or drops the service there when disabled),
/// then tells the removed nodes to drop it. Removed nodes only ever add to the message: the
/// update is about the configured ones.
pub fn apply(cfg: &Config, transport: &dyn Transport, target: &Target) -> Result<Operation, Error> {
    let plan = plan(cfg, target)?;
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
            Some(zip) => Request::new(Method::Put, node, service_path(target))
                .body("application/zip", zip.clone()),
            None => Request::new(Method::Delete, node, service_path(target)),
        };
        match call(transport, request) {
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
            let request = Request::new(Method::Delete, node, service_path(target));
            (node.clone(), Release::from_reply(call(transport, request)))
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

/// Asks every node, configured and removed, what it serves.
pub fn status(cfg: &Config, transport: &dyn Transport, target: &Target) -> Result<Observed, Error> {
    let plan = plan(cfg, target)?;
    let wanted = target
        .single_version("static nodes")?
        .map(|v| v.version.clone());
    let ask = |list: &[Endpoint]| -> Vec<(Endpoint, Answer)> {
        list.iter()
            .map(|node| {
                let request = Request::new(Method::Get, node, "/v1/node/services".into());
                let reply = call(transport, request);
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

/// Removes the service from every node. A configured node that cannot be reached fails the
/// delete (it would serve again when back, with nothing left to remember it); a node only
/// remembered from earlier settings is taken for decommissioned when it cannot be reached or
/// the infra no longer grants it.
pub fn delete(
    cfg: &Config,
    transport: &dyn Transport,
    target: &Target,
) -> Result<Operation, Error> {
    let plan = plan(cfg, target)?;
    let (mut done, mut blocking, mut skipped) = (Vec::new(), Vec::new(), Vec::new());
    for node in plan.all() {
        let configured = plan.configured.contains(node);
        let request = Request::new(Method::Delete, node, service_path(target));
        match call(transport, request) {
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
