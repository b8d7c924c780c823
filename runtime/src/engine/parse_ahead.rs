//! Objects are parsed ahead of the mapping, several at once: each object gets a parser
//! instance and a task of its own (the wasm parse is what costs, and it runs on every core),
//! which sends its steps into a small bounded channel. The job maps and stages the objects in
//! order, so commits stay in key order and schemas evolve as in a sequential run.
//!
//! An object holds its place among the `parallel` until the job has consumed it. What a parse
//! has decoded ahead of the job is bounded in bytes ([`AHEAD_BYTES`] per object), so memory
//! stays bounded by `parallel × AHEAD_BYTES` however large the objects or their row groups.
//! The budget is what makes the parallelism real: an object parsed alongside the one the job
//! is mapping gets far enough ahead to keep its core busy. A parser that failed is never
//! reused. One object large enough is itself parsed in ranges on `parallel` instances, when its
//! format allows ([`split`]).

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::JoinSet;

use super::download::Downloads;
use super::file::{Emit, FileContext, FileFailure, FileReport, Input, Sink, Step, absorb, parse};
use super::split::{self, Ranges, Splitting};
use crate::host::{InstanceOptions, LoadedPlugin, ParserInstance, PluginHost};
use crate::store::ErrorInfo;

/// Decoded bytes one object may hold ahead of the job (4×50 MB CSVs on 2 cores: 39 MB/s with
/// 2 outputs ahead, 51 MB/s with 32 MiB; peak RSS 150 → 180 MiB).
pub const AHEAD_BYTES: u32 = 32 << 20;

/// Steps of one object waiting for the job (the byte budget is the real bound).
const DEPTH: usize = 1024;

/// What the job receives of one object.
pub enum Parsed {
    Step(Step),
    /// The object was parsed to its end.
    Done,
    Failed(FileFailure),
}

/// The steps of one object, in order, ending with [`Parsed::Done`] or [`Parsed::Failed`].
pub struct ParsedObject {
    key: String,
    rx: mpsc::Receiver<(Parsed, Option<OwnedSemaphorePermit>)>,
}

impl ParsedObject {
    /// Maps and stages every batch of the object, in order, as [`super::file::process`] does
    /// for a parse in line.
    pub async fn absorb_into(
        &mut self,
        ctx: &mut FileContext<'_>,
        sink: &mut Sink<'_>,
        report: &mut FileReport,
    ) -> Result<(), FileFailure> {
        loop {
            match self.next().await {
                Parsed::Step(Step::Bytes(n)) => (ctx.on_bytes)(n),
                Parsed::Step(Step::Output(output)) => absorb(output, ctx, sink, report).await?,
                Parsed::Done => return Ok(()),
                Parsed::Failed(failure) => return Err(failure),
            }
        }
    }

    /// The next step; a parse that stopped without saying why is a failure of the object.
    pub async fn next(&mut self) -> Parsed {
        // The step's share of the budget is given back as it is taken.
        self.rx
            .recv()
            .await
            .map(|(parsed, _)| parsed)
            .unwrap_or_else(|| {
                Parsed::Failed(FileFailure::File(ErrorInfo {
                    code: "parse_stopped".into(),
                    message: format!("{}: the parse stopped before the object's end", self.key),
                    row: None,
                }))
            })
    }
}

/// A parse's steps, sent on to the job within the object's budget of decoded bytes.
struct Forward<'a> {
    tx: &'a mpsc::Sender<(Parsed, Option<OwnedSemaphorePermit>)>,
    budget: Arc<Semaphore>,
}

impl Emit for Forward<'_> {
    async fn emit(&mut self, step: Step) -> Result<(), FileFailure> {
        let permit = match &step {
            Step::Bytes(_) => None,
            Step::Output(output) => {
                let bytes: usize = output
                    .batches
                    .iter()
                    .map(|b| b.batch.get_array_memory_size())
                    .sum();
                // In KiB; one output larger than the whole budget still goes (alone).
                let kib = (bytes >> 10).clamp(1, (AHEAD_BYTES >> 10) as usize) as u32;
                let permit = self.budget.clone().acquire_many_owned(kib).await;
                Some(permit.map_err(|_| FileFailure::Canceled)?)
            }
        };
        // The job stopped listening (it failed or was canceled): stop parsing.
        self.tx
            .send((Parsed::Step(step), permit))
            .await
            .map_err(|_| FileFailure::Canceled)
    }
}

