//! What every ferry plugin shares, so that no plugin copies another: the generated bindings
//! for the `types` and `host` interfaces (plugins reuse them through wit-bindgen's `with`),
//! column builders that emit Arrow layout, typed settings, and value-type inference.

pub mod columns;
pub mod infer;
pub mod settings;

#[allow(missing_docs, clippy::all)]
mod bindings {
    wit_bindgen::generate!({
        world: "guest-common",
        path: "../../wit",
        generate_all,
    });
}

pub use bindings::ferry::plugin::{host, types};
pub use columns::{BatchBuilder, ColumnBuilder};
pub use infer::Kind;
pub use settings::Settings;

/// A plugin error with a stable code.
pub fn error(code: &str, message: impl Into<String>) -> types::Error {
    types::Error {
        code: code.to_owned(),
        message: message.into(),
        row: None,
    }
}

/// A row diagnostic (the row is skipped).
pub fn diagnostic(row: u64, line: Option<u64>, column: Option<&str>, code: &str, message: impl Into<String>) -> types::Diagnostic {
    types::Diagnostic {
        row,
        line,
        column: column.map(str::to_owned),
        code: code.to_owned(),
        message: message.into(),
    }
}

/// Logs through the host, tagged by the host with the step and plugin.
pub fn log(level: host::Level, message: &str) {
    host::log(level, message);
}
