//! `{{name}}`: a ferry source. The objects are the files under a directory the workflow step
//! grants to the plugin (`grants.dirs`), as the built-in source-local does; the plugin sees
//! that directory, read-only, at its mount point (`root`) and nothing else, through plain
//! `std::fs`.
//!
//! - Keys are paths relative to `root`, `/`-separated, listed in sorted order, `page_size` a
//!   page; the cursor is the last key of the page before.
//! - Files and directories whose name starts with `.` are left out.
//! - A file's etag is its size and modification time, so it changes with its content.
//! - `read` gives at most 4 MiB a call; a key with an empty, `.` or `..` part is refused.
//!
//! Build and try it: `ferry plugin build`, then
//! `ferry plugin test build/{{module}}.wasm --input sample --setting root=/input`.

use std::fs::{self, File};
use std::io::{ErrorKind, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use ferry_guest::about::Setting;
use ferry_guest::calendar::{SECONDS_PER_DAY, civil_from_days};
use ferry_guest::settings::INVALID_SETTING;
use ferry_guest::types::{Description, Error, ObjectInfo, SettingType};
use ferry_guest::{Settings, error};

// Bindings for the world this component implements (`wit/` holds the WIT package). The shared
// types and host functions come from ferry-guest, so its helpers build them directly.
wit_bindgen::generate!({
    world: "source-plugin",
    path: "wit",
    with: {
        "ferry:plugin/types@{{wit_version}}": ferry_guest::types,
        "ferry:plugin/host@{{wit_version}}": ferry_guest::host,
    },
});

use exports::ferry::plugin::about;
use exports::ferry::plugin::source::{self, ListPage};

/// Every setting the plugin takes; `describe` reports them and `ferry validate` checks a
/// workflow's `source_settings` against them without running the plugin.
const SETTINGS: &[Setting] = &[
    Setting::with_default(
        "root",
        SettingType::String,
        "/data",
        "where the step's granted directory is mounted",
    ),
    Setting::with_default("page_size", SettingType::Integer, "1000", "keys per listing page"),
];

/// The most one `read` returns, whatever is asked: the host reads in a loop anyway.
const MAX_READ: u64 = 4 << 20;

struct Plugin;

impl about::Guest for Plugin {
    fn describe() -> Description {
        ferry_guest::describe!(Source, "the files under a directory granted to the step", SETTINGS)
    }
}

impl source::Guest for Plugin {
    fn list_objects(prefix: String, cursor: Option<String>) -> Result<ListPage, Error> {
        list_page(&config()?, &prefix, cursor.as_deref())
    }

    fn read(key: String, offset: u64, len: u64) -> Result<Vec<u8>, Error> {
        read(&config()?.root, &key, offset, len)
    }
}

export!(Plugin);

#[derive(Debug)]
struct Config {
    root: PathBuf,
    page_size: usize,
}

/// The step's settings; a bad one fails the call, naming it.
fn config() -> Result<Config, Error> {
    from_settings(&Settings::load(SETTINGS)?)
}

fn from_settings(settings: &Settings) -> Result<Config, Error> {
    let root = settings.string("root").unwrap_or("/data");
    if !root.starts_with('/') {
        return Err(error(
            INVALID_SETTING,
            format!(
                "setting `root` = `{root}`: expected an absolute path (the mount of a granted directory)"
            ),
        ));
    }
    Ok(Config {
        root: PathBuf::from(root),
        page_size: settings.positive("page_size")?.unwrap_or(1000),
    })
}

/// The page of keys starting with `prefix` that follows `cursor` (the first page without one).
fn list_page(config: &Config, prefix: &str, cursor: Option<&str>) -> Result<ListPage, Error> {
    check_root(&config.root)?;
    let keys = walk(&config.root, prefix)?;
    let start = cursor.map_or(0, |cursor| keys.partition_point(|k| k.as_str() <= cursor));
    let end = keys.len().min(start + config.page_size);
    let mut objects = Vec::with_capacity(end - start);
    for key in &keys[start..end] {
        objects.extend(describe(&config.root, key)?);
    }
    let next_cursor = (end < keys.len()).then(|| keys[end - 1].clone());
    Ok(ListPage { objects, next_cursor })
}

fn check_root(root: &Path) -> Result<(), Error> {
    match fs::metadata(root) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => {
            Err(error("not_found", format!("`{}` is a file, not a directory", root.display())))
        }
        Err(e) => Err(error(
            "not_found",
            format!(
                "directory `{}` is not visible in the sandbox ({e}): grant it to the step with `[steps.grants] dirs`",
                root.display()
            ),
        )),
    }
}

