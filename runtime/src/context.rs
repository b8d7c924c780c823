//! One ferry state directory, opened: its job store, the plugin host with its compile cache,
//! the catalog of plugins, where secrets come from, and how far workflows may reach on disk.
//! The engine and deployments both work on a [`Context`]; the application face
//! ([`crate::app`]) owns one and is the only thing the command line and the server see.

use std::sync::{Arc, RwLock};

use crate::credentials::{MasterKey, SecretSource};
use crate::home::Home;
use crate::host::{Catalog, PluginError, PluginHost};
use crate::paths::Roots;
use crate::store::{Store, StoreError};

/// Why a state directory could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot create state directory {path}: {source}")]
    Home {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Plugins(#[from] PluginError),
}

/// The parts every operation needs, opened once per process.
pub struct Context {
    pub(crate) home: Home,
    pub(crate) store: Store,
    pub(crate) host: Arc<PluginHost>,
    pub(crate) catalog: Catalog,
    /// The environment and the secrets file, with the secret store as last read (see
    /// [`Context::refresh_secrets`]).
    secrets: RwLock<SecretSource>,
    /// Where a workflow's files may be (see [`Context::confine`]); `None` trusts every path,
    /// as the command line trusts its local user.
    grant_roots: Option<Roots>,
}

impl Context {
    /// Opens (creating if needed) the state directory `home`.
    pub async fn open(
        home: Home,
        catalog: Catalog,
        secrets: SecretSource,
    ) -> Result<Context, OpenError> {
        home.create().map_err(|source| OpenError::Home {
            path: home.root().display().to_string(),
            source,
        })?;
        let store = Store::open(&home.database()).await?;
        let host = Arc::new(PluginHost::new(home.compile_cache())?);
        let ctx = Context {
            home,
            store,
            host,
            catalog,
            secrets: RwLock::new(secrets),
            grant_roots: None,
        };
        ctx.refresh_secrets().await?;
        Ok(ctx)
    }

    /// Where secret values come from, as of the last [`refresh`](Self::refresh_secrets).
    pub(crate) fn secrets(&self) -> SecretSource {
        self.secrets.read().expect("secrets lock").clone()
    }

    /// Reads the secret store again and opens its values under the master key; one that does
    /// not open is kept with its reason, so only a credential that needs it fails. Called when
    /// the state dir opens and before each operation that resolves credentials, so a
    /// long-running server sees values stored since (by `ferry secrets set` too).
    pub(crate) async fn refresh_secrets(&self) -> Result<(), StoreError> {
        let sealed = self.store.sealed_secrets().await?;
        let key = if sealed.is_empty() {
            Ok(None)
        } else {
            MasterKey::find(&self.home.master_key())
        };
        let opened: Vec<_> = sealed
            .into_iter()
            .map(|s| {
                let value = match &key {
                    Ok(Some(key)) => key
                        .open(&s.credential, &s.field, &s.sealed)
                        .map_err(|e| e.to_string()),
                    Ok(None) => Err(crate::credentials::VaultError::NoKey {
                        path: self.home.master_key(),
                    }
                    .to_string()),
                    Err(e) => Err(e.to_string()),
                };
                (s.credential, s.field, value)
            })
            .collect();
        let mut secrets = self.secrets.write().expect("secrets lock");
        *secrets = secrets.clone().with_stored(opened);
        Ok(())
    }

    /// From now on, every path a workflow names (granted directories, artifacts, its service
    /// file, custom plugins) must resolve, symlinks followed, inside one of `roots`; anything
    /// else is a problem when the workflow is prepared. `ferry serve` runs workflows that
    /// arrive over HTTP, so it confines them to its `grant_roots`.
    pub fn confine(&mut self, roots: Roots) {
        self.grant_roots = Some(roots);
    }

    pub(crate) fn grant_roots(&self) -> Option<&Roots> {
        self.grant_roots.as_ref()
    }

    /// The state dir's package registry.
    pub(crate) fn packages(&self) -> crate::package::Registry {
        crate::package::Registry::new(self.home.root().join("packages"))
    }
}
