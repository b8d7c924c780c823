//! Who runs a job: a lease row on the job, not a pid check. A process claims a job before it
//! runs it and renews the claim while it does; a second process asking for the same job is
//! told who holds it. A holder that died is found out two ways: its lease expires
//! ([`LEASE_TTL`] after its last renewal), or — faster, for the common case of a killed local
//! process — the holder is on this host and its pid no longer exists.

use std::sync::OnceLock;
use std::time::Duration;

use chrono::Utc;
use uuid::Uuid;

use super::{Result, Store, StoreError, Timestamp, now};

/// How long a claim lasts without renewal.
pub const LEASE_TTL: Duration = Duration::from_secs(30);
/// How often a running job renews its claim.
pub const LEASE_RENEWAL: Duration = Duration::from_secs(10);

/// This process as a lease holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// Unique per process: a reused pid is never mistaken for its predecessor.
    pub owner: String,
    pub host: String,
    pub pid: u32,
}

impl Holder {
    /// The one holder of this process.
    pub fn this_process() -> &'static Holder {
        static HOLDER: OnceLock<Holder> = OnceLock::new();
        HOLDER.get_or_init(|| Holder {
            owner: Uuid::new_v4().simple().to_string(),
            host: hostname(),
            pid: std::process::id(),
        })
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}

/// Whether process `pid` of this host still exists.
pub fn process_alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// A job's lease columns.
#[derive(sqlx::FromRow)]
struct LeaseRow {
    execution_status: String,
    lease_owner: Option<String>,
    lease_host: Option<String>,
    lease_pid: Option<i64>,
    lease_expires_at: Option<String>,
}

fn expiry() -> Timestamp {
    Timestamp::from(Utc::now() + chrono::Duration::from_std(LEASE_TTL).expect("a short TTL"))
}

impl Store {
    /// Claims job `job` for `holder`: granted when nobody holds it, the holder already does,
    /// the lease expired, or the holder is a vanished process of this host. Otherwise
    /// [`StoreError::Leased`] names the holder; a finished job is [`StoreError::Terminal`].
    pub async fn claim_job(&self, job: Uuid, holder: &Holder) -> Result<()> {
        for _ in 0..2 {
            let taken = sqlx::query(
                "UPDATE jobs SET lease_owner = ?, lease_host = ?, lease_pid = ?, lease_expires_at = ? \
                 WHERE id = ? AND execution_status IN ('CREATED', 'RUNNING') \
                 AND (lease_owner IS NULL OR lease_owner = ? OR lease_expires_at < ?)",
            )
            .bind(&holder.owner)
            .bind(&holder.host)
            .bind(holder.pid as i64)
            .bind(expiry().as_str())
            .bind(job.to_string())
            .bind(&holder.owner)
            .bind(now().as_str())
            .execute(&self.pool)
            .await?;
            if taken.rows_affected() > 0 {
                return Ok(());
            }
            let Some(current) = self.lease(job).await? else {
                return Err(StoreError::NotFound(job));
            };
            let LeaseRow {
                execution_status: status,
                lease_owner: owner,
                lease_host: host,
                lease_pid: pid,
                ..
            } = current;
            let status: super::ExecutionStatus = super::parse(&status)?;
            if status.is_terminal() {
                return Err(StoreError::Terminal { id: job, status });
            }
            let (Some(owner), Some(host), Some(pid)) = (owner, host, pid) else {
                continue;
            };
            if host == holder.host && !process_alive(pid as u32) {
                // The holder was killed: release its claim (only if it still holds it) and
                // claim again.
                sqlx::query("UPDATE jobs SET lease_owner = NULL WHERE id = ? AND lease_owner = ?")
                    .bind(job.to_string())
                    .bind(&owner)
                    .execute(&self.pool)
                    .await?;
                continue;
            }
            return Err(StoreError::Leased {
                id: job,
                host,
                pid: pid as u32,
            });
        }
        Err(StoreError::Conflict(format!(
            "job {job} changed hands while it was being claimed; try again"
        )))
    }