/// Every file key under `root` that starts with `prefix`, sorted. Only directories that can
/// hold such keys are walked.
fn walk(root: &Path, prefix: &str) -> Result<Vec<String>, Error> {
    let mut keys = Vec::new();
    let mut dirs = vec![(root.to_owned(), String::new())];
    while let Some((dir, dir_key)) = dirs.pop() {
        let shown = if dir_key.is_empty() { "." } else { dir_key.as_str() };
        for entry in fs::read_dir(&dir).map_err(|e| io_error(shown, e))? {
            let entry = entry.map_err(|e| io_error(shown, e))?;
            // A name that is not UTF-8 could not be asked for again as a key.
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            let key = format!("{dir_key}{name}");
            let kind = entry.file_type().map_err(|e| io_error(&key, e))?;
            if kind.is_dir() {
                let sub = key + "/";
                if sub.starts_with(prefix) || prefix.starts_with(&sub) {
                    dirs.push((entry.path(), sub));
                }
            } else if kind.is_file() && key.starts_with(prefix) {
                keys.push(key);
            }
        }
    }
    keys.sort_unstable();
    Ok(keys)
}

/// The object behind `key`, or `None` if it went away since the walk.
fn describe(root: &Path, key: &str) -> Result<Option<ObjectInfo>, Error> {
    let meta = match fs::metadata(root.join(key)) {
        Ok(meta) => meta,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(key, e)),
    };
    let modified = meta.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok());
    Ok(Some(ObjectInfo {
        key: key.to_owned(),
        size: meta.len(),
        etag: Some(format!("{}-{}", meta.len(), modified.map_or(0, |d| d.as_nanos()))),
        last_modified: modified.map(|d| rfc3339(d.as_secs() as i64)),
    }))
}

/// Up to `len` bytes (at most [`MAX_READ`]) of `key` from `offset`; fewer at the end.
fn read(root: &Path, key: &str, offset: u64, len: u64) -> Result<Vec<u8>, Error> {
    let path = resolve(root, key)?;
    let mut file = File::open(&path).map_err(|e| io_error(key, e))?;
    file.seek(SeekFrom::Start(offset)).map_err(|e| io_error(key, e))?;
    let mut bytes = Vec::new();
    file.take(len.min(MAX_READ)).read_to_end(&mut bytes).map_err(|e| io_error(key, e))?;
    Ok(bytes)
}

/// The path of `key`, which must be a relative path that stays under the root. The sandbox
/// would refuse to leave the granted directory anyway; this gives the clearer message.
fn resolve(root: &Path, key: &str) -> Result<PathBuf, Error> {
    if key.split('/').any(|part| matches!(part, "" | "." | "..")) {
        return Err(error(
            "invalid_key",
            format!(
                "key `{key}` must be a relative path of names under the root (no `..`, `.`, or empty parts)"
            ),
        ));
    }
    Ok(root.join(key))
}

/// An I/O error on `what` (a key, or a directory relative to the root).
fn io_error(what: &str, e: std::io::Error) -> Error {
    let code = if e.kind() == ErrorKind::NotFound { "not_found" } else { "io" };
    error(code, format!("{what}: {e}"))
}

/// `YYYY-MM-DDTHH:MM:SSZ` for seconds since the Unix epoch, its date from ferry-guest's
/// calendar.
fn rfc3339(seconds: i64) -> String {
    let (days, second) = (seconds.div_euclid(SECONDS_PER_DAY), seconds.rem_euclid(SECONDS_PER_DAY));
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second) = (second / 3600, second % 3600 / 60, second % 60);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z")
}

// Unit tests of the listing and the reads run natively, on a temporary directory: `cargo test`.
#[cfg(test)]
mod tests {
    use super::*;
    use ferry_guest::types::PluginKind;

