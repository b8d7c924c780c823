//! Parsing and Parquet encoding overlap: mapped batches go through a small bounded channel to
//! a task that owns the table writer, so on two cores one parses while the other encodes, and
//! at most a few batches wait in memory.

use arrow::array::RecordBatch;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::table::{StagedFiles, TableError, TableWriter};

/// Batches in flight between the parser and the writer.
const DEPTH: usize = 4;

pub struct PipelinedWriter {
    tx: mpsc::Sender<RecordBatch>,
    task: JoinHandle<Result<StagedFiles, TableError>>,
}

impl PipelinedWriter {
    pub fn start(mut writer: TableWriter) -> Self {
        let (tx, mut rx) = mpsc::channel::<RecordBatch>(DEPTH);
        let task = tokio::spawn(async move {
            while let Some(batch) = rx.recv().await {
                writer.write(&batch).await?;
            }
            writer.finish().await
        });
        PipelinedWriter { tx, task }
    }

    pub async fn write(&mut self, batch: RecordBatch) -> Result<(), TableError> {
        if self.tx.send(batch).await.is_ok() {
            return Ok(());
        }
        // The writer stopped early: its error says why.
        match (&mut self.task).await {
            Ok(Err(e)) => Err(e),
            Ok(Ok(_)) | Err(_) => Err(TableError::Io {
                path: Default::default(),
                message: "the table writer stopped unexpectedly".into(),
            }),
        }
    }

    /// Waits for every batch to be encoded; the data files are then ready to commit.
    pub async fn finish(self) -> Result<StagedFiles, TableError> {
        drop(self.tx);
        self.task.await.unwrap_or_else(|e| {
            Err(TableError::Io {
                path: Default::default(),
                message: format!("the table writer task failed: {e}"),
            })
        })
    }
}
