//! Project variables: values for `${name}` in the text of every workflow of the home (a
//! trigger's own `variables` override them).

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Result, Store, StoreError, now};
use crate::paths::{self, NameKind};

/// A project variable.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Variable {
    pub name: String,
    pub value: String,
    pub updated_at: String,
}

impl Store {
    /// Sets (or replaces) variable `name`; whether one was replaced.
    pub async fn put_variable(&self, name: &str, value: &str) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let replaced = put_variable_in(&mut tx, name, value).await?;
        tx.commit().await?;
        Ok(replaced)
    }

    /// Every variable, by name.
    pub async fn list_variables(&self) -> Result<Vec<Variable>> {
        let rows: Vec<(String, String, String)> =
            sqlx::query_as("SELECT name, value, updated_at FROM variables ORDER BY name")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(name, value, updated_at)| Variable {
                name,
                value,
                updated_at,
            })
            .collect())
    }

    /// Every variable's value by name, for substitution.
    pub async fn variable_values(&self) -> Result<BTreeMap<String, String>> {
        Ok(self
            .list_variables()
            .await?
            .into_iter()
            .map(|v| (v.name, v.value))
            .collect())
    }

    /// Variable `name`, or [`StoreError::Missing`].
    pub async fn variable(&self, name: &str) -> Result<Variable> {
        self.list_variables()
            .await?
            .into_iter()
            .find(|v| v.name == name)
            .ok_or_else(|| StoreError::Missing(format!("no variable `{name}`")))
    }

    /// Removes variable `name`; [`StoreError::Missing`] when there is none.
    pub async fn delete_variable(&self, name: &str) -> Result<()> {
        let done = sqlx::query("DELETE FROM variables WHERE name = ?")
            .bind(name)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Missing(format!("no variable `{name}`")));
        }
        Ok(())
    }
}

/// [`Store::put_variable`] inside a transaction the caller commits.
pub(super) async fn put_variable_in(
    conn: &mut sqlx::SqliteConnection,
    name: &str,
    value: &str,
) -> Result<bool> {
    paths::check(NameKind::Variable, name)?;
    // Values land inside TOML strings: keep them from closing the string.
    if value.contains(['"', '\\', '\n', '\r']) {
        return Err(StoreError::Invalid(format!(
            "variable `{name}` may not contain quotes, backslashes or newlines: its value goes inside a TOML string"
        )));
    }
    let existed: Option<(String,)> =
        sqlx::query_as("SELECT updated_at FROM variables WHERE name = ?")
            .bind(name)
            .fetch_optional(&mut *conn)
            .await?;
    sqlx::query(
        "INSERT INTO variables (name, value, updated_at) VALUES (?, ?, ?) \
         ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(name)
    .bind(value)
    .bind(now().as_str())
    .execute(&mut *conn)
    .await?;
    Ok(existed.is_some())
}
