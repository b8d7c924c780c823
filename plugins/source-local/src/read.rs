//! Reading a byte range of one object.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use ferry_guest::error;
use ferry_guest::types::Error;

use crate::io_error;

/// The most one read returns, whatever is asked: the host reads in a loop anyway, and a
/// bounded answer keeps the plugin's memory bounded.
pub const MAX_READ: u64 = 4 << 20;

/// Up to `len` bytes (at most [`MAX_READ`]) of `key` from `offset`; fewer at the end.
pub fn read(root: &Path, key: &str, offset: u64, len: u64) -> Result<Vec<u8>, Error> {
    let path = resolve(root, key)?;
    let mut file = File::open(&path).map_err(|e| io_error(key, e))?;
    let size = file.metadata().map_err(|e| io_error(key, e))?.len();
    let len = len.min(MAX_READ).min(size.saturating_sub(offset));
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| io_error(key, e))?;
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    // `len` stays the cap even if the file grew since it was measured.
    file.take(len)
        .read_to_end(&mut bytes)
        .map_err(|e| io_error(key, e))?;
    Ok(bytes)
}

/// The path of `key`, which must be a relative path that stays under the root. The sandbox
/// would refuse to leave the granted directory anyway; this gives the clearer message.
pub fn resolve(root: &Path, key: &str) -> Result<PathBuf, Error> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::TempDir;

    #[test]
    fn reads_ranges_and_stops_at_the_end() {
        let dir = TempDir::new(&[("a/data.bin", "0123456789")]);
        assert_eq!(read(dir.path(), "a/data.bin", 0, 4).unwrap(), b"0123");
        assert_eq!(read(dir.path(), "a/data.bin", 7, 100).unwrap(), b"789");
        assert_eq!(read(dir.path(), "a/data.bin", 10, 5).unwrap(), b"");
        assert_eq!(read(dir.path(), "a/data.bin", 50, 5).unwrap(), b"");
    }

    #[test]
    fn reads_are_capped() {
        let big = "x".repeat(MAX_READ as usize + 10);
        let dir = TempDir::new(&[("big", big.as_str())]);
        assert_eq!(
            read(dir.path(), "big", 0, u64::MAX).unwrap().len() as u64,
            MAX_READ
        );
    }

    #[test]
    fn keys_stay_under_the_root() {
        let dir = TempDir::new(&[("a", "")]);
        for key in [
            "../etc/passwd",
            "a/../../x",
            "/etc/passwd",
            "a//b",
            "./a",
            "",
            "a/",
        ] {
            let err = read(dir.path(), key, 0, 1).unwrap_err();
            assert_eq!(err.code, "invalid_key", "{key}");
            assert!(err.message.contains(&format!("`{key}`")), "{}", err.message);
        }
    }

    #[test]
    fn missing_keys_are_not_found() {
        let dir = TempDir::new(&[]);
        let err = read(dir.path(), "gone.csv", 0, 1).unwrap_err();
        assert_eq!(err.code, "not_found");
        assert!(err.message.starts_with("gone.csv: "), "{}", err.message);
    }
}
