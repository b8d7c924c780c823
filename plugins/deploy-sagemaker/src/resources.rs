//! The calls that make and remove the plugin's cloud resources (models with their model
//! data, endpoint configs, the endpoint), keeping the state in step with each. Deleting
//! something already gone is not an error: a call that failed half-way is simply repeated.

use ferry_guest::deploy::{self, Target, VersionRef};
use ferry_guest::types::Error;
use ferry_guest::{error, log};
use serde_json::json;

use crate::api::{self, CloudError, Resource, Variant};
use crate::infra::Infra;
use crate::plan::{Config, Model, ModelPlan, State};
use crate::{NAME_MAX, archive, s3};

/// Uploads a version's model data and creates its model, unless the state has it (see
/// [`State::model_plan`]).
pub fn ensure_model(
    infra: &Infra,
    target: &Target,
    state: &mut State,
    version: &VersionRef,
    serving_config: Option<&str>,
) -> Result<(), Error> {
    let plan = state.model_plan(
        &version.version,
        &infra.image,
        &infra.role_arn,
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
            delete_model_only(infra, &old.name)?;
            state.models.retain(|m| m.name != old.name);
        }
    }
    let name = target.resource_name(&version.version, NAME_MAX);
    let key = s3::model_key(&infra.prefix, &target.deployment, &version.version);
    let files = deploy::files_under(&version.files)?;
    let bytes = archive::model_tar_gz(&files).map_err(|e| {
        error(
            "package_unreadable",
            format!("building model.tar.gz of {}: {e}", version.files),
        )
    })?;
    log::info(&format!(
        "uploading {} ({} bytes) for version {}",
        infra.bucket.url(&key),
        bytes.len(),
        version.version
    ));
    infra.bucket.put(&key, bytes)?;
    let body = api::create_model(
        &name,
        &infra.image,
        &infra.bucket.url(&key),
        &infra.role_arn,
    );
    // A model of this name left by an apply that failed after creating it is this very model:
    // packages are immutable, and the key is the same.
    infra
        .api
        .call_unless("CreateModel", &body, CloudError::already_exists)?;
    state.models.push(Model {
        version: version.version.clone(),
        name,
        key,
        image: infra.image.clone(),
        role_arn: infra.role_arn.clone(),
    });
    Ok(())
}

/// Creates a config of a new name for `variants`; its name.
pub fn create_config(
    infra: &Infra,
    target: &Target,
    state: &mut State,
    variants: Vec<Variant>,
) -> Result<String, Error> {
    let number = state.take_config_number();
    let name = target.resource_name(&format!("c{number}"), NAME_MAX);
    let body = api::create_endpoint_config(&name, &variants);
    let created =
        infra
            .api
            .call_unless("CreateEndpointConfig", &body, CloudError::already_exists)?;
    if created.is_none() {
        // Left by an apply that failed after creating it, so the state does not know it and
        // nothing serves it: replace it.
        delete_config(infra, &name)?;
        infra.api.call("CreateEndpointConfig", &body)?;
    }
    state.configs.push(Config {
        name: name.clone(),
        variants,
    });
    Ok(name)
}

pub fn delete_config(infra: &Infra, name: &str) -> Result<(), Error> {
    infra.api.call_unless(
        "DeleteEndpointConfig",
        &json!({ "EndpointConfigName": name }),
        |e| e.is_missing(Resource::EndpointConfig),
    )?;
    Ok(())
}

/// DeleteModel; the model data stays (see [`delete_model`]).
fn delete_model_only(infra: &Infra, name: &str) -> Result<(), Error> {
    infra
        .api
        .call_unless("DeleteModel", &json!({ "ModelName": name }), |e| {
            e.is_missing(Resource::Model)
        })?;
    Ok(())
}

/// DeleteModel and DeleteObject of its model data.
pub fn delete_model(infra: &Infra, model: &Model) -> Result<(), Error> {
    delete_model_only(infra, &model.name)?;
    infra.bucket.delete(&model.key)
}

pub fn delete_endpoint(infra: &Infra, endpoint: &str) -> Result<(), Error> {
    infra.api.call_unless(
        "DeleteEndpoint",
        &json!({ "EndpointName": endpoint }),
        |e| e.is_missing(Resource::Endpoint),
    )?;
    Ok(())
}

/// Once the endpoint serves `config`: deletes the other configs and the models (with their
/// data) no variant uses any more. The endpoint serves already, so what cannot be deleted
/// now stays in the state for the next time, and the message says so.
pub fn retire(infra: &Infra, state: &mut State, config: &str) -> String {
    let (configs, models) = state.leftovers(config);
    let mut failures = Vec::new();
    for name in configs {
        match delete_config(infra, &name) {
            Ok(()) => state.configs.retain(|c| c.name != name),
            Err(e) => failures.push(e.message),
        }
    }
    for model in models {
        match delete_model(infra, &model) {
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
