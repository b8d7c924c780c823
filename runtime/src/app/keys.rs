//! API keys for `ferry serve` and its API nodes.

use super::App;
use crate::store::{ApiKey, Permission, StoreError};

impl App {
    /// Creates a key; returns it with the only copy of its secret text.
    pub async fn create_key(
        &self,
        name: &str,
        permissions: &[Permission],
        services: &[String],
    ) -> Result<(ApiKey, String), StoreError> {
        self.ctx()
            .store
            .create_key(name, permissions, services)
            .await
    }

    /// Accepts a key made by another ferry, so several nodes accept one key.
    pub async fn import_key(
        &self,
        name: &str,
        permissions: &[Permission],
        services: &[String],
        key: &str,
    ) -> Result<ApiKey, StoreError> {
        self.ctx()
            .store
            .import_key(name, permissions, services, key)
            .await
    }

    /// The keys, without their secrets.
    pub async fn keys(&self) -> Result<Vec<ApiKey>, StoreError> {
        self.ctx().store.list_keys().await
    }

    /// Revokes a key by name or id.
    pub async fn revoke_key(&self, name: &str) -> Result<ApiKey, StoreError> {
        self.ctx().store.revoke_key(name).await
    }

    /// The live key `presented` is, if any.
    pub async fn authenticate(&self, presented: &str) -> Result<Option<ApiKey>, StoreError> {
        self.ctx().store.authenticate(presented).await
    }
}
