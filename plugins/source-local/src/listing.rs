//! Listing the files under the root, one page at a time.
//!
//! Keys are the files' paths relative to the root, joined with `/`, sorted bytewise: the same
//! directory lists the same way on every run, and a cursor (the last key of the previous page)
//! says exactly where the next page starts. Only directories that can hold keys with the
//! prefix are walked.
//!
//! A listing walks the tree once, on its first page; later pages of the same listing are cut
//! from that snapshot instead of walking the tree again for every page.

use std::cell::RefCell;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use ferry_guest::error;
use ferry_guest::types::{Error, ObjectInfo};

use crate::io_error;
use crate::timestamp::{epoch_nanos, rfc3339};

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub objects: Vec<ObjectInfo>,
    pub next_cursor: Option<String>,
}

/// The keys of the listing under way.
struct Snapshot {
    root: PathBuf,
    prefix: String,
    keys: Vec<String>,
}

thread_local! {
    static SNAPSHOT: RefCell<Option<Snapshot>> = const { RefCell::new(None) };
}

/// The page of keys under `root` starting with `prefix` that follows `cursor`.
pub fn page(
    root: &Path,
    prefix: &str,
    cursor: Option<&str>,
    page_size: usize,
) -> Result<Page, Error> {
    check_root(root)?;
    SNAPSHOT.with_borrow_mut(|cached| {
        // A listing starts without a cursor: that is when the tree is walked again.
        let reusable = cached
            .take()
            .filter(|s| cursor.is_some() && s.root == root && s.prefix == prefix);
        let snapshot = match reusable {
            Some(snapshot) => snapshot,
            None => Snapshot {
                root: root.to_owned(),
                prefix: prefix.to_owned(),
                keys: walk(root, prefix)?,
            },
        };
        let keys = &snapshot.keys;
        let start = cursor.map_or(0, |cursor| keys.partition_point(|k| k.as_str() <= cursor));
        let end = keys.len().min(start + page_size.max(1));
        let mut objects = Vec::with_capacity(end - start);
        for key in &keys[start..end] {
            objects.extend(describe(root, key)?);
        }
        let next_cursor = (end < keys.len()).then(|| keys[end - 1].clone());
        *cached = Some(snapshot);
        Ok(Page {
            objects,
            next_cursor,
        })
    })
}

fn check_root(root: &Path) -> Result<(), Error> {
    let shown = root.display();
    match fs::metadata(root) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(error(
            "not_found",
            format!("`{shown}` is a file, not a directory"),
        )),
        Err(e) => Err(error(
            "not_found",
            format!(
                "directory `{shown}` is not visible in the sandbox ({e}): \
                 grant it to the step with `[steps.grants] dirs`"
            ),
        )),
    }
}

/// Every file key under `root` that starts with `prefix`, sorted.
fn walk(root: &Path, prefix: &str) -> Result<Vec<String>, Error> {
    let mut keys = Vec::new();
    let mut dirs = vec![(root.to_owned(), String::new())];
    while let Some((dir, dir_key)) = dirs.pop() {
        let shown = if dir_key.is_empty() {
            "."
        } else {
            dir_key.as_str()
        };
        let entries = fs::read_dir(&dir).map_err(|e| io_error(shown, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| io_error(shown, e))?;
            // Keys are strings; a name that is not UTF-8 could not be asked for again.
            let Ok(name) = entry.file_name().into_string() else {
                continue;
            };
            let key = format!("{dir_key}{name}");
            let kind = entry.file_type().map_err(|e| io_error(&key, e))?;
            if kind.is_dir() {
                let sub = key + "/";
                if sub.starts_with(prefix) || prefix.starts_with(&sub) {
                    dirs.push((entry.path(), sub));
                }
            } else if key.starts_with(prefix) && (kind.is_file() || is_link_to_file(&entry.path()))
            {
                keys.push(key);
            }
        }
    }
    keys.sort_unstable();
    Ok(keys)
}

/// Symlinks to files are listed; links to directories are not followed (they could loop).
fn is_link_to_file(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
        && fs::metadata(path).is_ok_and(|m| m.is_file())
}

