//! One guarded plugin call: arm the deadline, run, and turn whatever went wrong into a
//! [`PluginError`] that says what happened in the user's terms.

use std::time::Instant;

use wasmtime::Store;

use super::cache::first_line;
use super::error::PluginError;
use super::limits::Interrupt;
use super::state::PluginState;

/// How often a call blocked in the host (an HTTP request, a sleep) is checked for its
/// deadline and for cancellation. Guest code running wasm is stopped by epochs instead.
const WATCH: std::time::Duration = std::time::Duration::from_millis(50);

pub(crate) async fn guarded<T>(
    store: &mut Store<PluginState>,
    plugin: &str,
    call: &'static str,
    f: impl AsyncFnOnce(&mut Store<PluginState>) -> wasmtime::Result<T>,
) -> Result<T, PluginError> {
    let guard = &mut store.data_mut().guard;
    let deadline = Instant::now() + guard.limits.timeout;
    guard.deadline = Some(deadline);
    guard.interrupted = None;
    let cancel = guard.cancel.clone();
    store.set_epoch_deadline(1);
    // Epochs only interrupt a guest while it runs wasm; one waiting on the host (a download
    // that stalls) is stopped here, by dropping the call. The instance is unusable after
    // that, as after any trap, and the caller drops it.
    let result = tokio::select! {
        result = f(store) => result,
        why = async {
            loop {
                tokio::time::sleep(WATCH).await;
                if cancel.is_canceled() {
                    return Interrupt::Canceled;
                }
                if Instant::now() >= deadline {
                    return Interrupt::Timeout;
                }
            }
        } => {
            store.data_mut().guard.interrupted = Some(why);
            Err(wasmtime::Error::msg(format!("interrupted while waiting: {why:?}")))
        }
    };
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
