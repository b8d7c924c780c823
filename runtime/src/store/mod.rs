//! The job store: SQLite through sqlx, embedded by default under the state dir. Migrations run
//! on open. Terminal job states are guarded in SQL, so no code path can rewrite them.

mod deployments;
mod exports;
mod files;
mod imports;
mod infras;
mod jobs;
mod keys;
mod leases;
mod ledger;
mod model;
mod operations;
mod secrets;
mod time;
mod variables;

use std::path::Path;
use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow};
use sqlx::{Row, SqlitePool};
use uuid::Uuid;

pub use deployments::{
    DeploymentHealth, DeploymentRecord, Desired, Observed, OperationAction, OperationStatus, Share,
};
pub use exports::{ExportRecord, ExportStatus};
pub use files::{FileFilter, FileOutcome, FinishedFile, NewFile, PreparedFile};
pub use imports::{DeploymentWrite, ImportRecord, ImportStatus, ImportWrites, InfraWrite};
pub use infras::{InfraRecord, spec_from_client};
pub use jobs::{JobFilter, NewJob};
pub use keys::{ApiKey, Permission};
pub use leases::{Holder, LEASE_RENEWAL, LEASE_TTL, process_alive};
pub use ledger::Imported;
pub use model::*;
pub use operations::OperationRecord;
pub use secrets::{SealedSecret, SecretEntry};
pub use time::{Timestamp, now};
pub use variables::Variable;

/// How many parse exceptions a job keeps (the count is always exact; the sample is capped).
pub const EXCEPTION_SAMPLE: i64 = 100;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("job store {path}: {source}")]
    Open { path: String, source: sqlx::Error },
    #[error("job store migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("job store query failed: {0}")]
    Query(#[from] sqlx::Error),
    #[error("no job {0}")]
    NotFound(Uuid),
    /// Something other than a job is not there (a key, by name).
    #[error("{0}")]
    Missing(String),
    #[error(transparent)]
    InvalidName(#[from] crate::paths::NameError),
    #[error("job {id} is {status}, which is final")]
    Terminal { id: Uuid, status: ExecutionStatus },
    #[error("job {id} is being run by process {pid} on {host}; stop it first or wait")]
    Leased { id: Uuid, host: String, pid: u32 },
    #[error("invalid cursor")]
    BadCursor,
    #[error("{0}")]
    Conflict(String),
    /// A value the store refuses to keep (named in the message).
    #[error("{0}")]
    Invalid(String),
    #[error("job store holds an unreadable value: {0}")]
    Corrupt(String),
}

type Result<T> = std::result::Result<T, StoreError>;

#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
}

impl Store {
    /// Opens (creating if needed) the SQLite store at `path` and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        // Two processes starting on a fresh home must not both create the tables, and turning
        // a new database into WAL mode takes an exclusive lock SQLite will not wait for (the
        // busy timeout does not apply to it). sqlx takes no lock for SQLite, so the first
        // connection and the migrations happen under an exclusive lock on a file beside it.
        let lock_path = path.with_extension("db.migrate-lock");
        let lock = std::fs::File::create(&lock_path).map_err(|e| StoreError::Open {
            path: lock_path.display().to_string(),
            source: sqlx::Error::Io(e),
        })?;
        lock.lock().map_err(|e| StoreError::Open {
            path: lock_path.display().to_string(),
            source: sqlx::Error::Io(e),
        })?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .map_err(|source| StoreError::Open {
                path: path.display().to_string(),
                source,
            })?;
        let migrated = sqlx::migrate!("./migrations").run(&pool).await;
        drop(lock);
        migrated?;
        Ok(Store { pool })
    }

    /// Starts a transaction that will write. `BEGIN IMMEDIATE` takes the write lock up front
    /// (waiting out the busy timeout): a deferred transaction that reads first and writes later
    /// fails at once with "database is locked" when another process wrote in between.
    async fn write_tx(&self) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }
}

fn in_list<'a>(
    sql: &mut String,
    binds: &mut Vec<String>,
    column: &str,
    values: impl Iterator<Item = &'a str>,
) {
    let values: Vec<&str> = values.collect();
    if values.is_empty() {
        return;
    }
    sql.push_str(&format!(
        " AND {column} IN ({})",
        vec!["?"; values.len()].join(", ")
    ));
    binds.extend(values.into_iter().map(str::to_owned));
}

fn time_range(
    sql: &mut String,
    binds: &mut Vec<String>,
    column: &str,
    since: Option<&Timestamp>,
    until: Option<&Timestamp>,
) {
    if let Some(since) = since {
        sql.push_str(&format!(" AND {column} >= ?"));
        binds.push(since.as_str().to_owned());
    }
    if let Some(until) = until {
        sql.push_str(&format!(" AND {column} < ?"));
        binds.push(until.as_str().to_owned());
    }
}

fn parse<T: FromStr<Err = String>>(s: &str) -> Result<T> {
    s.parse().map_err(StoreError::Corrupt)
}

fn count(row: &SqliteRow, column: &str) -> Result<u64> {
    Ok(row.try_get::<i64, _>(column)? as u64)
}

#[cfg(test)]
mod tests;
