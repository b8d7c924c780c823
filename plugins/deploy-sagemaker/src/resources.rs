//! The calls that make and remove the plugin's cloud resources (models with their model
//! data, endpoint configs, the endpoint), keeping the state in step with each. Deleting
//! something already gone is not an error: a call that failed half-way is simply repeated.

use ferry_guest::deploy::{self, Target, VersionRef};
use ferry_guest::http::Transport;
use ferry_guest::types::Error;
use ferry_guest::{error, log};
use serde_json::json;

use crate::api::{self, Api, CloudError, Resource, Variant};
use crate::archive;
use crate::config::Config;
use crate::plan::{self, Model, ModelPlan, State};
use crate::s3::{self, Bucket};

/// SageMaker's limit on endpoint, config and model names.
pub const NAME_MAX: usize = 63;

/// The endpoint of a deployment: named after it, so it is found even if a call failed after
/// creating it.
pub fn endpoint_name(target: &Target) -> String {
    target.resource_name("", NAME_MAX)
}

/// What one call talks to: the SageMaker API and the model bucket, over one transport.
pub struct Cloud<'a> {
    pub cfg: &'a Config,
    pub api: Api<'a>,
    pub bucket: Bucket<'a>,
}

impl<'a> Cloud<'a> {
    pub fn new(cfg: &'a Config, transport: &'a dyn Transport) -> Self {
        Cloud {
            cfg,
            api: Api::new(&cfg.api, transport),
            bucket: Bucket::new(&cfg.bucket, &cfg.s3, transport),
        }
    }
}

/// Uploads a version's model data and creates its model, unless the state has it (see
/// [`State::model_plan`]).
pub fn ensure_model(
    cloud: &Cloud,
    target: &Target,
    state: &mut State,
    version: &VersionRef,
    serving_config: Option<&str>,
) -> Result<(), Error> {
    let plan = state.model_plan(
        &version.version,
        &cloud.cfg.image,
        &cloud.cfg.role_arn,
        serving_config,
    );
    match plan {
        ModelPlan::Keep => return Ok(()),
        ModelPlan::Create => {}
        ModelPlan::Replace => {
            let old = state.model(&version.version).expect("planned").clone();
            log::info(&format!(
                "model `{}` was made with another image or role; making it again",
                old.name
            ));
            delete_model_only(cloud, &old.name)?;
            state.models.retain(|m| m.name != old.name);
        }
    }
    let name = target.resource_name(&version.version, NAME_MAX);
    let key = s3::model_key(&cloud.cfg.prefix, &target.deployment, &version.version);
    let files = deploy::files_under(&version.files)?;
    let bytes = archive::model_tar_gz(&files).map_err(|e| {
        error(
            "package_unreadable",
            format!("building model.tar.gz of {}: {e}", version.files),
        )
    })?;
    log::info(&format!(
        "uploading {} ({} bytes) for version {}",
        cloud.bucket.url(&key),
        bytes.len(),
        version.version
    ));
    cloud.bucket.put(&key, bytes)?;
    let body = api::create_model(
        &name,
        &cloud.cfg.image,
        &cloud.bucket.url(&key),
        &cloud.cfg.role_arn,
    );
    // A model of this name left by an apply that failed after creating it is this very model:
    // packages are immutable, and the key is the same.
    cloud
        .api
        .call_unless("CreateModel", &body, CloudError::already_exists)?;
    state.models.push(Model {
        version: version.version.clone(),
        name,
        key,
        image: cloud.cfg.image.clone(),
        role_arn: cloud.cfg.role_arn.clone(),
    });
    Ok(())
}

/// Creates a config of a new name for `variants`; its name.
pub fn create_config(
    cloud: &Cloud,
    target: &Target,
    state: &mut State,
    variants: Vec<Variant>,
) -> Result<String, Error> {
    let number = state.take_config_number();
    let name = target.resource_name(&format!("c{number}"), NAME_MAX);
    let body = api::create_endpoint_config(&name, &variants);
    let created =
        cloud
            .api
            .call_unless("CreateEndpointConfig", &body, CloudError::already_exists)?;
    if created.is_none() {
        // Left by an apply that failed after creating it, so the state does not know it and
        // nothing serves it: replace it.
        delete_config(cloud, &name)?;
        cloud.api.call("CreateEndpointConfig", &body)?;
    }
    state.configs.push(plan::Config {
        name: name.clone(),
        variants,
    });
    Ok(name)
}

pub fn delete_config(cloud: &Cloud, name: &str) -> Result<(), Error> {
    cloud.api.call_unless(
        "DeleteEndpointConfig",
        &json!({ "EndpointConfigName": name }),
        |e| e.is_missing(Resource::EndpointConfig),
    )?;
    Ok(())
}

/// DeleteModel; the model data stays (see [`delete_model`]).
fn delete_model_only(cloud: &Cloud, name: &str) -> Result<(), Error> {
    cloud
        .api
        .call_unless("DeleteModel", &json!({ "ModelName": name }), |e| {
            e.is_missing(Resource::Model)
        })?;
    Ok(())
}

/// DeleteModel and DeleteObject of its model data.
pub fn delete_model(cloud: &Cloud, model: &Model) -> Result<(), Error> {
    delete_model_only(cloud, &model.name)?;
    cloud.bucket.delete(&model.key)
}

pub fn delete_endpoint(cloud: &Cloud, endpoint: &str) -> Result<(), Error> {
    cloud.api.call_unless(
        "DeleteEndpoint",
        &json!({ "EndpointName": endpoint }),
        |e| e.is_missing(Resource::Endpoint),
    )?;
    Ok(())
}

/// Once the endpoint serves `config`: deletes the other configs and the models (with their
/// data) no variant uses any more. The endpoint serves already, so what cannot be deleted
/// now stays in the state for the next time, and the message says so.
pub fn retire(cloud: &Cloud, state: &mut State, config: &str) -> String {
    let (configs, models) = state.leftovers(config);
    let mut failures = Vec::new();
    for name in configs {
        match delete_config(cloud, &name) {
            Ok(()) => state.configs.retain(|c| c.name != name),
            Err(e) => failures.push(e.message),
        }
    }
    for model in models {
        match delete_model(cloud, &model) {
            Ok(()) => state.models.retain(|m| m.name != model.name),
            Err(e) => failures.push(e.message),
        }
    }
    if failures.is_empty() {
        String::new()
    } else {
        format!("; left for the next change: {}", failures.join("; "))
    }
}
