//! API keys: created with their permissions, kept only as a SHA-256, checked in constant time,
//! revoked by name. A key reads `fry_<id>_<secret>`: the id finds the row, the hash of the
//! whole key proves it.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::model::text_enum;
use super::{Result, Store, StoreError, now};

text_enum!(
    /// What a key may do (`UseServices`: call the public endpoints of services whose `auth` is
    /// `api_keys`).
    Permission {
        ViewJobs = "ViewJobs",
        ManageIngestionJobs = "ManageIngestionJobs",
        ManageWorkflows = "ManageWorkflows",
        ManageKeys = "ManageKeys",
        ManageDeployments = "ManageDeployments",
        ManageSecrets = "ManageSecrets",
        ManageExports = "ManageExports",
        ManageImports = "ManageImports",
        UseServices = "UseServices",
    }
);

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub permissions: Vec<Permission>,
    /// The services a `UseServices` key may call; empty for all.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

fn hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

fn split_services(text: &str) -> Vec<String> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl ApiKey {
    /// Whether this key may call the public endpoints of `service`.
    pub fn may_use(&self, service: &str) -> bool {
        self.permissions.contains(&Permission::UseServices)
            && (self.services.is_empty() || self.services.iter().any(|s| s == service))
    }
}

fn parse_permissions(text: &str) -> Result<Vec<Permission>> {
    text.split(',')
        .filter(|p| !p.is_empty())
        .map(|p| {
            p.parse()
                .map_err(|_| StoreError::Corrupt(format!("permission `{p}`")))
        })
        .collect()
}

impl Store {
    /// Creates a key; returns it with the only copy of its secret text.
    pub async fn create_key(
        &self,
        name: &str,
        permissions: &[Permission],
        services: &[String],
    ) -> Result<(ApiKey, String)> {
        let id = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
        let secret = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        self.add_key(name, permissions, services, format!("fry_{id}_{secret}"))
            .await
    }

    /// Accepts a key made by another ferry (`fry_<id>_<secret>`), so that the API nodes of one
    /// infra can share the admin key its deployments use.
    pub async fn import_key(
        &self,
        name: &str,
        permissions: &[Permission],
        services: &[String],
        key: &str,
    ) -> Result<ApiKey> {
        let well_formed = key
            .strip_prefix("fry_")
            .and_then(|rest| rest.split_once('_'))
            .is_some_and(|(id, secret)| {
                id.len() == 12
                    && secret.len() >= 32
                    && (id.chars().chain(secret.chars())).all(|c| c.is_ascii_alphanumeric())
            });
        if !well_formed {
            return Err(StoreError::Conflict(
                "not a ferry key (fry_<12 characters>_<secret>)".into(),
            ));
        }
        Ok(self
            .add_key(name, permissions, services, key.to_owned())
            .await?
            .0)
    }

    async fn add_key(
        &self,
        name: &str,
        permissions: &[Permission],
        services: &[String],
        key: String,
    ) -> Result<(ApiKey, String)> {
        crate::paths::check(crate::paths::NameKind::Key, name)?;
        for service in services {
            crate::paths::check(crate::paths::NameKind::Service, service)?;
        }
        let mut services = services.to_vec();
        services.sort();
        services.dedup();
        let id = key[4..16].to_owned();
        let mut names: Vec<&str> = permissions.iter().map(|p| p.as_str()).collect();
        names.sort();
        names.dedup();
        let created = now();
        let done = sqlx::query(
            "INSERT INTO api_keys (id, name, key_hash, permissions, services, created_at) VALUES (?, ?, ?, ?, ?, ?) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(&id)
        .bind(name)
        .bind(hash(&key))
        .bind(names.join(","))
        .bind(services.join(","))
        .bind(created.as_str())
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!("a key named `{name}` exists")));
        }
        let api_key = ApiKey {
            id,
            name: name.to_owned(),
            permissions: parse_permissions(&names.join(","))?,
            services,
            created_at: created.as_str().to_owned(),
            revoked_at: None,
        };
        Ok((api_key, key))
    }

    pub async fn list_keys(&self) -> Result<Vec<ApiKey>> {
        let rows: Vec<(String, String, String, String, String, Option<String>)> = sqlx::query_as(
            "SELECT id, name, permissions, services, created_at, revoked_at FROM api_keys ORDER BY created_at, name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(
                |(id, name, permissions, services, created_at, revoked_at)| {
                    Ok(ApiKey {
                        id,
                        name,
                        permissions: parse_permissions(&permissions)?,
                        services: split_services(&services),
                        created_at,
                        revoked_at,
                    })
                },
            )
            .collect()
    }

    /// Revokes the key named `name` (or with that id). Revoking twice is not an error.
    pub async fn revoke_key(&self, name: &str) -> Result<ApiKey> {
        sqlx::query(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE name = ? OR id = ?",
        )
        .bind(now().as_str())
        .bind(name)
        .bind(name)
        .execute(&self.pool)
        .await?;
        self.list_keys()
            .await?
            .into_iter()
            .find(|k| k.name == name || k.id == name)
            .ok_or_else(|| StoreError::Missing(format!("no key named `{name}`")))
    }

    /// The live key `presented` is, if any.
    pub async fn authenticate(&self, presented: &str) -> Result<Option<ApiKey>> {
        let Some(id) = presented
            .strip_prefix("fry_")
            .and_then(|rest| rest.split_once('_'))
            .map(|(id, _)| id)
        else {
            return Ok(None);
        };
        let row: Option<(String, String, String, String, String)> = sqlx::query_as(
            "SELECT name, key_hash, permissions, services, created_at FROM api_keys WHERE id = ? AND revoked_at IS NULL",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some((name, stored, permissions, services, created_at)) = row else {
            return Ok(None);
        };
        if !bool::from(hash(presented).as_bytes().ct_eq(stored.as_bytes())) {
            return Ok(None);
        }
        Ok(Some(ApiKey {
            id: id.to_owned(),
            name,
            permissions: parse_permissions(&permissions)?,
            services: split_services(&services),
            created_at,
            revoked_at: None,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keys_are_hashed_checked_and_revoked() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("ferry.db")).await.unwrap();
        let (key, secret) = store
            .create_key("ci", &[Permission::ViewJobs, Permission::ViewJobs], &[])
            .await
            .unwrap();
        assert_eq!(key.permissions, vec![Permission::ViewJobs]);
        let found = store.authenticate(&secret).await.unwrap().unwrap();
        assert_eq!(found.name, "ci");
        let mut wrong = secret.clone();
        wrong.pop();
        wrong.push('x');
        assert!(store.authenticate(&wrong).await.unwrap().is_none());
        assert!(
            store
                .authenticate("Bearer nonsense")
                .await
                .unwrap()
                .is_none()
        );
        assert!(store.create_key("ci", &[], &[]).await.is_err());
        let listed = format!("{:?}", store.list_keys().await.unwrap());
        assert!(!listed.contains(&secret[20..]));
        store.revoke_key("ci").await.unwrap();
        assert!(store.authenticate(&secret).await.unwrap().is_none());
    }
}
