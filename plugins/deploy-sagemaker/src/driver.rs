//! `apply`, `poll`, `status` and `delete` over a [`Transport`]: the calls each makes, in
//! order, and the state and token it hands back. The decisions are [`crate::plan`]'s; the
//! calls that make and remove resources are [`crate::resources`]'.
//!
//! A change of versions or split is a new endpoint config and an UpdateEndpoint (or a
//! CreateEndpoint), which SageMaker rolls out while the endpoint keeps serving: `apply`
//! returns `pending` with a token naming what it waits for, and `poll` reads DescribeEndpoint
//! until it is there, then retires what the endpoint no longer uses.

use ferry_guest::deploy::{Operation, Target};
use ferry_guest::http::Transport;
use ferry_guest::types::Error;

use crate::api;
use crate::config::Config;
use crate::exports::ferry::plugin::deployer::{CloudResource, Observed};
use crate::plan::{self, Move, Progress, State, Token};
use crate::resources::{
    Cloud, NAME_MAX, create_config, delete_config, delete_endpoint, delete_model, endpoint_name,
    ensure_model, retire,
};

/// Towards the target's versions: models and a config for them, then the endpoint created or
/// updated onto it (or, with no versions, disabled: see [`remove`]).
pub fn apply(cfg: &Config, transport: &dyn Transport, target: &Target) -> Result<Operation, Error> {
    let cloud = Cloud::new(cfg, transport);
    let mut state: State = target.state()?;
    if target.versions.is_empty() {
        return remove(&cloud, target, state, false);
    }
    let endpoint = endpoint_name(target);
    let wanted = plan::variants(
        &target.versions,
        |v| target.resource_name(v, NAME_MAX),
        &cfg.instance_type,
        cfg.instance_count,
    )?;
    let described = cloud.api.describe_endpoint(&endpoint)?;
    if let Some((config, done)) = plan::already_asked(&state, &wanted, described.as_ref()) {
        let config = config.name.clone();
        if done {
            let message = retire(&cloud, &mut state, &config);
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
        ensure_model(&cloud, target, &mut state, version, serving_config)?;
    }
    let config = create_config(&cloud, target, &mut state, wanted)?;
    let split = plan::split(&state.config(&config).expect("just created").variants);
    let (token, message) = match plan::how_to_move(described.as_ref()) {
        Move::Recreate { delete } => {
            if delete {
                delete_endpoint(&cloud, &endpoint)?;
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
            cloud
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

/// Checks on what the token waits for and carries on once it is there.
pub fn poll(
    cfg: &Config,
    transport: &dyn Transport,
    target: &Target,
    operation: Operation,
) -> Result<Operation, Error> {
    if operation.done {
        return Ok(operation);
    }
    let cloud = Cloud::new(cfg, transport);
    // The operation's state is the newest: the host stores it after this call.
    let mut state: State = Target {
        state: operation.state.clone(),
        ..target.clone()
    }
    .state()?;
    match operation.token::<Token>()? {
        Token::Serving {
            endpoint,
            config,
            previous,
        } => {
            let described = cloud.api.describe_endpoint(&endpoint)?;
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
                    let cleanup = retire(&cloud, &mut state, &config);
                    Ok(Operation::done(
                        format!("endpoint `{endpoint}` is InService with {split}{cleanup}"),
                        &state,
                    ))
                }
            }
        }
        Token::Recreate { endpoint, config } => {
            if let Some(d) = cloud.api.describe_endpoint(&endpoint)? {
                return Ok(Operation {
                    message: format!(
                        "waiting for endpoint `{endpoint}` ({}) to be gone before creating it again",
                        d.status
                    ),
                    ..operation
                });
            }
            cloud.api.call(
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
            if let Some(d) = cloud.api.describe_endpoint(&endpoint)? {
                return Ok(Operation {
                    message: format!("endpoint `{endpoint}` is {}", d.status),
                    ..operation
                });
            }
            state.endpoint = None;
            finish_removal(&cloud, state, &endpoint, delete)
        }
    }
}

/// The endpoint as DescribeEndpoint shows it, judged against the target.
pub fn status(cfg: &Config, transport: &dyn Transport, target: &Target) -> Result<Observed, Error> {
    let cloud = Cloud::new(cfg, transport);
    let state: State = target.state()?;
    let endpoint = endpoint_name(target);
    let described = cloud.api.describe_endpoint(&endpoint)?;
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
    let url = cfg.invocation_url(&endpoint);
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

/// Removes the endpoint, its configs, then the models and their data.
pub fn delete(
    cfg: &Config,
    transport: &dyn Transport,
    target: &Target,
) -> Result<Operation, Error> {
    let cloud = Cloud::new(cfg, transport);
    let state: State = target.state()?;
    remove(&cloud, target, state, true)
}

/// Disabling (`delete` false) or deleting: the endpoint and its configs go at once, the
/// operation waits for the endpoint to be gone. Models stay when disabling.
fn remove(
    cloud: &Cloud,
    target: &Target,
    mut state: State,
    delete: bool,
) -> Result<Operation, Error> {
    let endpoint = endpoint_name(target);
    let described = cloud.api.describe_endpoint(&endpoint)?;
    if described.as_ref().is_some_and(|d| d.status != "Deleting") {
        delete_endpoint(cloud, &endpoint)?;
    }
    for config in &state.configs {
        delete_config(cloud, &config.name)?;
    }
    state.configs.clear();
    if described.is_none() {
        state.endpoint = None;
        return finish_removal(cloud, state, &endpoint, delete);
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
    cloud: &Cloud,
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
        delete_model(cloud, &model)?;
    }
    let mut op = Operation::done(
        format!("endpoint `{endpoint}`, its configs, models and model data are deleted"),
        &state,
    );
    op.state = String::new();
    Ok(op)
}
