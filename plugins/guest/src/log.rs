//! Logging through the host's tracing, which tags every line with the step and the plugin.
//! For what an operator may want to know; problems with the data itself are diagnostics.
//!
//! Natively (a plugin's unit tests) there is no host to log through — its import stubs
//! trap — so lines go to stderr, which the test harness captures.

use crate::host::Level;

pub fn trace(message: &str) {
    log(Level::Trace, message);
}

pub fn debug(message: &str) {
    log(Level::Debug, message);
}

pub fn info(message: &str) {
    log(Level::Info, message);
}

pub fn warn(message: &str) {
    log(Level::Warn, message);
}

pub fn error(message: &str) {
    log(Level::Error, message);
}

#[cfg(target_arch = "wasm32")]
fn log(level: Level, message: &str) {
    crate::host::log(level, message);
}

#[cfg(not(target_arch = "wasm32"))]
fn log(level: Level, message: &str) {
    eprintln!("{level:?}: {message}");
}
