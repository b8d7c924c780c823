//! A running source plugin: lists objects and reads byte ranges of them.

use wasmtime::Store;

use super::bindings::source::SourcePlugin;
use super::bindings::v0_1::source::SourcePlugin as SourcePluginV01;
use super::bindings::wit;
use super::call::guarded;
use super::error::PluginError;
use super::state::PluginState;
use super::v0_1;

/// One object as a source describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub key: String,
    pub size: u64,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ListPage {
    pub objects: Vec<ObjectInfo>,
    pub next_cursor: Option<String>,
}

/// A source of either WIT version.
pub(crate) enum SourceWorld {
    Current(SourcePlugin),
    V01(SourcePluginV01),
}

pub struct SourceInstance {
    plugin: String,
    store: Store<PluginState>,
    bindings: SourceWorld,
}

impl SourceInstance {
    pub(crate) fn new(plugin: String, store: Store<PluginState>, bindings: SourceWorld) -> Self {
        SourceInstance {
            plugin,
            store,
            bindings,
        }
    }

    pub async fn list(
        &mut self,
        prefix: &str,
        cursor: Option<&str>,
    ) -> Result<ListPage, PluginError> {
        let page = match &self.bindings {
            SourceWorld::Current(b) => {
                let source = b.ferry_plugin_source();
                guarded(&mut self.store, &self.plugin, "list", async |s| {
                    source.call_list_objects(s, prefix, cursor).await
                })
                .await?
            }
            SourceWorld::V01(b) => {
                let source = b.ferry_plugin_source();
                let page = guarded(&mut self.store, &self.plugin, "list", async |s| {
                    source.call_list_objects(s, prefix, cursor).await
                })
                .await?;
                page.map(|p| v0_1::list_page(p.objects, p.next_cursor))
                    .map_err(v0_1::error)
            }
        };
        let page = page.map_err(|e| self.reported(e))?;
        Ok(ListPage {
            objects: page
                .objects
                .into_iter()
                .map(|o| ObjectInfo {
                    key: o.key,
                    size: o.size,
                    etag: o.etag,
                    last_modified: o.last_modified,
                })
                .collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// Lists every object under `prefix`, following cursors to the end.
    pub async fn list_all(&mut self, prefix: &str) -> Result<Vec<ObjectInfo>, PluginError> {
        let mut objects = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = self.list(prefix, cursor.as_deref()).await?;
            objects.extend(page.objects);
            match page.next_cursor {
                Some(next) if Some(&next) != cursor.as_ref() => cursor = Some(next),
                Some(_) => {
                    return Err(PluginError::InvalidOutput {
                        plugin: self.plugin.clone(),
                        message: "list returned the same cursor twice".into(),
                    });
                }
                None => return Ok(objects),
            }
        }
    }

    fn reported(&mut self, e: wit::Error) -> PluginError {
        reported_or_denied(&self.plugin, self.store.data_mut(), e)
    }

    pub async fn read(&mut self, key: &str, offset: u64, len: u64) -> Result<Vec<u8>, PluginError> {
        let bytes = match &self.bindings {
            SourceWorld::Current(b) => {
                let source = b.ferry_plugin_source();
                guarded(&mut self.store, &self.plugin, "read", async |s| {
                    source.call_read(s, key, offset, len).await
                })
                .await?
            }
            SourceWorld::V01(b) => {
                let source = b.ferry_plugin_source();
                let bytes = guarded(&mut self.store, &self.plugin, "read", async |s| {
                    source.call_read(s, key, offset, len).await
                })
                .await?;
                bytes.map_err(v0_1::error)
            }
        };
        let bytes = bytes.map_err(|e| self.reported(e))?;
        if bytes.len() as u64 > len {
            return Err(PluginError::InvalidOutput {
                plugin: self.plugin.clone(),
                message: format!("read of {len} bytes returned {}", bytes.len()),
            });
        }
        Ok(bytes)
    }
}

/// A plugin's own error, unless the host refused one of its requests: then that refusal,
/// naming the host and the step, is what the user needs to see.
pub(crate) fn reported_or_denied(
    plugin: &str,
    state: &mut PluginState,
    e: wit::Error,
) -> PluginError {
    match state.outbound.denied.take() {
        Some(host) => PluginError::HostDenied {
            plugin: plugin.to_owned(),
            step: state.outbound.step.to_string(),
            host,
        },
        None => reported(plugin, e),
    }
}

pub(crate) fn reported(plugin: &str, e: wit::Error) -> PluginError {
    PluginError::Reported {
        plugin: plugin.to_owned(),
        code: e.code,
        message: e.message,
        row: e.row,
    }
}
