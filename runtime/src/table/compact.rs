//! Compaction (Delta's OPTIMIZE): a table's small data files rewritten into files of the target
//! size, in one commit that removes the old files and adds the new ones with `dataChange =
//! false`, so readers and incremental consumers see the same rows before and after.
//!
//! It is ferry's own rather than delta-rs's `optimize` (which needs DataFusion and rewrites
//! every small file): files named in `keep` are left as they are. Those are the data files an
//! object keeps to itself so that a later version of it can replace its rows
//! (`on_change = "reimport"`); rewritten into a shared file, that handle would be lost.
//!
//! Readers holding an older version keep reading the old files, which stay on disk until a
//! vacuum past the retention removes them. A concurrent append lands its own files and is
//! not affected; a concurrent commit that removed one of the files being compacted makes the
//! compaction fail as a conflict, and nothing of it is written.

use std::collections::HashSet;

use deltalake::kernel::Action;
use deltalake::kernel::transaction::{CommitBuilder, CommitProperties};
use deltalake::protocol::DeltaOperation;
use serde::Serialize;

use super::error::TableError;
use super::read::data_file;
use super::{Table, delta_error};

/// What a compaction did.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CompactReport {
    /// The version the compaction committed; `None` when there was nothing to compact.
    pub version: Option<i64>,
    /// Small files rewritten (and removed from the table).
    pub files_removed: usize,
    /// Files written in their place.
    pub files_added: usize,
    /// Rows rewritten.
    pub rows: u64,
    pub bytes_removed: u64,
    pub bytes_added: u64,
    /// Files left alone because an object's later version must be able to replace them.
    pub files_kept: usize,
}

impl Table {
    /// Rewrites the data files smaller than half of `target_file_bytes` (except those in
    /// `keep`, table-relative paths) into files of about `target_file_bytes`, in one commit.
    /// Fewer than two such files is nothing to do.
    pub async fn compact(
        &mut self,
        keep: &HashSet<String>,
        target_file_bytes: u64,
    ) -> Result<CompactReport, TableError> {
        let (Ok(state), Some(schema)) = (self.delta.snapshot(), self.schema.clone()) else {
            return Ok(CompactReport::default());
        };
        let mut report = CompactReport::default();
        let mut small = Vec::new();
        let log = state
            .snapshot()
            .try_log_data()
            .map_err(|source| delta_error(&self.path, "list the data files", source))?;
        for file in log.iter() {
            let size = file.size().max(0) as u64;
            if size * 2 >= target_file_bytes {
                continue;
            }
            let path = file.path().into_owned();
            if keep.contains(&path) {
                report.files_kept += 1;
                continue;
            }
            if file.deletion_vector_descriptor().is_some() {
                // Its deleted rows would come back: not ours to rewrite.
                continue;
            }
            small.push((
                path,
                file.object_store_path(),
                size,
                file.remove_action(false),
            ));
        }
        if small.len() < 2 {
            return Ok(report);
        }

        let mut writer = self.writer_with_target(schema.clone(), target_file_bytes)?;
        for (name, location, size, _) in &small {
            // Small by definition (under half the target), so one file in memory is bounded.
            for batch in data_file(self, name, location, &schema).await? {
                let batch = batch?;
                report.rows += batch.num_rows() as u64;
                writer.write(&batch).await?;
            }
            report.bytes_removed += size;
        }
        let mut staged = writer.finish().await?;
        for add in &mut staged.adds {
            add.data_change = false;
        }
        report.files_removed = small.len();
        report.files_added = staged.adds.len();
        report.bytes_added = staged.bytes();

        let mut actions: Vec<Action> = small
            .into_iter()
            .map(|(.., remove)| Action::Remove(remove))
            .collect();
        actions.extend(staged.adds.into_iter().map(Action::Add));
        let operation = DeltaOperation::Optimize {
            predicate: None,
            target_size: target_file_bytes as i64,
        };
        // Retries let the commit land after a concurrent append (disjoint files); a commit
        // that removed one of these files is a conflict, and this one is not written.
        let properties = CommitProperties::default()
            .with_create_checkpoint(false)
            .with_cleanup_expired_logs(Some(false));
        let finalized = CommitBuilder::from(properties)
            .with_actions(actions)
            .build(Some(state), self.delta.log_store(), operation)
            .await
            .map_err(|source| super::commit::commit_error(&self.path, source))?;
        let version = finalized.version() as i64;
        self.set_state(finalized.snapshot)?;
        tracing::info!(
            table = %self.path.display(),
            version,
            files_removed = report.files_removed,
            files_added = report.files_added,
            rows = report.rows,
            files_kept = report.files_kept,
            "compacted"
        );
        report.version = Some(version);
        Ok(report)
    }
}
