//! ferry moves ML data and models from where they live to where they serve.
//!
//! A declarative TOML workflow ([`workflow`]) is checked and turned into a typed plan, which the
//! [`engine`] runs as a job: a source plugin lists and reads objects, a parser plugin decodes
//! them into columnar batches, the host maps and validates them ([`mapping`]) and commits each
//! object's rows to a Delta table ([`table`]) in step with the job record ([`store`]). Every
//! plugin is a sandboxed WASI component run by [`host`]. The `ferry` binary ([`cli`]) is a thin
//! face on this library.

pub mod app;
pub mod archive;
pub mod cli;
pub mod context;
pub mod credentials;
pub mod deploy;
pub mod diagnostic;
pub mod engine;
pub mod exports;
pub mod grants;
pub mod home;
pub mod host;
pub mod imports;
pub mod kit;
pub mod mapping;
pub mod package;
pub mod paths;
pub mod rows;
pub mod runner;
pub mod server;
pub mod store;
pub mod table;
pub mod units;
pub mod workflow;
