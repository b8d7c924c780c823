//! Service packages, the infras deployments run on, and the deployments themselves.

use std::path::Path;

use super::App;
use crate::deploy::{self, DeployError, DetailedStatus, NewDeployment};
use crate::host::CancelToken;
use crate::package::Registry;
use crate::store::{DeploymentRecord, InfraRecord, OperationRecord, Share, StoreError};

impl App {
    /// The service package registry.
    pub fn packages(&self) -> Registry {
        self.ctx().packages()
    }

    /// Deletes a package version, unless a deployment wants or serves it.
    pub async fn delete_package(&self, service: &str, version: &str) -> Result<(), DeployError> {
        deploy::delete_package(self.ctx(), service, version).await
    }

    /// Stores every infra of an infra file (nothing, unless all are valid).
    pub async fn apply_infras(&self, file: &Path) -> Result<Vec<InfraRecord>, DeployError> {
        self.ctx().refresh_secrets().await?;
        deploy::infra::apply_file(self.ctx(), file).await
    }

    /// Checks an infra file as `apply_infras` would, storing nothing: the names of its infras.
    pub fn check_infras(&self, file: &Path) -> Result<Vec<String>, DeployError> {
        let ctx = self.ctx();
        let mut names = Vec::new();
        for (name, spec, _) in deploy::infra::read_file(file)? {
            let infra = deploy::Infra {
                name: name.clone(),
                spec,
            };
            deploy::infra::check(&infra, &ctx.catalog, &ctx.host, &ctx.secrets())
                .map_err(|e| DeployError::Invalid(format!("{}: {e}", file.display())))?;
            names.push(name);
        }
        Ok(names)
    }

    /// The stored infras.
    pub async fn infras(&self) -> Result<Vec<InfraRecord>, StoreError> {
        self.ctx().store.list_infras().await
    }

    /// One stored infra.
    pub async fn infra(&self, name: &str) -> Result<InfraRecord, DeployError> {
        self.ctx()
            .store
            .infra(name)
            .await?
            .ok_or_else(|| DeployError::UnknownInfra(name.to_owned()))
    }

    /// Replaces (or creates) an infra from its JSON form, keeping its credential grants;
    /// says whether it existed.
    pub async fn put_infra(
        &self,
        name: &str,
        body: &serde_json::Value,
    ) -> Result<(InfraRecord, bool), DeployError> {
        deploy::infra::replace_keeping_grants(self.ctx(), name, body).await
    }

    /// Deletes an infra no deployment lives on.
    pub async fn delete_infra(&self, name: &str) -> Result<(), DeployError> {
        deploy::delete_infra(self.ctx(), name).await
    }

    /// Deployments, optionally of one service or on one infra.
    pub async fn deployments(
        &self,
        service: Option<&str>,
        infra: Option<&str>,
    ) -> Result<Vec<DeploymentRecord>, StoreError> {
        self.ctx().store.list_deployments(service, infra).await
    }

    /// One deployment: desired and last observed state.
    pub async fn deployment(&self, id: &str) -> Result<DeploymentRecord, DeployError> {
        deploy::get(self.ctx(), id).await
    }

    /// Records a deployment (nothing runs until an update).
    pub async fn create_deployment(
        &self,
        new: NewDeployment,
    ) -> Result<DeploymentRecord, DeployError> {
        deploy::create(self.ctx(), new).await
    }

    /// Wants these versions served.
    pub async fn set_versions(
        &self,
        id: &str,
        shares: Vec<Share>,
    ) -> Result<DeploymentRecord, DeployError> {
        deploy::set_versions(self.ctx(), id, shares).await
    }

    /// Wants the deployment served, or not.
    pub async fn set_enabled(
        &self,
        id: &str,
        enabled: bool,
    ) -> Result<DeploymentRecord, DeployError> {
        deploy::set_enabled(self.ctx(), id, enabled).await
    }

    /// Asks the infra now what it serves (per node or cloud resource).
    pub async fn observe(&self, id: &str) -> Result<DetailedStatus, DeployError> {
        self.ctx().refresh_secrets().await?;
        deploy::observe(self.ctx(), id).await
    }

    /// Starts making the infra match the desired state.
    pub async fn start_update(&self, id: &str) -> Result<OperationRecord, DeployError> {
        self.ctx().refresh_secrets().await?;
        deploy::start_update(self.ctx(), id).await
    }

    /// Starts removing everything the deployment made, then the deployment.
    pub async fn start_delete(
        &self,
        id: &str,
        disable_first: bool,
    ) -> Result<OperationRecord, DeployError> {
        self.ctx().refresh_secrets().await?;
        deploy::start_delete(self.ctx(), id, disable_first).await
    }

    /// Runs a started operation to its end, whatever its outcome.
    pub async fn run_operation(
        &self,
        op: &OperationRecord,
        cancel: &CancelToken,
    ) -> OperationRecord {
        deploy::run_operation(self.ctx(), op, cancel).await
    }

    /// Runs a started operation to its end; one that did not end DONE is the error.
    pub async fn run_to_end(
        &self,
        op: &OperationRecord,
        cancel: &CancelToken,
    ) -> Result<OperationRecord, DeployError> {
        deploy::run_to_end(self.ctx(), op, cancel).await
    }

    /// A deployment's operations, newest first.
    pub async fn operations(&self, id: &str) -> Result<Vec<OperationRecord>, DeployError> {
        self.deployment(id).await?;
        Ok(self.ctx().store.list_operations(id).await?)
    }

    /// One operation.
    pub async fn operation(&self, id: &str) -> Result<Option<OperationRecord>, StoreError> {
        self.ctx().store.operation(id).await
    }

    /// Ends operations a stopped process left running as interrupted.
    pub async fn fail_interrupted(&self) -> Result<usize, DeployError> {
        deploy::fail_interrupted(self.ctx()).await
    }
}