    /// Extends `holder`'s claim; `false` when it no longer holds the job (it expired and
    /// another process took it, or the job ended).
    pub async fn renew_lease(&self, job: Uuid, holder: &Holder) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE jobs SET lease_expires_at = ? WHERE id = ? AND lease_owner = ? \
             AND execution_status IN ('CREATED', 'RUNNING')",
        )
        .bind(expiry().as_str())
        .bind(job.to_string())
        .bind(&holder.owner)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Gives up `holder`'s claim (when the job ended, or a server stops running it).
    pub async fn release_lease(&self, job: Uuid, holder: &Holder) -> Result<()> {
        sqlx::query(
            "UPDATE jobs SET lease_owner = NULL, lease_host = NULL, lease_pid = NULL, \
             lease_expires_at = NULL WHERE id = ? AND lease_owner = ?",
        )
        .bind(job.to_string())
        .bind(&holder.owner)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Whether a live process other than this one holds job `job` (for a server taking back
    /// unfinished jobs at start).
    pub async fn held_elsewhere(&self, job: Uuid) -> Result<bool> {
        let row = self.lease(job).await?;
        let me = Holder::this_process();
        Ok(match row {
            Some(LeaseRow {
                lease_owner: Some(owner),
                lease_host: Some(host),
                lease_pid: Some(pid),
                lease_expires_at: Some(expires),
                ..
            }) => {
                let vanished = host == me.host && !process_alive(pid as u32);
                owner != me.owner && expires.as_str() >= now().as_str() && !vanished
            }
            _ => false,
        })
    }

    /// Jobs writing to `table` now: running, with a lease that is live (not expired, and its
    /// holder, if on this host, still exists). Table maintenance that deletes files waits
    /// for them.
    pub async fn jobs_writing(&self, table: &str) -> Result<Vec<Uuid>> {
        let rows: Vec<(String, String, i64, String)> = sqlx::query_as(
            "SELECT id, lease_host, lease_pid, lease_expires_at FROM jobs \
             WHERE table_name = ? AND execution_status = 'RUNNING' AND lease_owner IS NOT NULL \
             AND lease_expires_at >= ?",
        )
        .bind(table)
        .bind(now().as_str())
        .fetch_all(&self.pool)
        .await?;
        let me = Holder::this_process();
        rows.into_iter()
            .filter(|(_, host, pid, _)| *host != me.host || process_alive(*pid as u32))
            .map(|(id, ..)| {
                id.parse()
                    .map_err(|e| StoreError::Corrupt(format!("job id `{id}`: {e}")))
            })
            .collect()
    }

    async fn lease(&self, job: Uuid) -> Result<Option<LeaseRow>> {
        Ok(sqlx::query_as(
            "SELECT execution_status, lease_owner, lease_host, lease_pid, lease_expires_at \
             FROM jobs WHERE id = ?",
        )
        .bind(job.to_string())
        .fetch_optional(&self.pool)
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewJob;

    #[tokio::test]
    async fn one_holder_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("ferry.db")).await.unwrap();
        let job = store
            .create_job(&NewJob {
                workflow: "w".into(),
                workflow_path: "/w.toml".into(),
                workflow_text: String::new(),
                table: "t".into(),
                source_id: String::new(),
            })
            .await
            .unwrap();
        let me = Holder::this_process();
        store.claim_job(job.id, me).await.unwrap();
        // Claiming again is fine for the holder.
        store.claim_job(job.id, me).await.unwrap();
        // Another live process of this host (pid 1 always exists) is refused.
        let other = Holder {
            owner: "other".into(),
            host: me.host.clone(),
            pid: 1,
        };
        assert!(matches!(
            store.claim_job(job.id, &other).await,
            Err(StoreError::Leased { pid, .. }) if pid == me.pid
        ));
        assert!(!store.renew_lease(job.id, &other).await.unwrap());
        assert!(store.renew_lease(job.id, me).await.unwrap());
        // A vanished holder's claim is taken over at once.
        store.release_lease(job.id, me).await.unwrap();
        let dead = Holder {
            owner: "dead".into(),
            host: me.host.clone(),
            pid: u32::MAX - 1,
        };
        store.claim_job(job.id, &dead).await.unwrap();
        store.claim_job(job.id, me).await.unwrap();
        // Another host's live claim is respected until it expires.
        let remote = Holder {
            owner: "remote".into(),
            host: "elsewhere".into(),
            pid: 1,
        };
        store.release_lease(job.id, me).await.unwrap();
        store.claim_job(job.id, &remote).await.unwrap();
        assert!(store.claim_job(job.id, me).await.is_err());
        assert!(store.held_elsewhere(job.id).await.unwrap());
    }
}