/// Parses in flight, in the order the job consumes them. Dropping it stops them all.
/// Channels are made as parses start (a few at a time), however many objects the job has.
pub struct ParseAhead {
    started: mpsc::Receiver<ParsedObject>,
    _tasks: JoinSet<()>,
}

/// The plugin and settings each object's parse needs.
pub struct Parsing {
    pub host: Arc<PluginHost>,
    pub parser: Arc<LoadedPlugin>,
    pub options: InstanceOptions,
    pub input: Input,
    /// How one large object may be cut into ranges parsed at once (`None`: never).
    pub splitting: Option<Splitting>,
}

impl ParseAhead {
    /// Starts parsing `keys` (in order) as `downloads` delivers them, `parallel` at a time.
    pub fn start(
        parsing: Parsing,
        mut downloads: Downloads,
        keys: Vec<String>,
        parallel: usize,
    ) -> ParseAhead {
        let parallel = parallel.max(1);
        let permits = Arc::new(Semaphore::new(parallel));
        let (started_tx, started) = mpsc::channel(parallel);
        let parsing = Arc::new(parsing);
        // Instances that parsed an object to its end serve the next ones (as a sequential run
        // reuses its one parser); one that failed may be in any state and is dropped.
        let idle: Arc<std::sync::Mutex<Vec<ParserInstance>>> = Arc::default();
        let mut tasks = JoinSet::new();
        // Places are handed out strictly in consumption order (as for downloads).
        tasks.spawn(async move {
            let mut parses = JoinSet::new();
            for key in keys {
                let Ok(permit) = permits.clone().acquire_owned().await else {
                    return;
                };
                let (tx, rx) = mpsc::channel(DEPTH);
                let object = ParsedObject {
                    key: key.clone(),
                    rx,
                };
                if started_tx.send(object).await.is_err() {
                    return;
                }
                let Some(mut chunks) = downloads.next(&key).await else {
                    return;
                };
                let (parsing, idle) = (parsing.clone(), idle.clone());
                parses.spawn(async move {
                    let reused = idle.lock().expect("idle parsers").pop();
                    let instance = match reused {
                        Some(parser) => Ok(parser),
                        None => parsing.host.parser(&parsing.parser, &parsing.options).await,
                    };
                    let end = match instance {
                        Err(e) => Parsed::Failed(e.into()),
                        Ok(mut parser) => {
                            let mut forward = Forward {
                                tx: &tx,
                                budget: Arc::new(Semaphore::new((AHEAD_BYTES >> 10) as usize)),
                            };
                            let input = &parsing.input;
                            let sent = match parsing.splitting {
                                Some(splitting) if !parser.reads_files() => {
                                    let ranges = Ranges {
                                        host: &parsing.host,
                                        plugin: &parsing.parser,
                                        options: &parsing.options,
                                        splitting,
                                        parallel,
                                    };
                                    let (chunks, parser) = (&mut chunks, &mut parser);
                                    split::parse(&key, chunks, parser, input, &ranges, &mut forward)
                                        .await
                                }
                                _ => {
                                    parse(&key, &mut chunks, &mut parser, input, &mut forward).await
                                }
                            };
                            match sent {
                                Ok(()) => {
                                    idle.lock().expect("idle parsers").push(parser);
                                    Parsed::Done
                                }
                                Err(failure) => Parsed::Failed(failure),
                            }
                        }
                    };
                    drop(chunks);
                    // Nobody may be listening any more (the job stopped): nothing to tell.
                    let _ = tx.send((end, None)).await;
                    tx.closed().await;
                    drop(permit);
                });
                while parses.try_join_next().is_some() {}
            }
            while parses.join_next().await.is_some() {}
        });
        ParseAhead {
            started,
            _tasks: tasks,
        }
    }

    /// The next object's steps, or `None` when every object has been handed out.
    pub async fn next(&mut self, key: &str) -> Option<ParsedObject> {
        let parsed = self.started.recv().await?;
        debug_assert_eq!(
            parsed.key, key,
            "objects are consumed in the order they were queued"
        );
        Some(parsed)
    }
}