    /// A directory of files for a test, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(files: &[(&str, &str)]) -> Self {
            static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let dir = std::env::temp_dir().join(format!("{{name}}-{}-{n}", std::process::id()));
            fs::create_dir_all(&dir).unwrap();
            for (key, content) in files {
                let path = dir.join(key);
                fs::create_dir_all(path.parent().unwrap()).unwrap();
                fs::write(path, content).unwrap();
            }
            TempDir(dir)
        }

        fn config(&self, page_size: usize) -> Config {
            Config { root: self.0.clone(), page_size }
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn keys(page: &ListPage) -> Vec<&str> {
        page.objects.iter().map(|o| o.key.as_str()).collect()
    }

    const FILES: &[(&str, &str)] = &[
        ("b.csv", "bb"),
        ("a/2.csv", "2"),
        ("a/1.csv", "1"),
        ("a/sub/x.txt", "x"),
        (".git/config", ""),
        ("a/.tmp", ""),
    ];

    #[test]
    fn keys_are_sorted_paths_without_hidden_names() {
        let dir = TempDir::new(FILES);
        let page = list_page(&dir.config(1000), "", None).unwrap();
        assert_eq!(keys(&page), ["a/1.csv", "a/2.csv", "a/sub/x.txt", "b.csv"]);
        assert_eq!(page.next_cursor, None);
        let b = &page.objects[3];
        assert_eq!(b.size, 2);
        assert!(b.etag.as_deref().unwrap().starts_with("2-"), "{:?}", b.etag);
        assert_eq!(b.last_modified.as_deref().map(str::len), Some(20), "{:?}", b.last_modified);
    }

    #[test]
    fn pages_follow_the_cursor() {
        let dir = TempDir::new(FILES);
        let first = list_page(&dir.config(3), "", None).unwrap();
        assert_eq!(
            (keys(&first), first.next_cursor.as_deref()),
            (vec!["a/1.csv", "a/2.csv", "a/sub/x.txt"], Some("a/sub/x.txt"))
        );
        let last = list_page(&dir.config(3), "", first.next_cursor.as_deref()).unwrap();
        assert_eq!((keys(&last), last.next_cursor.as_deref()), (vec!["b.csv"], None));
    }

    #[test]
    fn a_prefix_narrows_the_walk() {
        let dir = TempDir::new(FILES);
        let under = |prefix| keys(&list_page(&dir.config(10), prefix, None).unwrap()).join(" ");
        assert_eq!(under("a/s"), "a/sub/x.txt");
        assert_eq!(under("a/"), "a/1.csv a/2.csv a/sub/x.txt");
        assert_eq!(under("zzz"), "");
    }

    #[test]
    fn a_root_that_is_not_granted_says_so() {
        let config = Config { root: PathBuf::from("/no/such/ferry/dir"), page_size: 10 };
        let e = list_page(&config, "", None).unwrap_err();
        assert_eq!(e.code, "not_found");
        assert!(
            e.message.ends_with("grant it to the step with `[steps.grants] dirs`"),
            "{}",
            e.message
        );
    }

    #[test]
    fn reads_ranges_and_stops_at_the_end() {
        let dir = TempDir::new(&[("a/data.bin", "0123456789")]);
        assert_eq!(read(&dir.0, "a/data.bin", 0, 4).unwrap(), b"0123");
        assert_eq!(read(&dir.0, "a/data.bin", 7, 100).unwrap(), b"789");
        assert_eq!(read(&dir.0, "a/data.bin", 10, 5).unwrap(), b"");
        assert_eq!(read(&dir.0, "a/none.bin", 0, 1).unwrap_err().code, "not_found");
    }

    #[test]
    fn keys_stay_under_the_root() {
        let dir = TempDir::new(&[("a/data.bin", "0123456789")]);
        for key in ["../etc/passwd", "a/../a/data.bin", "/a/data.bin", "a//data.bin", "./a", ""] {
            assert_eq!(read(&dir.0, key, 0, 1).unwrap_err().code, "invalid_key", "{key}");
        }
    }

    #[test]
    fn times_are_rfc3339_in_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_724_061_600), "2024-08-19T10:00:00Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn the_settings_table_is_what_the_config_reads() {
        // Every default given back changes nothing; a required setting left out is named.
        ferry_guest::testing::check_settings(SETTINGS, &[], from_settings);
        let d = <Plugin as about::Guest>::describe();
        assert_eq!((d.name.as_str(), d.kind), ("{{name}}", PluginKind::Source));
        for (pairs, message) in [
            (&[("page_size", "0")][..], "expected a whole number of at least 1"),
            (&[("root", "data")][..], "expected an absolute path"),
            (&[("rooot", "/x")][..], "unknown setting `rooot` (did you mean `root`?)"),
        ] {
            let e =
                Settings::from_pairs(SETTINGS, pairs).and_then(|s| from_settings(&s)).unwrap_err();
            assert!(e.message.contains(message), "{}", e.message);
        }
    }
}
