//! The steps themselves: the calls each makes, and what the state learns when it is done.

use ferry_guest::deploy;
use ferry_guest::error;
use ferry_guest::types::Error;
use serde_json::{Value, json};

use crate::api::{ALREADY_EXISTS, NOT_FOUND};
use crate::driver::Run;
use crate::operation::Lro;
use crate::plan::{self, Step};
use crate::resources::{self, EndpointView};
use crate::split::{self, Split};

/// A step's operation still running.
pub struct Wait {
    pub operation: String,
    /// The split the step sent, recorded in the state once it is done.
    pub traffic: Option<Split>,
}

impl Run<'_> {
    /// Takes one step: `Some` when its operation has to be waited for.
    pub(crate) fn execute(&mut self, step: &Step) -> Result<Option<Wait>, Error> {
        let what = step.describe();
        let pending = match step {
            Step::Upload { version } => {
                self.upload_artifacts(version)?;
                let body = resources::model_body(self.cfg, self.target, version);
                match self.vertex.upload_model(&what, &body) {
                    Ok(lro) => (lro, None),
                    // Made by an earlier attempt whose answer was lost: that one it is.
                    Err(e) if e.code == ALREADY_EXISTS => {
                        let name = format!(
                            "{}/models/{}",
                            self.cfg.parent(),
                            resources::model_id(self.target, version)
                        );
                        self.complete(step, Some(json!({ "model": name })), None)?;
                        return Ok(None);
                    }
                    Err(e) => return Err(e),
                }
            }
            Step::CreateEndpoint => {
                let body = resources::endpoint_body(self.target);
                let id = resources::endpoint_id(self.target);
                match self.vertex.create_endpoint(&what, &id, &body) {
                    Ok(lro) => (lro, None),
                    Err(e) if e.code == ALREADY_EXISTS => {
                        let name = format!("{}/endpoints/{id}", self.cfg.parent());
                        self.complete(step, Some(json!({ "name": name })), None)?;
                        return Ok(None);
                    }
                    Err(e) => return Err(e),
                }
            }
            Step::Deploy { version } => {
                let endpoint = self.endpoint()?;
                let model = self.state.version(version).and_then(|v| v.model.clone());
                let model = known(model, "a version is deployed once it has a model")?;
                let split = plan::split_for(&self.state, &self.desired, step);
                let body = resources::deploy_body(self.cfg, self.target, version, &model, &split);
                match self
                    .vertex
                    .endpoint_call(&what, &endpoint, "deployModel", &body)
                {
                    Ok(lro) => (lro, Some(split)),
                    Err(e)
                        if e.code == NOT_FOUND && self.vertex.get(&what, &endpoint)?.is_none() =>
                    {
                        // Deleted behind the plugin's back: the plan makes a new one.
                        self.state.forget_endpoint();
                        return Ok(None);
                    }
                    Err(e) => return Err(e),
                }
            }
            Step::Undeploy { version } => {
                let endpoint = self.endpoint()?;
                let id = self.state.version(version).and_then(|v| v.deployed.clone());
                let id = known(id, "only deployed versions are undeployed")?;
                let split = plan::split_for(&self.state, &self.desired, step);
                let body = resources::undeploy_body(&id, &split);
                match self
                    .vertex
                    .endpoint_call(&what, &endpoint, "undeployModel", &body)
                {
                    Ok(lro) => (lro, Some(split)),
                    // Undeployed already, or gone with its endpoint.
                    Err(e) if e.code == NOT_FOUND => {
                        self.complete(step, None, Some(split))?;
                        return Ok(None);
                    }
                    Err(e) => return Err(e),
                }
            }
            Step::SetTraffic => {
                let endpoint = self.endpoint()?;
                let split = plan::split_for(&self.state, &self.desired, step);
                self.vertex.set_traffic(&what, &endpoint, &split)?;
                self.state.traffic = split;
                return Ok(None);
            }
            Step::DeleteEndpoint => {
                let endpoint = self.endpoint()?;
                match self.vertex.delete(&what, &endpoint)? {
                    Some(lro) => (lro, None),
                    None => {
                        self.complete(step, None, None)?;
                        return Ok(None);
                    }
                }
            }
            Step::DeleteModel { version } => {
                let model = self.state.version(version).and_then(|v| v.model.clone());
                let model = known(model, "only versions with a model have it deleted")?;
                match self.vertex.delete(&what, &model)? {
                    Some(lro) => (lro, None),
                    None => {
                        self.complete(step, None, None)?;
                        return Ok(None);
                    }
                }
            }
            Step::DeleteObjects { version } => {
                let objects = self.state.version_mut(version).objects.clone();
                for name in objects {
                    self.bucket.delete(&name)?;
                    self.state
                        .version_mut(version)
                        .objects
                        .retain(|o| *o != name);
                }
                self.state.prune();
                return Ok(None);
            }
        };
        let (lro, split) = pending;
        if lro.done {
            self.finish(step, lro, split)?;
            return Ok(None);
        }
        Ok(Some(Wait {
            operation: lro.name,
            traffic: split,
        }))
    }

    /// Uploads every file of the version's package under its artifact directory, noting each
    /// object as it lands so that `delete` finds it even if a later upload fails.
    fn upload_artifacts(&mut self, version: &str) -> Result<(), Error> {
        let wanted = self.target.versions.iter().find(|v| v.version == version);
        let files = &known(wanted, "only desired versions are uploaded")?.files;
        let dir = self.cfg.artifact_dir(&self.target.deployment, version);
        for (relative, bytes) in deploy::files_under(files)? {
            let name = format!("{dir}{relative}");
            self.bucket.upload(&name, bytes)?;
            let objects = &mut self.state.version_mut(version).objects;
            if !objects.contains(&name) {
                objects.push(name);
            }
        }
        Ok(())
    }

    /// A done operation: its failure is the step's error; otherwise the state learns what
    /// it made.
    pub(crate) fn finish(
        &mut self,
        step: &Step,
        lro: Lro,
        split: Option<Split>,
    ) -> Result<(), Error> {
        let response = lro.result(&step.describe())?;
        self.complete(step, response, split)
    }

    /// Records in the state what a finished step made or removed. The operation's response
    /// says which model, endpoint or deployed model it made; when it has none (drongo's
    /// polled operations), the resources are read instead.
    fn complete(
        &mut self,
        step: &Step,
        response: Option<Value>,
        split: Option<Split>,
    ) -> Result<(), Error> {
        let what = step.describe();
        let deployment = &self.target.deployment;
        match step {
            Step::Upload { version } => {
                let model = match response.as_ref().and_then(resources::uploaded_model) {
                    Some(model) => model,
                    None => {
                        let display = resources::display_name(deployment, version);
                        let taken: Vec<&str> = (self.state.versions.iter())
                            .filter_map(|v| v.model.as_deref())
                            .collect();
                        let models = self.vertex.list_named(&what, "models", &display)?;
                        resources::newest_named(&models, &display, &taken)
                            .ok_or_else(|| unlisted(&what, "model", &display))?
                    }
                };
                self.state.version_mut(version).model = Some(model);
            }
            Step::CreateEndpoint => {
                let endpoint = match response.as_ref().and_then(resources::created_endpoint) {
                    Some(endpoint) => endpoint,
                    None => {
                        let endpoints = self.vertex.list_named(&what, "endpoints", deployment)?;
                        resources::newest_named(&endpoints, deployment, &[])
                            .ok_or_else(|| unlisted(&what, "endpoint", deployment))?
                    }
                };
                self.state.endpoint = Some(endpoint);
            }
            Step::Deploy { version } => {
                let id = match response.as_ref().and_then(resources::deployed_model_id) {
                    Some(id) => id,
                    None => self.find_deployed(&what, version)?,
                };
                self.state.version_mut(version).deployed = Some(id.clone());
                self.state.traffic = split::with_new_id(&split.unwrap_or_default(), &id);
            }
            Step::Undeploy { version } => {
                self.state.version_mut(version).deployed = None;
                self.state.traffic = split.unwrap_or_default();
            }
            Step::DeleteEndpoint => self.state.forget_endpoint(),
            Step::DeleteModel { version } => {
                self.state.version_mut(version).model = None;
                self.state.prune();
            }
            Step::SetTraffic | Step::DeleteObjects { .. } => {}
        }
        Ok(())
    }

    /// The id of the model just deployed for `version`, read from the endpoint.
    fn find_deployed(&self, what: &str, version: &str) -> Result<String, Error> {
        let endpoint = self.endpoint()?;
        let model = self.state.version(version).and_then(|v| v.model.as_deref());
        let model = known(model, "a deployed version has a model")?;
        let taken: Vec<&str> = self.state.deployed().map(|(_, id)| id).collect();
        let view = match self.vertex.get(what, &endpoint)? {
            Some(e) => EndpointView::parse(&e),
            None => EndpointView::default(),
        };
        view.deployment_of(model, &taken).ok_or_else(|| {
            error(
                "invalid_response",
                format!(
                    "{what}: the operation finished, but {endpoint} lists no deployment of {model}"
                ),
            )
        })
    }
}

fn unlisted(what: &str, kind: &str, display: &str) -> Error {
    error(
        "invalid_response",
        format!("{what}: the operation finished, but no {kind} named `{display}` is listed"),
    )
}

/// What the plan guarantees, as an error rather than a trap should it ever not hold.
fn known<T>(value: Option<T>, invariant: &str) -> Result<T, Error> {
    value.ok_or_else(|| error("internal", format!("deploy-vertex bug: {invariant}")))
}
