//! Limits on every plugin call: linear memory (a [`ResourceLimiter`]) and wall-clock time
//! (epoch interruption), plus cooperative cancellation through the same epoch callback.
//!
//! Epochs rather than fuel: fuel halved guest throughput on this workload, while an epoch check
//! costs a load and a compare at loop headers. A ticker thread advances the engine's epoch every
//! [`TICK`]; each store's deadline callback then decides whether the call goes on.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use wasmtime::{Engine, ResourceLimiter};

use crate::units::ByteSize;

/// How often the epoch advances: the granularity of timeouts and cancellation.
pub const TICK: Duration = Duration::from_millis(10);

/// Memory and time allowed to one plugin call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallLimits {
    pub memory: ByteSize,
    pub timeout: Duration,
}

impl Default for CallLimits {
    fn default() -> Self {
        CallLimits {
            memory: ByteSize(256 << 20),
            timeout: Duration::from_secs(60),
        }
    }
}

/// Shared flag that interrupts a job's running plugins at the next epoch tick.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_canceled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Why a call was stopped by the host rather than by the guest itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Interrupt {
    Timeout,
    Canceled,
    Memory,
}

/// Per-store bookkeeping: enforces the memory cap and remembers why a call was interrupted,
/// so the caller can tell a timeout or an out-of-memory from a guest's own trap.
pub(crate) struct Guard {
    pub limits: CallLimits,
    pub cancel: CancelToken,
    pub deadline: Option<Instant>,
    pub interrupted: Option<Interrupt>,
}

impl Guard {
    pub fn new(limits: CallLimits, cancel: CancelToken) -> Self {
        Guard {
            limits,
            cancel,
            deadline: None,
            interrupted: None,
        }
    }

    /// Called at every epoch tick while the guest runs.
    pub fn on_tick(&mut self) -> Result<(), Interrupt> {
        if self.cancel.is_canceled() {
            self.interrupted = Some(Interrupt::Canceled);
            return Err(Interrupt::Canceled);
        }
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            self.interrupted = Some(Interrupt::Timeout);
            return Err(Interrupt::Timeout);
        }
        Ok(())
    }
}

impl ResourceLimiter for Guard {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired as u64 > self.limits.memory.0 {
            self.interrupted = Some(Interrupt::Memory);
            // Trapping (rather than returning false) stops the guest at the growth itself,
            // instead of leaving it to abort somewhere less telling.
            wasmtime::bail!("memory limit of {} reached", self.limits.memory);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}

/// Advances an engine's epoch every [`TICK`] until dropped.
pub(crate) struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl EpochTicker {
    pub fn start(engine: &Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let engine = engine.weak();
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("ferry-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(TICK);
                    match engine.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })
            .expect("spawning the epoch ticker thread");
        EpochTicker {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
