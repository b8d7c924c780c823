//! `source-local`: the objects are the files under a directory the workflow step granted to
//! the plugin (`[steps.grants] dirs`) — ferry's "upload" source. The plugin sees that directory,
//! read-only, at its mount point and nothing else.
//!
//! Settings: `root` (where the granted directory is mounted, default `/data`), `page_size`
//! (keys per listing page, default 1000).

mod listing;
mod read;
mod timestamp;

use std::io::ErrorKind;
use std::path::PathBuf;

use ferry_guest::about::Setting;
use ferry_guest::types::{Description, Error, SettingType};
use ferry_guest::{Settings, error};

wit_bindgen::generate!({
    world: "source-plugin",
    path: "../../wit",
    with: {
        "ferry:plugin/types@0.2.0": ferry_guest::types,
        "ferry:plugin/host@0.2.0": ferry_guest::host,
    },
});

use exports::ferry::plugin::about;
use exports::ferry::plugin::source::{self, ListPage};

/// Every setting the plugin takes; anything else is refused as a likely typo.
const SETTINGS: &[Setting] = &[
    Setting::with_default(
        "root",
        SettingType::String,
        "/data",
        "where the step's granted directory is mounted",
    ),
    Setting::with_default(
        "page_size",
        SettingType::Integer,
        "1000",
        "keys per listing page",
    ),
];

#[derive(Debug)]
struct Config {
    root: PathBuf,
    page_size: usize,
}

fn config() -> Result<Config, Error> {
    from_settings(&Settings::load(SETTINGS)?)
}

fn from_settings(settings: &Settings) -> Result<Config, Error> {
    Ok(Config {
        root: PathBuf::from(settings.string("root").unwrap_or("/data")),
        page_size: settings.positive("page_size")?.unwrap_or(1000),
    })
}

/// An I/O error on `what` (a key, or a directory relative to the root).
fn io_error(what: &str, e: std::io::Error) -> Error {
    let code = if e.kind() == ErrorKind::NotFound {
        "not_found"
    } else {
        "io"
    };
    error(code, format!("{what}: {e}"))
}

struct LocalFiles;

impl about::Guest for LocalFiles {
    fn describe() -> Description {
        ferry_guest::describe!(
            Source,
            "the files under a directory granted to the step (uploads)",
            SETTINGS
        )
    }
}

impl source::Guest for LocalFiles {
    fn list_objects(prefix: String, cursor: Option<String>) -> Result<ListPage, Error> {
        let config = config()?;
        let page = listing::page(&config.root, &prefix, cursor.as_deref(), config.page_size)?;
        Ok(ListPage {
            objects: page.objects,
            next_cursor: page.next_cursor,
        })
    }

    fn read(key: String, offset: u64, len: u64) -> Result<Vec<u8>, Error> {
        read::read(&config()?.root, &key, offset, len)
    }
}

export!(LocalFiles);

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use ferry_guest::types::PluginKind;

    use super::*;

    #[test]
    fn the_settings_table_is_what_the_config_reads() {
        ferry_guest::testing::check_settings(SETTINGS, &[], from_settings);
        let d = <LocalFiles as about::Guest>::describe();
        assert_eq!(
            (d.name.as_str(), d.kind),
            ("source-local", PluginKind::Source)
        );
        let names: Vec<(&str, Option<&str>)> = d
            .settings
            .iter()
            .map(|s| (s.name.as_str(), s.default.as_deref()))
            .collect();
        assert_eq!(
            names,
            [("root", Some("\"/data\"")), ("page_size", Some("1000"))]
        );
    }

    /// A directory of files for a test, removed when dropped.
    pub struct TempDir(PathBuf);

    impl TempDir {
        pub fn new(files: &[(&str, &str)]) -> Self {
            static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let dir =
                std::env::temp_dir().join(format!("ferry-source-local-{}-{n}", std::process::id()));
            for (key, content) in files {
                let path = dir.join(key);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, content).unwrap();
            }
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
