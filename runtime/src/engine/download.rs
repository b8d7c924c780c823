//! Objects are downloaded ahead of the parser, a few at a time: each object gets a task and a
//! source instance (one that read an object to its end is reused, a failed one never), which reads it in chunks into a small bounded channel. The job
//! consumes the objects in order, so commits stay in key order while the next downloads are
//! already under way. An object holds its place among the `concurrency` until the job has
//! consumed it, so memory stays bounded by `concurrency × (DEPTH + 1) × CHUNK`.

use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use crate::host::{InstanceOptions, LoadedPlugin, PluginError, PluginHost, SourceInstance};

/// Bytes asked of the source per read.
pub const CHUNK: u64 = 4 << 20;
/// Chunks of one object waiting for the parser.
const DEPTH: usize = 2;

/// One step of an object's download.
pub enum Chunk {
    Data(Vec<u8>),
    /// The object was read to its end.
    End,
}

/// The chunks of one object, in order; an error ends them.
pub type ObjectChunks = mpsc::Receiver<Result<Chunk, PluginError>>;

/// Downloads in flight, in the order the job consumes them. Dropping it stops them all.
///
/// An object's channel is made when its download starts, not when the job is listed: a job of
/// ten thousand objects holds a few channels, not ten thousand.
pub struct Downloads {
    started: mpsc::Receiver<(String, ObjectChunks)>,
    _tasks: JoinSet<()>,
}

impl Downloads {
    pub fn start(
        host: Arc<PluginHost>,
        plugin: Arc<LoadedPlugin>,
        options: InstanceOptions,
        keys: Vec<String>,
        concurrency: usize,
    ) -> Downloads {
        let concurrency = concurrency.max(1);
        let permits = Arc::new(Semaphore::new(concurrency));
        let (started_tx, started) = mpsc::channel(concurrency);
        // A source instance that read an object to its end reads the next one.
        let idle: Arc<std::sync::Mutex<Vec<SourceInstance>>> = Arc::default();
        let mut tasks = JoinSet::new();
        // One scheduler hands out places strictly in consumption order: were each download to
        // queue for its own place, a later object could take the place the next one needs.
        tasks.spawn(async move {
            let mut downloads = JoinSet::new();
            for key in keys {
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    return;
                };
                let (tx, rx) = mpsc::channel(DEPTH);
                if started_tx.send((key.clone(), rx)).await.is_err() {
                    // The job no longer wants any object.
                    return;
                }
                let (host, plugin, options) = (host.clone(), plugin.clone(), options.clone());
                let idle = idle.clone();
                downloads.spawn(async move {
                    let reused = idle.lock().expect("idle sources").pop();
                    let source = match reused {
                        Some(source) => Ok(source),
                        None => host.source(&plugin, &options).await,
                    };
                    let read = match source {
                        Ok(mut source) => match download(&mut source, &key, &tx).await {
                            Ok(()) => {
                                idle.lock().expect("idle sources").push(source);
                                Ok(())
                            }
                            Err(e) => Err(e),
                        },
                        Err(e) => Err(e),
                    };
                    if let Err(e) = read {
                        let _ = tx.send(Err(e)).await;
                    }
                    // The object holds its place until the job is done with it, so finished
                    // downloads cannot pile up ahead of a slow parser.
                    tx.closed().await;
                    drop(permit);
                });
                // Reap finished downloads as we go.
                while downloads.try_join_next().is_some() {}
            }
            while downloads.join_next().await.is_some() {}
        });
        Downloads {
            started,
            _tasks: tasks,
        }
    }

    /// Lets every download end on its own (each stops at its next chunk, once nobody wants the
    /// object) and waits for them. Dropping aborts them instead, which is fine mid-job but not
    /// just before the process exits: a source call cut off in its blocking I/O panics.
    pub async fn finish(mut self) {
        self.started.close();
        while self.started.recv().await.is_some() {}
        while self._tasks.join_next().await.is_some() {}
    }

    /// The next object's chunks, or `None` when every object has been handed out.
    pub async fn next(&mut self, key: &str) -> Option<ObjectChunks> {
        let (next, chunks) = self.started.recv().await?;
        debug_assert_eq!(
            next, key,
            "objects are consumed in the order they were queued"
        );
        Some(chunks)
    }
}

async fn download(
    source: &mut SourceInstance,
    key: &str,
    tx: &mpsc::Sender<Result<Chunk, PluginError>>,
) -> Result<(), PluginError> {
    let mut offset = 0u64;
    loop {
        let bytes = source.read(key, offset, CHUNK).await?;
        let n = bytes.len() as u64;
        offset += n;
        if n > 0 && tx.send(Ok(Chunk::Data(bytes))).await.is_err() {
            // The job no longer wants this object (it failed or was canceled).
            return Ok(());
        }
        if n < CHUNK {
            let _ = tx.send(Ok(Chunk::End)).await;
            return Ok(());
        }
    }
}
