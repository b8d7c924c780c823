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
//!
//! [`config`] reads the settings, [`driver`] runs each call over a
//! [`ferry_guest::http::Transport`] (`wasi:http` here, a script in [`tests`]), [`node`] speaks
//! the node API.

mod config;
mod driver;
mod node;
mod plan;
mod status;

#[cfg(test)]
mod tests;

use ferry_guest::deploy::{Operation, Target};
use ferry_guest::http::Wasi;
use ferry_guest::types::{Description, Error};

use config::Config;

wit_bindgen::generate!({
    world: "deployer-plugin",
    path: "../../wit",
    with: {
        "ferry:plugin/types@0.2.0": ferry_guest::types,
        "ferry:plugin/host@0.2.0": ferry_guest::host,
        "ferry:plugin/deployer@0.2.0/version-ref": ferry_guest::deploy::VersionRef,
        "ferry:plugin/deployer@0.2.0/target": ferry_guest::deploy::Target,
        "ferry:plugin/deployer@0.2.0/operation": ferry_guest::deploy::Operation,
    },
});

use exports::ferry::plugin::about;
use exports::ferry::plugin::deployer::{self, Observed};

struct StaticDeployer;

impl about::Guest for StaticDeployer {
    fn describe() -> Description {
        ferry_guest::describe!(
            Deployer,
            "pushes service packages to ferry API nodes (`ferry serve`) over their node API",
            config::SETTINGS
        )
    }
}

impl deployer::Guest for StaticDeployer {
    fn apply(target: Target) -> Result<Operation, Error> {
        let cfg = Config::load()?;
        driver::apply(&cfg, &Wasi(cfg.retry), &target)
    }

    fn poll(_target: Target, operation: Operation) -> Result<Operation, Error> {
        // Pushes finish within `apply`.
        Ok(operation)
    }

    fn status(target: Target) -> Result<Observed, Error> {
        let cfg = Config::load()?;
        driver::status(&cfg, &Wasi(cfg.retry), &target)
    }

    fn delete(target: Target) -> Result<Operation, Error> {
        let cfg = Config::load()?;
        driver::delete(&cfg, &Wasi(cfg.retry), &target)
    }
}

export!(StaticDeployer);
