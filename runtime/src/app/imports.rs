//! Project imports through the one library face: `ferry imports …` and `/v1/imports` record
//! an import of a zip (uploaded, linked, or one of this home's exports), scan it, take its
//! confirmation and process it all or nothing.

use std::path::{Path, PathBuf};

use super::App;
use crate::credentials::MasterKey;
use crate::exports::Project;
use crate::imports::{self, Confirmation, Given, ImportError, LinkPolicy, Staged, ZIP};
use crate::store::{Holder, ImportRecord, ImportStatus, process_alive};

/// The most an import's zip may hold uncompressed (its entries are streamed to disk; only
/// one package at a time is held in memory, within the registry's own limit).
pub const IMPORT_LIMIT: u64 = 8 << 30;

/// Where an import's zip comes from.
pub enum ImportSource<'a> {
    /// A zip file on this machine (copied into the home).
    File(&'a Path),
    /// A zip's bytes (an HTTP upload).
    Bytes(&'a [u8]),
    /// A completed export of this home.
    Export(&'a str),
    /// A link, fetched when the import is scanned.
    Link(&'a str, &'a LinkPolicy),
}

impl App {
    fn import_dir(&self, id: &str) -> Result<PathBuf, ImportError> {
        self.ctx()
            .home
            .import(id)
            .map_err(|e| ImportError::Store(e.into()))
    }

    /// Records an import `pending` with its zip in place (a link's is fetched by
    /// [`scan_import`](Self::scan_import)). A link is checked against its policy first, so a
    /// host that is not allowed is an error now, with nothing recorded.
    pub async fn create_import(
        &self,
        source: ImportSource<'_>,
    ) -> Result<ImportRecord, ImportError> {
        let id = uuid::Uuid::now_v7().to_string();
        let dir = self.import_dir(&id)?;
        let zip = dir.join(ZIP);
        let described = match &source {
            ImportSource::File(file) => format!(
                "file {}",
                file.file_name().unwrap_or_default().to_string_lossy()
            ),
            ImportSource::Bytes(_) => "upload".to_owned(),
            ImportSource::Export(export) => {
                let record = self.export(export).await.map_err(|e| ImportError::Export {
                    id: (*export).to_owned(),
                    why: e.to_string(),
                })?;
                if record.status != crate::store::ExportStatus::Completed {
                    return Err(ImportError::Export {
                        id: (*export).to_owned(),
                        why: format!("it is {}, not completed", record.status),
                    });
                }
                format!("export {export}")
            }
            ImportSource::Link(link, policy) => {
                format!("link {}", imports::link::shown(&policy.check(link)?))
            }
        };
        std::fs::create_dir_all(&dir).map_err(ImportError::io(&dir))?;
        let placed = match source {
            ImportSource::File(file) => std::fs::copy(file, &zip)
                .map(drop)
                .map_err(ImportError::io(file)),
            ImportSource::Bytes(bytes) => {
                std::fs::write(&zip, bytes).map_err(ImportError::io(&zip))
            }
            ImportSource::Export(export) => {
                let from = self
                    .export_zip(export)
                    .await
                    .map_err(|e| ImportError::Export {
                        id: export.to_owned(),
                        why: e.to_string(),
                    })?;
                std::fs::copy(&from, &zip)
                    .map(drop)
                    .map_err(ImportError::io(&from))
            }
            ImportSource::Link(..) => Ok(()),
        };
        if let Err(e) = placed {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e);
        }
        let record = self.ctx().store.create_import(&id, &described).await?;
        tracing::info!(import = %id, source = %described, "import created");
        Ok(record)
    }

    /// What the home holds now, for comparing an export with.
    async fn project_state(&self) -> Result<ProjectState, ImportError> {
        let store = &self.ctx().store;
        Ok(ProjectState {
            infras: store.list_infras().await?,
            deployments: store.list_deployments(None, None).await?,
            variables: store.variable_values().await?,
            secrets: store.list_secrets().await?,
        })
    }

    /// Scans pending import `id` (fetching its link first, when it has one, under `policy`):
    /// it ends in `confirmation` with what was found, or `failed` with why. The record as it
    /// ended.
    pub async fn scan_import(
        &self,
        id: &str,
        workflows: &Path,
        link: Option<(&str, &LinkPolicy)>,
    ) -> Result<ImportRecord, ImportError> {
        let store = &self.ctx().store;
        if !store.start_scan(id).await? {
            let record = store.import(id).await?;
            return Err(ImportError::State {
                id: id.to_owned(),
                status: record.status,
                needs: "only a pending import is scanned",
            });
        }
        let zip = self.import_dir(id)?.join(ZIP);
        let scanned = async {
            if let Some((link, policy)) = link {
                let url = policy.check(link)?;
                imports::link::fetch(policy, &url, &zip).await?;
            }
            let state = self.project_state().await?;
            let packages = self.packages();
            let mut opened = imports::open(&zip, IMPORT_LIMIT)?;
            let found = imports::scan(&mut opened, &state.project(workflows, &packages))?;
            Ok::<_, ImportError>((opened.size, found))
        }
        .await;
        match scanned {
            Ok((size, found)) => {
                let found = serde_json::to_value(&found).expect("findings encode");
                store.scanned(id, size, &found).await?;
                tracing::info!(import = %id, size, "import scanned");
            }
            Err(e) => {
                tracing::warn!(import = %id, "import scan failed: {e}");
                let _ = std::fs::remove_file(&zip);
                store.fail_import(id, &e.to_string()).await?;
            }
        }
        Ok(store.import(id).await?)
    }

    /// Confirms import `id` (it must be in `confirmation`) and processes it. A confirmation
    /// that cannot be carried out (an unknown name, an unsettled conflict, an unsatisfiable
    /// deployment, a missing secret value, a wrong passphrase) is the error and leaves the
    /// import waiting; one that can ends the import `completed`, or `failed` with everything
    /// it had placed undone.
    pub async fn confirm_import(
        &self,
        id: &str,
        workflows: &Path,
        confirmation: &Confirmation,
        given: Given,
    ) -> Result<ImportRecord, ImportError> {
        let store = &self.ctx().store;
        let record = store.import(id).await?;
        if record.status != ImportStatus::Confirmation {
            return Err(ImportError::State {
                id: id.to_owned(),
                status: record.status,
                needs: "only an import waiting in confirmation can be confirmed",
            });
        }
        let dir = self.import_dir(id)?;
        let packages = self.packages();
        let state = self.project_state().await?;
        let mut opened = imports::open(&dir.join(ZIP), IMPORT_LIMIT)?;
        let mut prepared = imports::prepare(
            &mut opened,
            &state.project(workflows, &packages),
            confirmation,
            &given,
            packages.limit(),
        )?;
        drop(given);
        if !prepared.secret_values.is_empty() {
            let key = MasterKey::find_or_create(&self.ctx().home.master_key())?;
            for (credential, field, value) in std::mem::take(&mut prepared.secret_values) {
                let sealed = key.seal(&credential, &field, &value)?;
                prepared.writes.secrets.push((credential, field, sealed));
            }
        }
        let chosen = serde_json::to_value(confirmation).expect("a confirmation encodes");
        if !store
            .start_processing(id, &chosen, Holder::this_process())
            .await?
        {
            let record = store.import(id).await?;
            return Err(ImportError::State {
                id: id.to_owned(),
                status: record.status,
                needs: "another confirmation took it first",
            });
        }
        let result = serde_json::to_value(&prepared.outcomes).expect("outcomes encode");
        let mut staged = Staged::new(&dir);
        let done = match staged.place(&prepared, &mut opened, workflows, &packages) {
            Ok(()) => store
                .complete_import(id, &prepared.writes, &result)
                .await
                .map_err(ImportError::from),
            Err(e) => Err(e),
        };
        match done {
            Ok(()) => {
                staged.settle()?;
                self.ctx().refresh_secrets().await?;
                tracing::info!(import = %id, "import completed");
            }
            Err(e) => {
                tracing::warn!(import = %id, "import failed: {e}; undoing what it placed");
                drop(staged);
                let undone = imports::rollback(&dir, &packages, false);
                let message = match undone {
                    Ok(()) => e.to_string(),
                    Err(u) => format!("{e} (and undoing it failed: {u})"),
                };
                store.fail_import(id, &message).await?;
            }
        }
        Ok(store.import(id).await?)
    }

    /// Confirms import `id` with choices given up front (`skipConfirmation`): a confirmation
    /// that cannot be carried out fails the import with the reason, as nobody is there to
    /// correct it.
    pub async fn confirm_unattended(
        &self,
        id: &str,
        workflows: &Path,
        confirmation: &Confirmation,
        given: Given,
    ) -> Result<ImportRecord, ImportError> {
        match self
            .confirm_import(id, workflows, confirmation, given)
            .await
        {
            Err(e) if e.is_input() => {
                self.ctx().store.fail_import(id, &e.to_string()).await?;
                Ok(self.ctx().store.import(id).await?)
            }
            other => other,
        }
    }

    /// Imports, newest first (only those in `status` when given).
    pub async fn imports(
        &self,
        status: Option<ImportStatus>,
    ) -> Result<Vec<ImportRecord>, ImportError> {
        Ok(self.ctx().store.list_imports(status).await?)
    }

    /// Import `id`.
    pub async fn import(&self, id: &str) -> Result<ImportRecord, ImportError> {
        self.import_dir(id)?;
        Ok(self.ctx().store.import(id).await?)
    }

    /// The zip of import `id`, while it is kept (a failed scan drops it).
    pub async fn import_zip(&self, id: &str) -> Result<PathBuf, ImportError> {
        let record = self.import(id).await?;
        let zip = self.import_dir(id)?.join(ZIP);
        if !zip.is_file() {
            return Err(ImportError::State {
                id: id.to_owned(),
                status: record.status,
                needs: "its zip is not kept (it was never fetched, or its scan failed)",
            });
        }
        Ok(zip)
    }

    /// Removes an import that is not being scanned or processed: its record and its zip.
    pub async fn delete_import(&self, id: &str) -> Result<(), ImportError> {
        let dir = self.import_dir(id)?;
        self.ctx().store.delete_import(id).await?;
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(ImportError::io(&dir)(e));
            }
            _ => {}
        }
        tracing::info!(import = %id, "import deleted");
        Ok(())
    }

    /// Ends imports a stopped process left unfinished as `failed`, undoing what a killed
    /// processing had placed; how many. Imports being processed by a live process are left
    /// alone; `all` also ends pending and scanning ones (a server starting: nothing else
    /// scans for it).
    pub async fn recover_imports(&self, all: bool) -> Result<u64, ImportError> {
        let store = &self.ctx().store;
        let me = Holder::this_process();
        let mut ended = 0;
        for record in store.list_imports(None).await? {
            let abandoned = match (record.status, &record.processor) {
                (ImportStatus::Processing, Some((host, pid))) => {
                    *host == me.host && *pid != me.pid && !process_alive(*pid)
                }
                (ImportStatus::Pending | ImportStatus::Scanning, _) => all,
                _ => false,
            };
            if !abandoned {
                continue;
            }
            let dir = self.import_dir(&record.id)?;
            if record.status == ImportStatus::Processing {
                imports::rollback(&dir, &self.packages(), false)?;
            }
            if store
                .fail_import(
                    &record.id,
                    "interrupted: the process handling it stopped; nothing of it was kept",
                )
                .await?
            {
                ended += 1;
            }
        }
        Ok(ended)
    }
}

/// The records a scan compares an export with, owned for the scan's length.
struct ProjectState {
    infras: Vec<crate::store::InfraRecord>,
    deployments: Vec<crate::store::DeploymentRecord>,
    variables: std::collections::BTreeMap<String, String>,
    secrets: Vec<crate::store::SecretEntry>,
}

impl ProjectState {
    fn project<'a>(
        &'a self,
        workflows: &'a Path,
        packages: &'a crate::package::Registry,
    ) -> Project<'a> {
        Project {
            workflows,
            packages,
            infras: &self.infras,
            deployments: &self.deployments,
            variables: &self.variables,
            secrets: &self.secrets,
        }
    }
}
