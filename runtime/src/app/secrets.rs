//! The home's secret store and project variables: what `ferry secrets` / `ferry variables`
//! and `/v1/secrets`, `/v1/variables` manage. A secret's value goes in and is sealed; it never
//! comes back out of here, only whether it is set.

use std::collections::BTreeMap;

use super::App;
use crate::credentials::{MasterKey, SECRET_FIELDS, Secret, VaultError};
use crate::paths::{self, NameError, NameKind};
use crate::store::{SecretEntry, StoreError, Variable};

/// Why a secret could not be stored, listed or removed. No variant carries a value.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The credential's name is not a safe name.
    #[error(transparent)]
    Name(#[from] NameError),
    /// The field is not one a credential keeps secret.
    #[error("`{field}` is not a field of a credential's secrets: use one of {}", SECRET_FIELDS.join(", "))]
    UnknownField {
        /// The field asked for.
        field: String,
    },
    /// An empty value was given; removing a secret is `delete`, not an empty `set`.
    #[error("the value of secret `{credential}.{field}` is empty")]
    Empty {
        /// The credential's name.
        credential: String,
        /// The field's name.
        field: String,
    },
    /// The master key is missing, damaged or not the one the store was sealed with.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The store could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SecretError {
    /// Whether the request named or gave something wrong (not the server's key or store).
    pub fn is_input(&self) -> bool {
        matches!(
            self,
            SecretError::Name(_) | SecretError::UnknownField { .. } | SecretError::Empty { .. }
        )
    }
}

fn checked(credential: &str, field: &str) -> Result<(), SecretError> {
    paths::check(NameKind::Credential, credential)?;
    if !SECRET_FIELDS.contains(&field) {
        return Err(SecretError::UnknownField {
            field: field.to_owned(),
        });
    }
    Ok(())
}

impl App {
    /// Seals `value` under the home's master key (made on first use unless `FERRY_MASTER_KEY`
    /// is set) and stores it as field `field` of credential `credential`; whether it replaced
    /// a stored value. Credentials of every workflow and infra of this home find it after the
    /// environment and the `--secrets` file.
    pub async fn set_secret(
        &self,
        credential: &str,
        field: &str,
        value: Secret,
    ) -> Result<bool, SecretError> {
        checked(credential, field)?;
        if value.expose().is_empty() {
            return Err(SecretError::Empty {
                credential: credential.to_owned(),
                field: field.to_owned(),
            });
        }
        let key = MasterKey::find_or_create(&self.ctx().home.master_key())?;
        let sealed = key.seal(credential, field, &value)?;
        let replaced = self
            .ctx()
            .store
            .put_secret(credential, field, &sealed)
            .await?;
        self.ctx().refresh_secrets().await?;
        tracing::info!(credential, field, replaced, "secret stored");
        Ok(replaced)
    }

    /// Whether `credential.field` is stored (never its value).
    pub async fn secret(
        &self,
        credential: &str,
        field: &str,
    ) -> Result<Option<SecretEntry>, SecretError> {
        checked(credential, field)?;
        Ok(self.ctx().store.secret_entry(credential, field).await?)
    }

    /// The names of the stored secrets.
    pub async fn secrets(&self) -> Result<Vec<SecretEntry>, SecretError> {
        Ok(self.ctx().store.list_secrets().await?)
    }

    /// Removes `credential.field` from the store.
    pub async fn delete_secret(&self, credential: &str, field: &str) -> Result<(), SecretError> {
        checked(credential, field)?;
        self.ctx().store.delete_secret(credential, field).await?;
        self.ctx().refresh_secrets().await?;
        tracing::info!(credential, field, "secret deleted");
        Ok(())
    }
}

impl App {
    /// Sets project variable `name` (`${name}` in every workflow of the home); whether it
    /// replaced a value.
    pub async fn set_variable(&self, name: &str, value: &str) -> Result<bool, StoreError> {
        self.ctx().store.put_variable(name, value).await
    }

    /// Every project variable.
    pub async fn variables(&self) -> Result<Vec<Variable>, StoreError> {
        self.ctx().store.list_variables().await
    }

    /// Project variable `name`.
    pub async fn variable(&self, name: &str) -> Result<Variable, StoreError> {
        paths::check(NameKind::Variable, name)?;
        self.ctx().store.variable(name).await
    }

    /// Every project variable's value, by name (for filling in a workflow).
    pub async fn variable_values(&self) -> Result<BTreeMap<String, String>, StoreError> {
        self.ctx().store.variable_values().await
    }

    /// Removes project variable `name`.
    pub async fn delete_variable(&self, name: &str) -> Result<(), StoreError> {
        paths::check(NameKind::Variable, name)?;
        self.ctx().store.delete_variable(name).await
    }
}
