//! Logging through the host's tracing, which tags every line with the step and the plugin.
//! For what an operator may want to know; problems with the data itself are diagnostics.

use crate::host::{self, Level};

pub fn trace(message: &str) {
    host::log(Level::Trace, message);
}

pub fn debug(message: &str) {
    host::log(Level::Debug, message);
}

pub fn info(message: &str) {
    host::log(Level::Info, message);
}

pub fn warn(message: &str) {
    host::log(Level::Warn, message);
}

pub fn error(message: &str) {
    host::log(Level::Error, message);
}
