//! A running deployer plugin: the four calls of the `deployer` interface, each under the
//! instance's limits, with the plugin's own errors (or the host's refusal of a request) named.

use wasmtime::Store;

use super::bindings::deployer::DeployerPlugin;
use super::call::guarded;
use super::error::PluginError;
use super::source::reported_or_denied;
use super::state::PluginState;

pub use super::bindings::deployer::exports::ferry::plugin::deployer::{
    CloudResource, Health as DeployHealth, Observed as TargetStatus, Operation, Target, VersionRef,
};

pub struct DeployerInstance {
    plugin: String,
    store: Store<PluginState>,
    bindings: DeployerPlugin,
}

impl DeployerInstance {
    pub(crate) fn new(plugin: String, store: Store<PluginState>, bindings: DeployerPlugin) -> Self {
        DeployerInstance {
            plugin,
            store,
            bindings,
        }
    }

    pub async fn apply(&mut self, target: &Target) -> Result<Operation, PluginError> {
        let api = self.bindings.ferry_plugin_deployer();
        let out = guarded(&mut self.store, &self.plugin, "apply", async |s| {
            api.call_apply(s, target).await
        })
        .await?;
        out.map_err(|e| reported_or_denied(&self.plugin, self.store.data_mut(), e))
    }

    pub async fn poll(
        &mut self,
        target: &Target,
        operation: &Operation,
    ) -> Result<Operation, PluginError> {
        let api = self.bindings.ferry_plugin_deployer();
        let out = guarded(&mut self.store, &self.plugin, "poll", async |s| {
            api.call_poll(s, target, operation).await
        })
        .await?;
        out.map_err(|e| reported_or_denied(&self.plugin, self.store.data_mut(), e))
    }

    pub async fn status(&mut self, target: &Target) -> Result<TargetStatus, PluginError> {
        let api = self.bindings.ferry_plugin_deployer();
        let out = guarded(&mut self.store, &self.plugin, "status", async |s| {
            api.call_status(s, target).await
        })
        .await?;
        out.map_err(|e| reported_or_denied(&self.plugin, self.store.data_mut(), e))
    }

    pub async fn delete(&mut self, target: &Target) -> Result<Operation, PluginError> {
        let api = self.bindings.ferry_plugin_deployer();
        let out = guarded(&mut self.store, &self.plugin, "delete", async |s| {
            api.call_delete(s, target).await
        })
        .await?;
        out.map_err(|e| reported_or_denied(&self.plugin, self.store.data_mut(), e))
    }
}
