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
//! [`plan`] holds the decisions and the state's shape, [`api`] the JSON protocol, [`s3`] the
//! uploads, [`archive`] the `model.tar.gz`, [`resources`] the calls that make and remove
//! resources; this file puts them in order.

mod api;
mod archive;
mod infra;
mod plan;
mod resources;
mod s3;

use ferry_guest::deploy::{Operation, Target};
use ferry_guest::types::Error;

use infra::Infra;
use plan::{Move, Progress, State, Token};
use resources::{
    create_config, delete_config, delete_endpoint, delete_model, ensure_model, retire,
};

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

use exports::ferry::plugin::deployer::{CloudResource, Guest, Observed};

/// SageMaker's limit on endpoint, config and model names.
pub(crate) const NAME_MAX: usize = 63;

fn endpoint_name(target: &Target) -> String {
    target.resource_name("", NAME_MAX)
}

struct SageMaker;

impl Guest for SageMaker {
    fn apply(target: Target) -> Result<Operation, Error> {
        let infra = Infra::load()?;
        let mut state: State = target.state()?;
        if target.versions.is_empty() {
            return remove(&infra, &target, state, false);
        }
        let endpoint = endpoint_name(&target);
        let wanted = plan::variants(
            &target.versions,
            |v| target.resource_name(v, NAME_MAX),
            &infra.instance_type,
            infra.instance_count,
        )?;
        let described = infra.api.describe_endpoint(&endpoint)?;
        if let Some((config, done)) = plan::already_asked(&state, &wanted, described.as_ref()) {
            let config = config.name.clone();
            if done {
                let message = retire(&infra, &mut state, &config);
                return Ok(Operation::done(
                    format!(
                        "endpoint `{endpoint}` serves {}{message}",
                        plan::split(&wanted)
                    ),
                    &state,
                ));
            }
            let previous = described.filter(|d| d.config != config).map(|d| d.config);
            let token = Token::Serving {
                endpoint: endpoint.clone(),
                config: config.clone(),
                previous,
            };
            return Ok(Operation::pending(
                &token,
                format!("waiting for endpoint `{endpoint}` to serve config `{config}`"),
                &state,
            ));
        }
        let serving_config = described.as_ref().and_then(|d| d.live_config());
        for version in &target.versions {
            ensure_model(&infra, &target, &mut state, version, serving_config)?;
        }
        let config = create_config(&infra, &target, &mut state, wanted)?;
        let split = plan::split(&state.config(&config).expect("just created").variants);
        let (token, message) = match plan::how_to_move(described.as_ref()) {
            Move::Recreate { delete } => {
                if delete {
                    delete_endpoint(&infra, &endpoint)?;
                }
                let token = Token::Recreate {
                    endpoint: endpoint.clone(),
                    config: config.clone(),
                };
                let message = format!(
                    "endpoint `{endpoint}` is being deleted (it had {}); it is created again with {split} once it is gone",
                    if delete { "failed" } else { "been disabled" }
                );
                (token, message)
            }
            rollout => {
                // Creating and updating differ only in the call and what a rollback returns to.
                let (call, previous, message) = match rollout {
                    Move::Update { from } => (
                        "UpdateEndpoint",
                        Some(from),
                        format!("updating endpoint `{endpoint}` to {split}"),
                    ),
                    _ => (
                        "CreateEndpoint",
                        None,
                        format!("creating endpoint `{endpoint}` ({split})"),
                    ),
                };
                infra
                    .api
                    .call(call, &api::endpoint_on_config(&endpoint, &config))?;
                state.endpoint = Some(endpoint.clone());
                let token = Token::Serving {
                    endpoint: endpoint.clone(),
                    config: config.clone(),
                    previous,
                };
                (token, message)
            }
        };
        Ok(Operation::pending(&token, message, &state))
    }

