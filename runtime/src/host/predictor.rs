//! A running predictor plugin: Arrow rows in, Arrow predictions out, one call per batch.

use arrow::array::RecordBatch;
use wasmtime::Store;

use super::batch::{from_record_batch, to_record_batch};
use super::bindings::predictor::PredictorPlugin;
use super::bindings::v0_1::predictor::PredictorPlugin as PredictorPluginV01;
use super::call::guarded;
use super::error::PluginError;
use super::source::reported;
use super::state::PluginState;
use super::v0_1;

/// A predictor of either WIT version.
pub(crate) enum PredictorWorld {
    Current(PredictorPlugin),
    V01(PredictorPluginV01),
}

pub struct PredictorInstance {
    plugin: String,
    store: Store<PluginState>,
    bindings: PredictorWorld,
}

impl PredictorInstance {
    pub(crate) fn new(plugin: String, store: Store<PluginState>, bindings: PredictorWorld) -> Self {
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
        let batch = from_record_batch(input, &[]).map_err(|e| invalid(e.to_string()))?;
        let output = match &self.bindings {
            PredictorWorld::Current(b) => {
                let predictor = b.ferry_plugin_predictor();
                guarded(&mut self.store, &self.plugin, "predict", async |s| {
                    predictor.call_predict(s, &batch).await
                })
                .await?
            }
            PredictorWorld::V01(b) => {
                let batch = v0_1::batch_for_v0_1(batch).map_err(|e| invalid(e.to_string()))?;
                let predictor = b.ferry_plugin_predictor();
                let out = guarded(&mut self.store, &self.plugin, "predict", async |s| {
                    predictor.call_predict(s, &batch).await
                })
                .await?;
                out.map(v0_1::batch).map_err(v0_1::error)
            }
        };
        let output = output.map_err(|e| reported(&self.plugin, e))?;
        let out = to_record_batch(output).map_err(|e| invalid(e.to_string()))?;
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
