//! A running parser plugin, whatever its world: a streaming parser is pushed an object's bytes
//! in chunks; a file parser reads the object itself (through the `object` import) and is asked
//! for its parts one by one. Both yield Arrow batches and diagnostics.

use std::path::Path;

use wasmtime::Store;
use wasmtime::component::ResourceAny;

use super::batch::{RowBatch, to_record_batch};
use super::bindings::file_parser::FileParserPlugin;
use super::bindings::parser::ParserPlugin;
use super::bindings::v0_1::parser::ParserPlugin as ParserPluginV01;
use super::bindings::wit::{self, Effect};
use super::call::guarded;
use super::error::PluginError;
use super::object::OpenObject;
use super::source::reported;
use super::state::PluginState;
use super::v0_1;
use crate::diagnostic::{RowDiagnostic, Severity};

/// What one push, finish or part decoded.
#[derive(Debug, Default)]
pub struct ParserOutput {
    pub batches: Vec<RowBatch>,
    pub diagnostics: Vec<RowDiagnostic>,
}

/// How a parser takes its object.
pub(crate) enum ParserWorld {
    Stream(ParserPlugin),
    File(FileParserPlugin),
    StreamV01(ParserPluginV01),
}

pub struct ParserInstance {
    plugin: String,
    store: Store<PluginState>,
    world: ParserWorld,
    /// The decoder or reader of the object being parsed.
    open: Option<ResourceAny>,
}

impl ParserInstance {
    pub(crate) fn new(plugin: String, store: Store<PluginState>, world: ParserWorld) -> Self {
        ParserInstance {
            plugin,
            store,
            world,
            open: None,
        }
    }

    /// Whether this parser reads whole files (`open_file` / `next`) rather than a stream of
    /// pushed bytes (`open` / `push` / `finish`).
    pub fn reads_files(&self) -> bool {
        matches!(self.world, ParserWorld::File(_))
    }

    /// Starts decoding a new object pushed in chunks.
    pub async fn open(&mut self, key: &str) -> Result<(), PluginError> {
        self.close().await?;
        let handle = match &self.world {
            ParserWorld::Stream(b) => {
                let decoder = b.ferry_plugin_parser().decoder();
                let opened = guarded(&mut self.store, &self.plugin, "open", async |s| {
                    decoder.call_open(s, key).await
                })
                .await?;
                opened.map_err(|e| reported(&self.plugin, e))?
            }
            ParserWorld::StreamV01(b) => {
                let decoder = b.ferry_plugin_parser().decoder();
                guarded(&mut self.store, &self.plugin, "decoder", async |s| {
                    decoder.call_constructor(s, key).await
                })
                .await?
            }
            ParserWorld::File(_) => return Err(self.misuse("a file parser is not pushed bytes")),
        };
        self.open = Some(handle);
        Ok(())
    }

    pub async fn push(&mut self, chunk: &[u8]) -> Result<ParserOutput, PluginError> {
        let handle = self.handle()?;
        let output = match &self.world {
            ParserWorld::Stream(b) => {
                let decoder = b.ferry_plugin_parser().decoder();
                guarded(&mut self.store, &self.plugin, "push", async |s| {
                    decoder.call_push(s, handle, chunk).await
                })
                .await?
            }
            ParserWorld::StreamV01(b) => {
                let decoder = b.ferry_plugin_parser().decoder();
                let out = guarded(&mut self.store, &self.plugin, "push", async |s| {
                    decoder.call_push(s, handle, chunk).await
                })
                .await?;
                out.map(|o| v0_1::output(o.batches, o.diagnostics))
                    .map_err(v0_1::error)
            }
            ParserWorld::File(_) => return Err(self.misuse("a file parser is not pushed bytes")),
        };
        self.convert(output)
    }