    fn poll(target: Target, operation: Operation) -> Result<Operation, Error> {
        if operation.done {
            return Ok(operation);
        }
        let infra = Infra::load()?;
        // The operation's state is the newest: the host stores it after this call.
        let mut state: State = Target {
            state: operation.state.clone(),
            ..target
        }
        .state()?;
        match operation.token::<Token>()? {
            Token::Serving {
                endpoint,
                config,
                previous,
            } => {
                let described = infra.api.describe_endpoint(&endpoint)?;
                match plan::serving_progress(
                    &endpoint,
                    &config,
                    previous.as_deref(),
                    described.as_ref(),
                ) {
                    Progress::Waiting(message) => Ok(Operation {
                        message,
                        ..operation
                    }),
                    Progress::Failed(e) => Err(e),
                    Progress::Serving => {
                        let split = state
                            .config(&config)
                            .map(|c| plan::split(&c.variants))
                            .unwrap_or_else(|| format!("config `{config}`"));
                        let cleanup = retire(&infra, &mut state, &config);
                        Ok(Operation::done(
                            format!("endpoint `{endpoint}` is InService with {split}{cleanup}"),
                            &state,
                        ))
                    }
                }
            }
            Token::Recreate { endpoint, config } => {
                if let Some(d) = infra.api.describe_endpoint(&endpoint)? {
                    return Ok(Operation {
                        message: format!(
                            "waiting for endpoint `{endpoint}` ({}) to be gone before creating it again",
                            d.status
                        ),
                        ..operation
                    });
                }
                infra.api.call(
                    "CreateEndpoint",
                    &api::endpoint_on_config(&endpoint, &config),
                )?;
                state.endpoint = Some(endpoint.clone());
                let token = Token::Serving {
                    endpoint: endpoint.clone(),
                    config,
                    previous: None,
                };
                Ok(Operation::pending(
                    &token,
                    format!("creating endpoint `{endpoint}` again"),
                    &state,
                ))
            }
            Token::Gone { endpoint, delete } => {
                if let Some(d) = infra.api.describe_endpoint(&endpoint)? {
                    return Ok(Operation {
                        message: format!("endpoint `{endpoint}` is {}", d.status),
                        ..operation
                    });
                }
                state.endpoint = None;
                finish_removal(&infra, state, &endpoint, delete)
            }
        }
    }

    fn status(target: Target) -> Result<Observed, Error> {
        let infra = Infra::load()?;
        let state: State = target.state()?;
        let endpoint = endpoint_name(&target);
        let described = infra.api.describe_endpoint(&endpoint)?;
        let seen = plan::observe(&target.versions, &endpoint, described.as_ref(), &state);
        let Some(d) = described else {
            return Ok(Observed {
                health: seen.health,
                messages: seen.messages,
                serving: Vec::new(),
                urls: Vec::new(),
                resources: Vec::new(),
            });
        };
        let url = infra.invocation_url(&endpoint);
        let total: f64 = d.serving().map(|v| v.weight).sum();
        let mut resources = vec![CloudResource {
            kind: "sagemaker-endpoint".into(),
            name: endpoint.clone(),
            status: d.status.clone(),
            versions: seen.serving.clone(),
            url: Some(url.clone()),
            message: d
                .failure_reason
                .clone()
                .or_else(|| Some(format!("config `{}`", d.config))),
        }];
        for v in &d.variants {
            let share = if total > 0.0 {
                100.0 * v.weight / total
            } else {
                0.0
            };
            resources.push(CloudResource {
                kind: "sagemaker-variant".into(),
                name: v.name.clone(),
                status: format!("{share:.0}% of traffic on {} instance(s)", v.instances),
                versions: vec![state.version_of(&d.config, &v.name)],
                url: None,
                message: None,
            });
        }
        Ok(Observed {
            health: seen.health,
            messages: seen.messages,
            serving: seen.serving,
            urls: vec![url],
            resources,
        })
    }

    fn delete(target: Target) -> Result<Operation, Error> {
        let infra = Infra::load()?;
        let state: State = target.state()?;
        remove(&infra, &target, state, true)
    }
}

export!(SageMaker);

/// Disabling (`delete` false) or deleting: the endpoint and its configs go at once, the
/// operation waits for the endpoint to be gone. Models stay when disabling.
fn remove(
    infra: &Infra,
    target: &Target,
    mut state: State,
    delete: bool,
) -> Result<Operation, Error> {
    let endpoint = endpoint_name(target);
    let described = infra.api.describe_endpoint(&endpoint)?;
    if described.as_ref().is_some_and(|d| d.status != "Deleting") {
        delete_endpoint(infra, &endpoint)?;
    }
    for config in &state.configs {
        delete_config(infra, &config.name)?;
    }
    state.configs.clear();
    if described.is_none() {
        state.endpoint = None;
        return finish_removal(infra, state, &endpoint, delete);
    }
    let token = Token::Gone {
        endpoint: endpoint.clone(),
        delete,
    };
    Ok(Operation::pending(
        &token,
        format!("deleting endpoint `{endpoint}`"),
        &state,
    ))
}

/// The endpoint is gone: done when disabling; when deleting, the models and their data go
/// too and nothing is left to remember.
fn finish_removal(
    infra: &Infra,
    mut state: State,
    endpoint: &str,
    delete: bool,
) -> Result<Operation, Error> {
    if !delete {
        return Ok(Operation::done(
            format!("endpoint `{endpoint}` is gone; nothing serves the deployment"),
            &state,
        ));
    }
    for model in std::mem::take(&mut state.models) {
        delete_model(infra, &model)?;
    }
    let mut op = Operation::done(
        format!("endpoint `{endpoint}`, its configs, models and model data are deleted"),
        &state,
    );
    op.state = String::new();
    Ok(op)
}
