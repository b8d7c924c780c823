//! Project exports through the one library face: `ferry exports …` and `/v1/exports` record
//! an export, write it (here, or in the server's background), and hand out its zip.

use std::path::{Path, PathBuf};

use super::App;
use crate::credentials::{MasterKey, Secret};
use crate::exports::{self, ExportError, Project, Selection, Values};
use crate::store::{ExportRecord, ExportStatus};

/// The shortest passphrase secret values are encrypted to.
pub const MIN_PASSPHRASE: usize = 8;

impl App {
    /// The workflows directory exports take workflows from unless told another (the default
    /// of `ferry serve --workflows`).
    pub fn workflows_dir(&self) -> PathBuf {
        self.ctx().home.workflows()
    }

    /// Plans `selection` from what the home holds now (every name it gives must exist).
    async fn plan_export(
        &self,
        workflows: &Path,
        selection: &Selection,
    ) -> Result<exports::Plan, ExportError> {
        let store = &self.ctx().store;
        let infras = store.list_infras().await?;
        let deployments = store.list_deployments(None, None).await?;
        let variables = store.variable_values().await?;
        let secrets = store.list_secrets().await?;
        let packages = self.packages();
        exports::plan(
            selection,
            &Project {
                workflows,
                packages: &packages,
                infras: &infras,
                deployments: &deployments,
                variables: &variables,
                secrets: &secrets,
            },
        )
    }

    /// Records an export of `selection` from `workflows` and the home's store, `pending`. The
    /// selection is checked first (every name must exist; values need a passphrase), so a
    /// mistake is an error now rather than a failed export later.
    pub async fn create_export(
        &self,
        workflows: &Path,
        selection: &Selection,
        passphrase: Option<&Secret>,
    ) -> Result<ExportRecord, ExportError> {
        if selection.wants_values() {
            let passphrase = passphrase.ok_or(ExportError::NoPassphrase)?;
            if passphrase.expose().chars().count() < MIN_PASSPHRASE {
                return Err(ExportError::WeakPassphrase {
                    min: MIN_PASSPHRASE,
                });
            }
        }
        self.plan_export(workflows, selection).await?;
        let id = uuid::Uuid::now_v7().to_string();
        let selection = serde_json::to_value(selection).expect("a selection encodes");
        let record = self.ctx().store.create_export(&id, &selection).await?;
        tracing::info!(export = %id, "export created");
        Ok(record)
    }

    /// Writes pending export `id` and ends it `completed` (with its objects and size) or
    /// `failed` (with the reason); the record as it ended.
    pub async fn process_export(
        &self,
        id: &str,
        workflows: &Path,
        passphrase: Option<Secret>,
    ) -> Result<ExportRecord, ExportError> {
        let store = &self.ctx().store;
        let record = store.export(id).await?;
        if !store.start_export(id).await? {
            return Ok(record);
        }
        match self.write_export(&record, workflows, passphrase).await {
            Ok(written) => {
                let objects =
                    serde_json::to_value(&written.manifest.objects).expect("objects encode");
                store.complete_export(id, &objects, written.size).await?;
                tracing::info!(export = %id, size = written.size, "export completed");
            }
            Err(e) => {
                tracing::warn!(export = %id, "export failed: {e}");
                store.fail_export(id, &e.to_string()).await?;
            }
        }
        Ok(store.export(id).await?)
    }

    async fn write_export(
        &self,
        record: &ExportRecord,
        workflows: &Path,
        passphrase: Option<Secret>,
    ) -> Result<exports::Written, ExportError> {
        let selection: Selection = serde_json::from_value(record.selection.clone())
            .map_err(|e| ExportError::Selection(e.to_string()))?;
        let plan = self.plan_export(workflows, &selection).await?;
        let mut values = Values::new();
        if !plan.values.is_empty() {
            let file = self.ctx().home.master_key();
            let key = MasterKey::find(&file)?
                .ok_or(crate::credentials::VaultError::NoKey { path: file })?;
            let sealed = self.ctx().store.sealed_secrets().await?;
            for (credential, field) in &plan.values {
                let found = sealed
                    .iter()
                    .find(|s| s.credential == *credential && s.field == *field);
                if let Some(s) = found {
                    values.insert(
                        format!("{credential}.{field}"),
                        key.open(credential, field, &s.sealed)?,
                    );
                }
            }
        }
        let out = self.export_path(&record.id)?;
        let packages = self.packages();
        let (id, created_at) = (record.id.clone(), record.creation_date.clone());
        tokio::task::spawn_blocking(move || {
            exports::write(
                plan,
                &id,
                &created_at,
                &packages,
                &values,
                passphrase.as_ref(),
                &out,
            )
        })
        .await
        .expect("the export writer does not panic")
    }

    fn export_path(&self, id: &str) -> Result<PathBuf, ExportError> {
        self.ctx()
            .home
            .export(id)
            .map_err(|e| ExportError::Store(e.into()))
    }

    /// Exports, newest first (only those in `status` when given).
    pub async fn exports(
        &self,
        status: Option<ExportStatus>,
    ) -> Result<Vec<ExportRecord>, ExportError> {
        Ok(self.ctx().store.list_exports(status).await?)
    }

    /// Export `id`.
    pub async fn export(&self, id: &str) -> Result<ExportRecord, ExportError> {
        self.export_path(id)?;
        Ok(self.ctx().store.export(id).await?)
    }

    /// The zip of completed export `id`.
    pub async fn export_zip(&self, id: &str) -> Result<PathBuf, ExportError> {
        let record = self.export(id).await?;
        if record.status != ExportStatus::Completed {
            return Err(ExportError::NotCompleted {
                id: id.to_owned(),
                status: record.status,
            });
        }
        self.export_path(id)
    }

    /// Removes a finished export: its record and its zip.
    pub async fn delete_export(&self, id: &str) -> Result<(), ExportError> {
        let path = self.export_path(id)?;
        self.ctx().store.delete_export(id).await?;
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(ExportError::Io {
                    path: path.display().to_string(),
                    source: e,
                });
            }
            _ => {}
        }
        tracing::info!(export = %id, "export deleted");
        Ok(())
    }

    /// Ends exports a stopped process left unfinished as `failed`; how many.
    pub async fn fail_unfinished_exports(&self) -> Result<u64, ExportError> {
        Ok(self
            .ctx()
            .store
            .fail_unfinished_exports("interrupted: the process writing it stopped")
            .await?)
    }
}
