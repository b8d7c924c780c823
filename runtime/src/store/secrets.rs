//! The secret store's rows: sealed values by credential and field. The store neither seals nor
//! opens them ([`crate::credentials::vault`] does, above it), so nothing here can leak a value.

use serde::Serialize;

use super::{Result, Store, StoreError, now};
use crate::paths::{self, NameKind};

/// A stored secret, as listings show it: its name and when it was set, never its value.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretEntry {
    pub credential: String,
    pub field: String,
    pub updated_at: String,
}

/// A stored secret with its sealed value, for the one layer that opens it.
pub struct SealedSecret {
    pub credential: String,
    pub field: String,
    pub sealed: Vec<u8>,
}

impl Store {
    /// Stores (or replaces) the sealed value of `credential.field`; whether one was replaced.
    pub async fn put_secret(&self, credential: &str, field: &str, sealed: &[u8]) -> Result<bool> {
        let mut tx = self.write_tx().await?;
        let replaced = put_secret_in(&mut tx, credential, field, sealed).await?;
        tx.commit().await?;
        Ok(replaced)
    }

    /// Every stored secret's name, by credential then field.
    pub async fn list_secrets(&self) -> Result<Vec<SecretEntry>> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT credential, field, updated_at FROM secrets ORDER BY credential, field",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(credential, field, updated_at)| SecretEntry {
                credential,
                field,
                updated_at,
            })
            .collect())
    }

    /// `credential.field`'s entry, if it is stored.
    pub async fn secret_entry(&self, credential: &str, field: &str) -> Result<Option<SecretEntry>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT updated_at FROM secrets WHERE credential = ? AND field = ?")
                .bind(credential)
                .bind(field)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(updated_at,)| SecretEntry {
            credential: credential.to_owned(),
            field: field.to_owned(),
            updated_at,
        }))
    }

    /// Every sealed value (for resolving credentials).
    pub async fn sealed_secrets(&self) -> Result<Vec<SealedSecret>> {
        let rows: Vec<(String, String, Vec<u8>)> =
            sqlx::query_as("SELECT credential, field, sealed FROM secrets")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(credential, field, sealed)| SealedSecret {
                credential,
                field,
                sealed,
            })
            .collect())
    }

    /// Removes `credential.field`; [`StoreError::Missing`] when it is not stored.
    pub async fn delete_secret(&self, credential: &str, field: &str) -> Result<()> {
        let done = sqlx::query("DELETE FROM secrets WHERE credential = ? AND field = ?")
            .bind(credential)
            .bind(field)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Missing(format!(
                "no secret `{credential}.{field}` is stored"
            )));
        }
        Ok(())
    }
}

/// [`Store::put_secret`] inside a transaction the caller commits.
pub(super) async fn put_secret_in(
    conn: &mut sqlx::SqliteConnection,
    credential: &str,
    field: &str,
    sealed: &[u8],
) -> Result<bool> {
    paths::check(NameKind::Credential, credential)?;
    let existed: Option<(String,)> =
        sqlx::query_as("SELECT updated_at FROM secrets WHERE credential = ? AND field = ?")
            .bind(credential)
            .bind(field)
            .fetch_optional(&mut *conn)
            .await?;
    sqlx::query(
        "INSERT INTO secrets (credential, field, sealed, updated_at) VALUES (?, ?, ?, ?) \
         ON CONFLICT (credential, field) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at",
    )
    .bind(credential)
    .bind(field)
    .bind(sealed)
    .bind(now().as_str())
    .execute(&mut *conn)
    .await?;
    Ok(existed.is_some())
}
