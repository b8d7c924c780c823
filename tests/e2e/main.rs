//! End-to-end tests: the real `ferry` binary, the real plugin components (built for
//! wasm32-wasip2 by `scripts/test` before this runs), a real SQLite job store, and tables read
//! back from the Delta log and Parquet files directly — as another tool would read them.

mod peers;
mod server;
mod support;

mod bad_input;
mod cli_faces;
mod csv_headers;
mod deploy;
mod deploy_cloud;
mod dry_run;
mod exports;
mod formats;
mod grants;
mod hostile_input;
mod imports;
mod ingest;
mod jobs;
mod ledger;
mod maintenance;
mod mappings;
mod merge;
mod packages;
mod plugin_authoring;
mod query;
mod remote;
mod resume;
mod sandbox;
mod secrets;
mod serve;
mod serve_hardening;
mod service_auth;
