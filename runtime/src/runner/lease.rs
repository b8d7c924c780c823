//! Keeping a running job's claim: its lease renewed, its cancel request watched.

use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use crate::host::CancelToken;
use crate::store::{DesiredStatus, Holder, LEASE_RENEWAL};

/// Turns the stored desired status into a cancel signal that interrupts running plugins.
pub(super) fn watch_cancel(
    store: crate::store::Store,
    id: Uuid,
    cancel: CancelToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if let Ok(DesiredStatus::Canceled) = store.desired_status(id).await {
                cancel.cancel();
                return;
            }
        }
    })
}

/// Renews the job's lease while it runs. If the lease is lost (this process stalled past it
/// and another took the job over), the job is interrupted and must not record an outcome.
pub(super) struct LeaseKeeper {
    lost: Arc<std::sync::atomic::AtomicBool>,
    _task: AbortOnDrop,
}

impl LeaseKeeper {
    pub(super) fn start(store: crate::store::Store, id: Uuid, cancel: CancelToken) -> LeaseKeeper {
        let lost = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = lost.clone();
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(LEASE_RENEWAL).await;
                match store.renew_lease(id, Holder::this_process()).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::error!(job = %id, "the job's lease was taken over by another process; stopping here");
                        flag.store(true, std::sync::atomic::Ordering::SeqCst);
                        cancel.cancel();
                        return;
                    }
                    // A store hiccup: try again at the next renewal, well before expiry.
                    Err(e) => tracing::warn!(job = %id, "cannot renew the job's lease: {e}"),
                }
            }
        });
        LeaseKeeper {
            lost,
            _task: AbortOnDrop(task),
        }
    }

    pub(super) fn lost(&self) -> bool {
        self.lost.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// A background task that ends with its owner.
pub(super) struct AbortOnDrop(pub(super) tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
