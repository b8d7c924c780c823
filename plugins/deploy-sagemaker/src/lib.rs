//! `deploy-sagemaker`: serves a service on an Amazon SageMaker real-time endpoint named after
//! the deployment. Each version becomes a model (its unpacked package as `model.tar.gz` in
//! S3, run by the infra's inference image) and a production variant weighted by its percent;
//! a change of versions or split is a new endpoint config and an UpdateEndpoint, which
//! SageMaker rolls out (or rolls back) while the endpoint keeps serving.
//!
//! The plugin never signs: the infra grants a `service = "sagemaker"` credential for the API
//! host and a `service = "s3"` one for the S3 host (or, with both on one host, one credential
//! with `services = ["s3", "sagemaker"]`), and ferry's host adds SigV4 to each request.
//!
//! Settings: `bucket`, `image`, `role_arn` (required); `region` (default `us-east-1`);
//! `endpoint` (SageMaker API, default `https://api.sagemaker.<region>.amazonaws.com`; the
//! service URLs reported follow it, else they are on `runtime.sagemaker.<region>`);
//! `s3_endpoint` (default `https://s3.<region>.amazonaws.com`, path-style); `prefix` (of the
//! model data keys, default `ferry`); `instance_type` (default `ml.m5.large`);
//! `instance_count` (per variant, default 1); `retries` (attempts per request, default 3).
//!
//! [`config`] reads the settings; [`plan`] holds the decisions and the state's shape;
//! [`driver`] runs each call over a [`ferry_guest::http::Transport`] (`wasi:http` here, a
//! script in [`tests`]); [`api`] is the JSON protocol, [`s3`] the uploads, [`archive`] the
//! `model.tar.gz`, [`resources`] the calls that make and remove resources.

mod api;
mod archive;
mod config;
mod driver;
mod plan;
mod resources;
mod s3;

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

struct SageMaker;

impl about::Guest for SageMaker {
    fn describe() -> Description {
        ferry_guest::describe!(
            Deployer,
            "serves service packages on an Amazon SageMaker real-time endpoint, one production variant per version",
            config::SETTINGS
        )
    }
}

impl deployer::Guest for SageMaker {
    fn apply(target: Target) -> Result<Operation, Error> {
        let cfg = Config::load()?;
        driver::apply(&cfg, &Wasi(cfg.retry), &target)
    }

    fn poll(target: Target, operation: Operation) -> Result<Operation, Error> {
        // A finished operation needs no settings (nor any call).
        if operation.done {
            return Ok(operation);
        }
        let cfg = Config::load()?;
        driver::poll(&cfg, &Wasi(cfg.retry), &target, operation)
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

export!(SageMaker);