/// The object behind `key`, or `None` if it was deleted since the walk.
fn describe(root: &Path, key: &str) -> Result<Option<ObjectInfo>, Error> {
    let meta = match fs::metadata(root.join(key)) {
        Ok(meta) => meta,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(key, e)),
    };
    let modified = meta.modified().ok().map(epoch_nanos);
    Ok(Some(ObjectInfo {
        key: key.to_owned(),
        size: meta.len(),
        etag: Some(format!("{}-{}", meta.len(), modified.unwrap_or(0))),
        last_modified: modified.map(rfc3339),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::TempDir;

    fn keys(page: &Page) -> Vec<&str> {
        page.objects.iter().map(|o| o.key.as_str()).collect()
    }

    #[test]
    fn lists_files_recursively_in_key_order() {
        let dir = TempDir::new(&[
            ("b.csv", "1"),
            ("a/z.csv", "22"),
            ("a/b/c.csv", "333"),
            ("a.csv", ""),
            ("é.csv", "x"),
        ]);
        fs::create_dir(dir.path().join("empty")).unwrap();
        let page = page(dir.path(), "", None, 1000).unwrap();
        assert_eq!(
            keys(&page),
            ["a.csv", "a/b/c.csv", "a/z.csv", "b.csv", "é.csv"]
        );
        assert_eq!(page.next_cursor, None);
        let c = &page.objects[1];
        assert_eq!(c.size, 3);
        let modified = epoch_nanos(
            fs::metadata(dir.path().join("a/b/c.csv"))
                .unwrap()
                .modified()
                .unwrap(),
        );
        assert_eq!(c.etag, Some(format!("3-{modified}")));
        assert_eq!(c.last_modified.as_deref(), Some(rfc3339(modified).as_str()));
    }

    #[test]
    fn prefixes_select_keys_and_prune_directories() {
        let dir = TempDir::new(&[
            ("2024/08/a.csv", ""),
            ("2024/09/b.csv", ""),
            ("2024-notes.txt", ""),
            ("x.csv", ""),
        ]);
        assert_eq!(
            keys(&page(dir.path(), "2024/08/", None, 10).unwrap()),
            ["2024/08/a.csv"]
        );
        assert_eq!(
            keys(&page(dir.path(), "2024", None, 10).unwrap()),
            ["2024-notes.txt", "2024/08/a.csv", "2024/09/b.csv"]
        );
        assert_eq!(
            keys(&page(dir.path(), "2024/0", None, 10).unwrap()),
            ["2024/08/a.csv", "2024/09/b.csv"]
        );
        assert!(
            page(dir.path(), "nope/", None, 10)
                .unwrap()
                .objects
                .is_empty()
        );
    }

    #[test]
    fn pages_follow_the_cursor_over_one_snapshot() {
        let dir = TempDir::new(&[("a", ""), ("b", ""), ("c", ""), ("d", ""), ("e", "")]);
        let first = page(dir.path(), "", None, 2).unwrap();
        assert_eq!(
            (keys(&first), first.next_cursor.as_deref()),
            (vec!["a", "b"], Some("b"))
        );
        // A file added mid-listing does not shift later pages; a new listing sees it.
        fs::write(dir.path().join("bb"), "").unwrap();
        let second = page(dir.path(), "", Some("b"), 2).unwrap();
        assert_eq!(
            (keys(&second), second.next_cursor.as_deref()),
            (vec!["c", "d"], Some("d"))
        );
        let last = page(dir.path(), "", Some("d"), 2).unwrap();
        assert_eq!(
            (keys(&last), last.next_cursor.as_deref()),
            (vec!["e"], None)
        );
        assert_eq!(
            keys(&page(dir.path(), "", None, 10).unwrap()),
            ["a", "b", "bb", "c", "d", "e"]
        );
        // A file deleted since the walk is left out.
        fs::remove_file(dir.path().join("c")).unwrap();
        let first = page(dir.path(), "", None, 3).unwrap();
        fs::remove_file(dir.path().join("d")).unwrap();
        assert_eq!(
            keys(&page(dir.path(), "", first.next_cursor.as_deref(), 3).unwrap()),
            ["e"]
        );
    }

    #[test]
    fn a_missing_root_says_to_grant_it() {
        let err = page(Path::new("/no/such/ferry/dir"), "", None, 10).unwrap_err();
        assert_eq!(err.code, "not_found");
        assert!(
            err.message
                .starts_with("directory `/no/such/ferry/dir` is not visible in the sandbox ("),
            "{}",
            err.message
        );
        assert!(
            err.message
                .ends_with("grant it to the step with `[steps.grants] dirs`"),
            "{}",
            err.message
        );
        let dir = TempDir::new(&[("f", "")]);
        assert_eq!(
            page(&dir.path().join("f"), "", None, 1).unwrap_err().code,
            "not_found"
        );
    }
}