    /// Ends the object: decodes what is left and drops the decoder.
    pub async fn finish(&mut self) -> Result<ParserOutput, PluginError> {
        let handle = self.handle()?;
        let output = match &self.world {
            ParserWorld::Stream(b) => {
                let decoder = b.ferry_plugin_parser().decoder();
                guarded(&mut self.store, &self.plugin, "finish", async |s| {
                    decoder.call_finish(s, handle).await
                })
                .await?
            }
            ParserWorld::StreamV01(b) => {
                let decoder = b.ferry_plugin_parser().decoder();
                let out = guarded(&mut self.store, &self.plugin, "finish", async |s| {
                    decoder.call_finish(s, handle).await
                })
                .await?;
                out.map(|o| v0_1::output(o.batches, o.diagnostics))
                    .map_err(v0_1::error)
            }
            ParserWorld::File(_) => return Err(self.misuse("a file parser is not pushed bytes")),
        };
        self.close().await?;
        self.convert(output)
    }

    /// Opens the object kept in `file` (the host's copy of it) for a file parser, asking only
    /// for `columns` when the step needs only those.
    pub async fn open_file(
        &mut self,
        key: &str,
        file: &Path,
        columns: Option<&[String]>,
    ) -> Result<(), PluginError> {
        self.close().await?;
        let ParserWorld::File(b) = &self.world else {
            return Err(self.misuse("a streaming parser does not read files"));
        };
        let object = OpenObject::open(file).map_err(|e| PluginError::InvalidOutput {
            plugin: self.plugin.clone(),
            message: format!("cannot open the downloaded copy of {key}: {e}"),
        })?;
        self.store.data_mut().object = Some(object);
        let reader = b.ferry_plugin_file_parser().reader();
        let columns = columns.map(<[String]>::to_vec);
        let opened = guarded(&mut self.store, &self.plugin, "open", async |s| {
            reader.call_open(s, key, columns.as_deref()).await
        })
        .await?;
        self.open = Some(opened.map_err(|e| reported(&self.plugin, e))?);
        Ok(())
    }

    /// The next part of the open file; `None` once it is done (the reader is dropped then).
    pub async fn next(&mut self) -> Result<Option<ParserOutput>, PluginError> {
        let handle = self.handle()?;
        let ParserWorld::File(b) = &self.world else {
            return Err(self.misuse("a streaming parser does not read files"));
        };
        let reader = b.ferry_plugin_file_parser().reader();
        let output = guarded(&mut self.store, &self.plugin, "next", async |s| {
            reader.call_next(s, handle).await
        })
        .await?;
        match output {
            Ok(Some(output)) => self.convert(Ok(output)).map(Some),
            Ok(None) => {
                self.close().await?;
                Ok(None)
            }
            Err(e) => Err(reported(&self.plugin, e)),
        }
    }

    async fn close(&mut self) -> Result<(), PluginError> {
        self.store.data_mut().object = None;
        if let Some(handle) = self.open.take() {
            guarded(&mut self.store, &self.plugin, "drop", async |s| {
                handle.resource_drop_async(s).await
            })
            .await?;
        }
        Ok(())
    }

    fn handle(&self) -> Result<ResourceAny, PluginError> {
        self.open
            .ok_or_else(|| self.misuse("no object is open on this parser"))
    }

    fn misuse(&self, message: &str) -> PluginError {
        PluginError::InvalidOutput {
            plugin: self.plugin.clone(),
            message: message.into(),
        }
    }

    fn convert(
        &self,
        output: Result<wit::Output, wit::Error>,
    ) -> Result<ParserOutput, PluginError> {
        let output = output.map_err(|e| reported(&self.plugin, e))?;
        let batches = output
            .batches
            .into_iter()
            .map(to_record_batch)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| PluginError::InvalidOutput {
                plugin: self.plugin.clone(),
                message: e.to_string(),
            })?;
        let diagnostics = output
            .diagnostics
            .into_iter()
            .map(|d| RowDiagnostic {
                row: d.row,
                line: d.line,
                column: d.column,
                code: d.code,
                message: d.message,
                severity: match d.effect {
                    Effect::RowSkipped => Severity::Error,
                    Effect::ValueNulled | Effect::Warning => Severity::Warning,
                },
            })
            .collect();
        Ok(ParserOutput {
            batches,
            diagnostics,
        })
    }
}
