//! One atomic Delta commit per call: staged data files, the removal of old ones (replace), a
//! schema change (new columns) and the application transaction all land together, or none does.

use std::path::Path;

use arrow::datatypes::SchemaRef;
use deltalake::DeltaTableError;
use deltalake::checkpoints;
use deltalake::kernel::engine::arrow_conversion::TryIntoKernel;
use deltalake::kernel::transaction::{CommitBuilder, CommitProperties, TransactionError};
use deltalake::kernel::{Action, MetadataExt, StructType, Transaction};
use deltalake::protocol::{DeltaOperation, SaveMode};
use deltalake::table::config::TablePropertiesExt;

use super::error::TableError;
use super::{StagedFiles, Table, delta_error, schema};

/// How a commit treats the rows already in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// The staged rows join the existing ones.
    Append,
    /// Every current data file is removed in the same commit: an atomic overwrite. Readers see
    /// the old rows or the new ones, never both or neither.
    Replace,
}

/// An application transaction recorded with a commit (Delta's `txn` action).
///
/// `version` must grow with each commit of the same `app_id`: the table keeps the last one, and
/// a commit whose version is not newer is refused as a duplicate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppTxn {
    pub app_id: String,
    pub version: i64,
}

impl AppTxn {
    pub fn new(app_id: &str, version: i64) -> Self {
        AppTxn {
            app_id: app_id.to_owned(),
            version,
        }
    }
}

impl Table {
    /// Commits `staged` in one Delta commit, with `txn` and `info` (extra `commitInfo` fields,
    /// such as `ferry.jobId`) in the same commit. Returns the new table version.
    ///
    /// The first commit creates the table, with the staged columns, in that same commit. New
    /// columns are added to the table's schema by the commit that first carries them.
    pub async fn commit(
        &mut self,
        staged: StagedFiles,
        mode: WriteMode,
        txn: Option<AppTxn>,
        info: serde_json::Map<String, serde_json::Value>,
    ) -> Result<i64, TableError> {
        self.commit_with(staged, mode, txn, info, &[]).await
    }

    /// [`Table::commit`], and if the commit creates the table, with these `properties`
    /// (Delta's `configuration`).
    pub(super) async fn commit_with(
        &mut self,
        staged: StagedFiles,
        mode: WriteMode,
        txn: Option<AppTxn>,
        info: serde_json::Map<String, serde_json::Value>,
        properties_on_create: &[(String, String)],
    ) -> Result<i64, TableError> {
        // Writers are checked when they start, but the table may have gained columns since, and
        // a replace gathers the files of many writers.
        let mut columns = self.schema.clone();
        for s in &staged.schemas {
            columns = Some(schema::merge(&self.path, columns.as_ref(), s)?);
        }
        if let Some(txn) = &txn {
            self.refuse_committed(txn).await?;
        }

        let (rows, files, bytes) = (staged.rows(), staged.files(), staged.bytes());
        let mut properties = CommitProperties::default()
            .with_metadata(info)
            // Checkpoints are written after the commit, by `checkpoint_if_due`: a failure there
            // must not report a commit that landed as failed.
            .with_create_checkpoint(false)
            .with_cleanup_expired_logs(Some(false));
        if mode == WriteMode::Replace {
            // A replace removes the files its snapshot lists. Without DataFusion, delta-rs's
            // conflict checker lets a concurrent append through an unpredicated overwrite, and
            // those rows would survive it; so a replace lands only on the version it read.
            properties = properties.with_max_retries(0);
        }
        if let Some(txn) = &txn {
            // No `lastUpdated`: with it, a table's `delta.setTransactionRetentionDuration` could
            // expire the record, and a resumed job would then commit its objects again.
            properties =
                properties.with_application_transaction(Transaction::new(&txn.app_id, txn.version));
        }
        let staged_schemas = staged.schemas.clone();
        let removes = staged.removes.clone();
        let adds: Vec<Action> = staged.adds.into_iter().map(Action::Add).collect();

        let result = if self.delta.version().is_some() {
            self.commit_to_existing(columns, adds, &removes, mode, properties)
                .await
        } else {
            match columns {
                Some(c) if !c.fields().is_empty() => {
                    let created = self
                        .create(&c, adds.clone(), properties.clone(), properties_on_create)
                        .await;
                    match created {
                        // Another writer created the table first (two first runs at once):
                        // commit to the table it made instead.
                        Err(TableError::Conflict { .. }) => {
                            self.reload().await?;
                            let mut columns = self.schema.clone();
                            for s in &staged_schemas {
                                columns = Some(schema::merge(&self.path, columns.as_ref(), s)?);
                            }
                            self.commit_to_existing(columns, adds, &removes, mode, properties)
                                .await
                        }
                        other => other,
                    }
                }
                _ => Err(TableError::NoColumns {
                    path: self.path.clone(),
                }),
            }
        };
        let version = match result {
            Ok(v) => v,
            Err(e) => {
                // The table may have moved under us: look transactions up afresh next time.
                self.txns.clear();
                return Err(e);
            }
        };
        if let Some(txn) = &txn {
            self.txns.insert(txn.app_id.clone(), txn.version);
        }
        tracing::info!(
            table = %self.path.display(),
            version,
            rows,
            files,
            bytes,
            mode = ?mode,
            app_id = txn.as_ref().map(|t| t.app_id.as_str()),
            app_version = txn.as_ref().map(|t| t.version),
            "committed"
        );
        self.checkpoint_if_due(version).await;
        Ok(version)
    }

