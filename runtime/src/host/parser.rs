//! A running parser plugin: one decoder resource per object, fed chunks, yielding Arrow batches.

use wasmtime::Store;
use wasmtime::component::ResourceAny;

use super::batch::{RowBatch, to_record_batch};
use super::bindings::parser::ParserPlugin;
use super::bindings::parser::exports::ferry::plugin::parser::Output;
use super::call::guarded;
use super::error::PluginError;
use super::source::reported;
use super::state::PluginState;
use crate::diagnostic::{RowDiagnostic, Severity};

/// What one push or finish decoded.
#[derive(Debug, Default)]
pub struct ParserOutput {
    pub batches: Vec<RowBatch>,
    pub diagnostics: Vec<RowDiagnostic>,
}

pub struct ParserInstance {
    plugin: String,
    store: Store<PluginState>,
    bindings: ParserPlugin,
    decoder: Option<ResourceAny>,
}

impl ParserInstance {
    pub(crate) fn new(plugin: String, store: Store<PluginState>, bindings: ParserPlugin) -> Self {
        ParserInstance {
            plugin,
            store,
            bindings,
            decoder: None,
        }
    }

    /// Starts decoding a new object.
    pub async fn open(&mut self, key: &str) -> Result<(), PluginError> {
        self.close().await?;
        let decoder = self.bindings.ferry_plugin_parser().decoder();
        let handle = guarded(&mut self.store, &self.plugin, "decoder", async |s| {
            decoder.call_constructor(s, key).await
        })
        .await?;
        self.decoder = Some(handle);
        Ok(())
    }

    pub async fn push(&mut self, chunk: &[u8]) -> Result<ParserOutput, PluginError> {
        let handle = self.handle()?;
        let decoder = self.bindings.ferry_plugin_parser().decoder();
        let output = guarded(&mut self.store, &self.plugin, "push", async |s| {
            decoder.call_push(s, handle, chunk).await
        })
        .await?;
        self.convert(output)
    }

    /// Ends the object: decodes what is left and drops the decoder.
    pub async fn finish(&mut self) -> Result<ParserOutput, PluginError> {
        let handle = self.handle()?;
        let decoder = self.bindings.ferry_plugin_parser().decoder();
        let output = guarded(&mut self.store, &self.plugin, "finish", async |s| {
            decoder.call_finish(s, handle).await
        })
        .await?;
        self.close().await?;
        self.convert(output)
    }

    async fn close(&mut self) -> Result<(), PluginError> {
        if let Some(handle) = self.decoder.take() {
            guarded(&mut self.store, &self.plugin, "drop", async |s| {
                handle.resource_drop_async(s).await
            })
            .await?;
        }
        Ok(())
    }

    fn handle(&self) -> Result<ResourceAny, PluginError> {
        self.decoder.ok_or_else(|| PluginError::InvalidOutput {
            plugin: self.plugin.clone(),
            message: "no object is open on this decoder".into(),
        })
    }

    fn convert(
        &self,
        output: Result<Output, super::bindings::wit::Error>,
    ) -> Result<ParserOutput, PluginError> {
        let output = output.map_err(|e| reported(&self.plugin, e))?;
        let batches = output
            .batches
            .into_iter()
            .map(to_record_batch)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|message| PluginError::InvalidOutput {
                plugin: self.plugin.clone(),
                message,
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
                // Row 0 is the header (a made-up column name, say): a warning, no row skipped.
                severity: if d.row == 0 {
                    Severity::Warning
                } else {
                    Severity::Error
                },
            })
            .collect();
        Ok(ParserOutput {
            batches,
            diagnostics,
        })
    }
}
