//! Infras as the store keeps them: their declaration as JSON (never a secret), shown with
//! camelCase keys and taken back in either form.

use serde::Serialize;

use super::deployments::corrupt;
use super::{Result, Store, StoreError, now};

/// An infra as stored: its declaration as JSON (see `deploy::InfraSpec`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InfraRecord {
    pub name: String,
    pub kind: String,
    pub stage: String,
    /// Kept as declared (TOML's snake_case); shown with camelCase keys like everything else a
    /// client reads, but for the deployer's own `settings`, whose names are the plugin's.
    #[serde(serialize_with = "camel_spec")]
    pub spec: serde_json::Value,
    pub created_at: String,
    pub updated_at: String,
}

fn camel_spec<S: serde::Serializer>(
    spec: &serde_json::Value,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&rekey(spec, &camel), s)
}

/// An infra spec as a client sends it back (camelCase keys, as shown) in the declared form
/// (snake_case): the inverse of how records are shown. Snake_case keys pass unchanged.
pub fn spec_from_client(spec: &serde_json::Value) -> serde_json::Value {
    rekey(spec, &snake)
}

fn camel(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn snake(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Renames every key but those inside `settings` (the deployer plugin's own names).
fn rekey(value: &serde_json::Value, rename: &dyn Fn(&str) -> String) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| {
                let v = if k == "settings" {
                    v.clone()
                } else {
                    rekey(v, rename)
                };
                (rename(k), v)
            })
            .collect(),
        serde_json::Value::Array(items) => items.iter().map(|v| rekey(v, rename)).collect(),
        other => other.clone(),
    }
}

type InfraRow = (String, String, String, String, String, String);

fn infra(row: InfraRow) -> Result<InfraRecord> {
    let (name, kind, stage, spec, created_at, updated_at) = row;
    Ok(InfraRecord {
        spec: serde_json::from_str(&spec).map_err(|e| corrupt(&name, e))?,
        name,
        kind,
        stage,
        created_at,
        updated_at,
    })
}

impl Store {
    /// Creates or replaces infra `name`. Its type cannot change while deployments live on it
    /// (another deployer could not read what the first one recorded).
    pub async fn put_infra(
        &self,
        name: &str,
        kind: &str,
        stage: &str,
        spec: &serde_json::Value,
    ) -> Result<InfraRecord> {
        let mut tx = self.write_tx().await?;
        put_infra_in(&mut tx, name, kind, stage, spec).await?;
        tx.commit().await?;
        self.infra(name)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("infra `{name}` vanished")))
    }

    pub async fn infra(&self, name: &str) -> Result<Option<InfraRecord>> {
        let row: Option<InfraRow> = sqlx::query_as(
            "SELECT name, kind, stage, spec, created_at, updated_at FROM infras WHERE name = ?",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.map(infra).transpose()
    }

    pub async fn list_infras(&self) -> Result<Vec<InfraRecord>> {
        let rows: Vec<InfraRow> = sqlx::query_as(
            "SELECT name, kind, stage, spec, created_at, updated_at FROM infras ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(infra).collect()
    }

    /// Deletes infra `name`; refused while deployments use it.
    pub async fn delete_infra(&self, name: &str) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let users: Vec<(String,)> =
            sqlx::query_as("SELECT id FROM deployments WHERE infra = ? ORDER BY id")
                .bind(name)
                .fetch_all(&mut *tx)
                .await?;
        if !users.is_empty() {
            let ids: Vec<String> = users.into_iter().map(|(id,)| id).collect();
            return Err(StoreError::Conflict(format!(
                "infra `{name}` has live deployments ({}); delete them first",
                ids.join(", ")
            )));
        }
        let done = sqlx::query("DELETE FROM infras WHERE name = ?")
            .bind(name)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            > 0;
        tx.commit().await?;
        Ok(done)
    }
}

/// [`Store::put_infra`] inside a transaction the caller commits (an import writes every record
/// of one import in one).
pub(super) async fn put_infra_in(
    conn: &mut sqlx::SqliteConnection,
    name: &str,
    kind: &str,
    stage: &str,
    spec: &serde_json::Value,
) -> Result<()> {
    let at = now();
    let live: Option<(String, i64)> = sqlx::query_as(
        "SELECT i.kind, (SELECT COUNT(*) FROM deployments d WHERE d.infra = i.name)
         FROM infras i WHERE i.name = ?",
    )
    .bind(name)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some((old, deployments)) = live
        && old != kind
        && deployments > 0
    {
        return Err(StoreError::Conflict(format!(
            "infra `{name}` is of type {old} and has {deployments} deployment(s); delete them before changing its type"
        )));
    }
    sqlx::query(
        "INSERT INTO infras (name, kind, stage, spec, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(name) DO UPDATE SET kind = excluded.kind, stage = excluded.stage,
             spec = excluded.spec, updated_at = excluded.updated_at",
    )
    .bind(name)
    .bind(kind)
    .bind(stage)
    .bind(spec.to_string())
    .bind(at.as_str())
    .bind(at.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(())
}
