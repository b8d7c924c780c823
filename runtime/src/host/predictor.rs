//! A running predictor plugin: Arrow rows in, Arrow predictions out, one call per batch.

use arrow::array::RecordBatch;
use wasmtime::Store;

use super::batch::{from_record_batch, to_record_batch};
use super::bindings::predictor::PredictorPlugin;
use super::call::guarded;
use super::error::PluginError;
use super::source::reported;
use super::state::PluginState;

pub struct PredictorInstance {
    plugin: String,
    store: Store<PluginState>,
    bindings: PredictorPlugin,
}

impl PredictorInstance {
    pub(crate) fn new(
        plugin: String,
        store: Store<PluginState>,
        bindings: PredictorPlugin,
    ) -> Self {
        PredictorInstance {
            plugin,
            store,
            bindings,
        }
    }

    /// Predictions for every row of `input`, row for row.
    pub async fn predict(&mut self, input: &RecordBatch) -> Result<RecordBatch, PluginError> {
        let invalid = |message: String| PluginError::InvalidOutput {
            plugin: self.plugin.clone(),
            message,
        };
        let batch = from_record_batch(input, &[]).map_err(invalid)?;
        let predictor = self.bindings.ferry_plugin_predictor();
        let output = guarded(&mut self.store, &self.plugin, "predict", async |s| {
            predictor.call_predict(s, &batch).await
        })
        .await?;
        let output = output.map_err(|e| reported(&self.plugin, e))?;
        let out = to_record_batch(output).map_err(invalid)?;
        if out.batch.num_rows() != input.num_rows() {
            return Err(invalid(format!(
                "{} predictions for {} rows",
                out.batch.num_rows(),
                input.num_rows()
            )));
        }
        Ok(out.batch)
    }
}
