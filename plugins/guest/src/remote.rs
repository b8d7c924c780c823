//! What object-store sources share about reading one object in ranges: the object's size and
//! version are learned once (on the read at offset 0) and every later range asks for exactly
//! that version, so an object overwritten mid-read fails clearly instead of mixing versions.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::types::Error;

/// An object as first seen by this reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pinned {
    pub size: u64,
    /// ETag (S3) or generation (GCS).
    pub version: String,
}

thread_local! {
    static PINNED: RefCell<HashMap<String, Pinned>> = RefCell::new(HashMap::new());
}

/// The pinned version of `key`, looked up with `stat` on the first read (offset 0) or when
/// this instance has not seen the key yet.
pub fn pinned(
    key: &str,
    offset: u64,
    stat: impl FnOnce() -> Result<Pinned, Error>,
) -> Result<Pinned, Error> {
    if offset > 0
        && let Some(p) = PINNED.with(|m| m.borrow().get(key).cloned())
    {
        return Ok(p);
    }
    let p = stat()?;
    PINNED.with(|m| m.borrow_mut().insert(key.to_owned(), p.clone()));
    Ok(p)
}

/// The inclusive byte range to ask for, or `None` at or past the end.
pub fn range(offset: u64, len: u64, size: u64) -> Option<(u64, u64)> {
    if offset >= size || len == 0 {
        return None;
    }
    Some((offset, (offset + len).min(size) - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(range(0, 10, 100), Some((0, 9)));
        assert_eq!(range(95, 10, 100), Some((95, 99)));
        assert_eq!(range(100, 10, 100), None);
        assert_eq!(range(0, 10, 0), None);
    }

    #[test]
    fn a_key_is_looked_up_once_per_read_from_the_start() {
        let p = Pinned {
            size: 5,
            version: "v1".into(),
        };
        assert_eq!(pinned("k", 0, || Ok(p.clone())).unwrap(), p);
        let again = pinned("k", 3, || panic!("looked up again")).unwrap();
        assert_eq!(again, p);
        let fresh = Pinned {
            size: 6,
            version: "v2".into(),
        };
        assert_eq!(pinned("k", 0, || Ok(fresh.clone())).unwrap(), fresh);
    }
}