    /// Refuses a transaction whose version the table already holds for its application: its
    /// rows are in, and committing again would store them twice.
    pub(super) async fn refuse_committed(&self, txn: &AppTxn) -> Result<(), TableError> {
        match self.app_version(&txn.app_id).await? {
            Some(committed) if committed >= txn.version => Err(TableError::AlreadyCommitted {
                path: self.path.clone(),
                app_id: txn.app_id.clone(),
                version: txn.version,
                committed,
            }),
            _ => Ok(()),
        }
    }

    /// Creates the table with its first data in a single commit (protocol, metadata, files,
    /// transaction): there is never a table without the rows that created it.
    async fn create(
        &mut self,
        columns: &SchemaRef,
        adds: Vec<Action>,
        properties: CommitProperties,
        configuration: &[(String, String)],
    ) -> Result<i64, TableError> {
        let kernel = kernel_schema(&self.path, columns)?;
        let created = self
            .delta
            .create()
            .with_columns(kernel.fields().cloned())
            .with_configuration(configuration.iter().map(|(k, v)| (k, Some(v))))
            // ferry's own properties (`ferry.rollup`) are not Delta's, and are kept as given.
            .with_raise_if_key_not_exists(false)
            .with_actions(adds)
            .with_commit_properties(properties)
            .await;
        match created {
            Ok(table) => {
                self.delta = table;
                self.schema = self.current_schema()?;
                Ok(self.version().unwrap_or(0))
            }
            // Creation refuses an existing table; if one appeared, someone else made it.
            Err(source) if matches!(self.delta.verify_deltatable_existence().await, Ok(true)) => {
                Err(TableError::Conflict {
                    path: self.path.clone(),
                    source: Box::new(source),
                })
            }
            Err(source) => Err(commit_error(&self.path, source)),
        }
    }

    async fn commit_to_existing(
        &mut self,
        columns: Option<SchemaRef>,
        adds: Vec<Action>,
        removes: &[String],
        mode: WriteMode,
        properties: CommitProperties,
    ) -> Result<i64, TableError> {
        let state = self
            .delta
            .snapshot()
            .map_err(|source| delta_error(&self.path, "read the table state", source))?;
        let mut actions: Vec<Action> = Vec::new();
        if let Some(columns) = &columns
            && schema::adds_columns(self.schema.as_ref(), columns)
        {
            let metadata = state
                .metadata()
                .clone()
                .with_schema(&kernel_schema(&self.path, columns)?)
                .map_err(|source| delta_error(&self.path, "add columns", source.into()))?;
            actions.push(Action::Metadata(metadata));
        }
        if mode == WriteMode::Replace || !removes.is_empty() {
            let current = state
                .snapshot()
                .try_log_data()
                .map_err(|source| delta_error(&self.path, "list the data files", source))?;
            let wanted: std::collections::HashSet<&str> =
                removes.iter().map(String::as_str).collect();
            actions.extend(
                current
                    .iter()
                    .filter(|f| mode == WriteMode::Replace || wanted.contains(f.path().as_ref()))
                    .map(|f| Action::Remove(f.remove_action(true))),
            );
        }
        actions.extend(adds);
        let operation = DeltaOperation::Write {
            mode: match mode {
                WriteMode::Append => SaveMode::Append,
                WriteMode::Replace => SaveMode::Overwrite,
            },
            partition_by: None,
            predicate: None,
        };
        let finalized = CommitBuilder::from(properties)
            .with_actions(actions)
            .build(Some(state), self.delta.log_store(), operation)
            .await
            .map_err(|source| commit_error(&self.path, source))?;
        let version = finalized.version() as i64;
        self.set_state(finalized.snapshot)?;
        Ok(version)
    }

    /// Writes a checkpoint when the table's interval (100 commits unless configured) is reached,
    /// so opening a table stays fast after thousands of one-object commits. Best effort: the
    /// commit already landed, and a missing checkpoint only costs reading more log files.
    pub(super) async fn checkpoint_if_due(&self, version: i64) {
        let Ok(state) = self.delta.snapshot() else {
            return;
        };
        let config = state.table_config();
        if !(version as u64 + 1).is_multiple_of(config.checkpoint_interval().get()) {
            return;
        }
        if let Err(e) = checkpoints::create_checkpoint(&self.delta, None).await {
            tracing::warn!(table = %self.path.display(), version, error = %e, "checkpoint failed");
            return;
        }
        tracing::debug!(table = %self.path.display(), version, "checkpoint written");
        if config.enable_expired_log_cleanup()
            && let Err(e) = checkpoints::cleanup_metadata(&self.delta, None).await
        {
            tracing::warn!(table = %self.path.display(), version, error = %e, "log cleanup failed");
        }
    }
}

fn kernel_schema(path: &Path, columns: &SchemaRef) -> Result<StructType, TableError> {
    columns
        .as_ref()
        .try_into_kernel()
        .map_err(|e| delta_error(path, "convert the schema", e.into()))
}

/// A commit that lost a race is a [`TableError::Conflict`]; anything else is the library's.
pub(super) fn commit_error(path: &Path, source: DeltaTableError) -> TableError {
    let conflict = matches!(
        &source,
        DeltaTableError::VersionAlreadyExists(_)
            | DeltaTableError::Transaction {
                source: TransactionError::CommitConflict(_)
                    | TransactionError::MaxCommitAttempts(_)
            }
    );
    if conflict {
        TableError::Conflict {
            path: path.to_owned(),
            source: Box::new(source),
        }
    } else {
        delta_error(path, "commit", source)
    }
}
