//! One guarded plugin call: arm the deadline, run, and turn whatever went wrong into a
//! [`PluginError`] that says what happened in the user's terms.

use std::time::Instant;

use wasmtime::Store;

use super::cache::first_line;
use super::error::PluginError;
use super::limits::Interrupt;
use super::state::PluginState;

pub(crate) async fn guarded<T>(
    store: &mut Store<PluginState>,
    plugin: &str,
    call: &'static str,
    f: impl AsyncFnOnce(&mut Store<PluginState>) -> wasmtime::Result<T>,
) -> Result<T, PluginError> {
    let guard = &mut store.data_mut().guard;
    guard.deadline = Some(Instant::now() + guard.limits.timeout);
    guard.interrupted = None;
    store.set_epoch_deadline(1);
    let result = f(store).await;
    store.data_mut().guard.deadline = None;
    result.map_err(|e| classify(store.data(), plugin, call, e))
}

fn classify(
    state: &PluginState,
    plugin: &str,
    call: &'static str,
    error: wasmtime::Error,
) -> PluginError {
    let plugin = plugin.to_owned();
    let limits = state.guard.limits;
    match state.guard.interrupted {
        Some(Interrupt::Timeout) => PluginError::Timeout {
            plugin,
            call,
            limit: limits.timeout,
        },
        Some(Interrupt::Memory) => PluginError::OutOfMemory {
            plugin,
            call,
            limit: limits.memory,
        },
        Some(Interrupt::Canceled) => PluginError::Canceled { plugin },
        None => {
            let message = match (
                error.downcast_ref::<wasmtime::Trap>(),
                state.last_stderr_line(),
            ) {
                (Some(wasmtime::Trap::UnreachableCodeReached), Some(line)) => {
                    format!("panicked: {line}")
                }
                (Some(trap), _) => format!("{trap}"),
                (None, _) => first_line(&error),
            };
            tracing::warn!(plugin = %plugin, call, error = %first_line(&error), "plugin call failed");
            PluginError::Trap {
                plugin,
                call,
                message,
            }
        }
    }
}
