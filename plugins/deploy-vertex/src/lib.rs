//! `deploy-vertex`: serves a service on a Vertex AI endpoint. Each version of the package is
//! uploaded to GCS (`{prefix}/{deployment}/{version}/`) and becomes a Vertex AI model served
//! by the configured container; one endpoint per deployment carries the deployed models and
//! splits the traffic between versions as the host asks.
//!
//! Every Vertex AI change is a long-running operation, so `apply` and `delete` drive a small
//! state machine (see [`plan`], [`driver`] and [`steps`]): steps that finish at once follow each other in
//! the same call; one that does not makes the call return `pending`, and `poll` carries on.
//! Disabling undeploys every model but keeps the endpoint and the models, for a quick
//! re-enable; `delete` removes all the plugin made.
//!
//! The plugin never authenticates: the infra grants a GCP credential for the Vertex AI and
//! GCS hosts and ferry's host adds the bearer token to each request.
//!
//! Settings: `project`, `bucket` and `image` (the serving container's URI) are required;
//! `location` (default `us-central1`), `endpoint` (default
//! `https://{location}-aiplatform.googleapis.com`), `gcs_endpoint` (default
//! `https://storage.googleapis.com`), `prefix` (default `ferry`), `machine_type` (default
//! `n1-standard-2`), `min_replicas` (default 1), `max_replicas` (default `min_replicas`),
//! `retries` (attempts per request, default 5).

mod api;
mod config;
mod driver;
mod operation;
mod plan;
mod resources;
mod split;
mod status;
mod steps;
mod storage;

#[cfg(test)]
mod tests;

use ferry_guest::deploy::{Operation, Target};
use ferry_guest::http::Wasi;
use ferry_guest::types::{Description, Error};

use config::Config;
use plan::Goal;

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

struct VertexDeployer;

impl about::Guest for VertexDeployer {
    fn describe() -> Description {
        ferry_guest::describe!(
            Deployer,
            "serves service packages on a Vertex AI endpoint, traffic split by version",
            config::SETTINGS
        )
    }
}

impl deployer::Guest for VertexDeployer {
    fn apply(target: Target) -> Result<Operation, Error> {
        let cfg = Config::load()?;
        driver::start(&cfg, &Wasi(cfg.retry), &target, Goal::Apply)
    }

    fn poll(target: Target, operation: Operation) -> Result<Operation, Error> {
        let cfg = Config::load()?;
        driver::resume(&cfg, &Wasi(cfg.retry), &target, &operation)
    }

    fn status(target: Target) -> Result<Observed, Error> {
        let cfg = Config::load()?;
        status::observe(&cfg, &Wasi(cfg.retry), &target)
    }

    fn delete(target: Target) -> Result<Operation, Error> {
        let cfg = Config::load()?;
        driver::start(&cfg, &Wasi(cfg.retry), &target, Goal::Delete)
    }
}

export!(VertexDeployer);
