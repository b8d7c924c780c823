//! `source-local`: objects are the files under a directory the step granted (the "upload"
//! source). Keys are '/'-joined paths relative to `root`, listed in byte order, so a listing
//! is stable from run to run and pages resume exactly where the cursor says.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

use ferry_guest::types::{Error, ObjectInfo};
use ferry_guest::{Settings, error};

wit_bindgen::generate!({
    world: "source-plugin",
    path: "../../wit",
    with: {
        "ferry:plugin/types@0.1.0": ferry_guest::types,
        "ferry:plugin/host@0.1.0": ferry_guest::host,
    },
});

use exports::ferry::plugin::source::{Guest, ListPage};

/// The most a single read returns, whatever is asked.
const MAX_READ: u64 = 4 << 20;

struct LocalSource;

struct Config {
    root: PathBuf,
    page_size: usize,
}

fn config() -> Result<Config, Error> {
    let settings = Settings::check_known(&["root", "page_size"])?;
    Ok(Config {
        root: PathBuf::from(settings.string("root").unwrap_or_else(|| "/data".into())),
        page_size: settings.usize("page_size", 1000)?,
    })
}

impl Guest for LocalSource {
    fn list_objects(prefix: String, cursor: Option<String>) -> Result<ListPage, Error> {
        let config = config()?;
        if !config.root.is_dir() {
            return Err(error(
                "not_found",
                format!(
                    "directory {} is not visible in the sandbox: grant it to the step with [steps.grants] dirs",
                    config.root.display()
                ),
            ));
        }
        let mut keys = Vec::new();
        walk(&config.root, &config.root, &mut keys)?;
        keys.sort();
        let mut objects = Vec::new();
        let mut more = false;
        for key in keys
            .into_iter()
            .filter(|k| k.starts_with(&prefix))
            .filter(|k| cursor.as_ref().is_none_or(|c| k > c))
        {
            if objects.len() == config.page_size {
                more = true;
                break;
            }
            objects.push(describe(&config.root, key)?);
        }
        let next_cursor = if more { objects.last().map(|o: &ObjectInfo| o.key.clone()) } else { None };
        Ok(ListPage { objects, next_cursor })
    }

    fn read(key: String, offset: u64, len: u64) -> Result<Vec<u8>, Error> {
        let config = config()?;
        let path = resolve(&config.root, &key)?;
        let mut file = std::fs::File::open(&path).map_err(|e| io(&key, e))?;
        file.seek(SeekFrom::Start(offset)).map_err(|e| io(&key, e))?;
        let mut buf = Vec::new();
        file.take(len.min(MAX_READ)).read_to_end(&mut buf).map_err(|e| io(&key, e))?;
        Ok(buf)
    }
}

fn walk(root: &Path, dir: &Path, keys: &mut Vec<String>) -> Result<(), Error> {
    let entries = std::fs::read_dir(dir).map_err(|e| io(&dir.display().to_string(), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io(&dir.display().to_string(), e))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| io(&path.display().to_string(), e))?;
        if kind.is_dir() {
            walk(root, &path, keys)?;
        } else if kind.is_file() {
            let relative = path.strip_prefix(root).expect("walked paths are under root");
            let key: Vec<String> = relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            keys.push(key.join("/"));
        }
    }
    Ok(())
}

fn describe(root: &Path, key: String) -> Result<ObjectInfo, Error> {
    let meta = std::fs::metadata(root.join(&key)).map_err(|e| io(&key, e))?;
    let modified = meta.modified().ok();
    let nanos = modified
        .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    Ok(ObjectInfo {
        etag: Some(format!("{}-{nanos}", meta.len())),
        last_modified: modified.map(|m| humantime::format_rfc3339_seconds(m).to_string()),
        size: meta.len(),
        key,
    })
}

/// Keys are relative and may not climb out of the root (the sandbox would refuse anyway; this
/// gives the clearer message).
fn resolve(root: &Path, key: &str) -> Result<PathBuf, Error> {
    let relative = Path::new(key);
    if relative.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err(error("invalid_key", format!("key `{key}` must be a relative path without `..`")));
    }
    Ok(root.join(relative))
}

fn io(what: &str, e: std::io::Error) -> Error {
    let code = if e.kind() == std::io::ErrorKind::NotFound { "not_found" } else { "io" };
    error(code, format!("{what}: {e}"))
}

// Exported only for the component build; native builds run the unit tests.
#[cfg(target_arch = "wasm32")]
export!(LocalSource);
