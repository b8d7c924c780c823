//! The files embedded by `build.rs`: `wit/…`, `sdk/rust/…`, `sdk/python/…`, `templates/…`.

/// Every embedded file: (path in the kit, bytes), sorted by path.
static FILES: &[(&str, &[u8])] = include!(concat!(env!("OUT_DIR"), "/kit_files.rs"));

/// The files under `prefix` (a kit directory), with paths relative to it.
pub(super) fn tree(prefix: &str) -> impl Iterator<Item = (&'static str, &'static [u8])> + '_ {
    FILES.iter().filter_map(move |(path, bytes)| {
        path.strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('/'))
            .map(|rel| (rel, *bytes))
    })
}

/// One embedded file.
pub(super) fn file(path: &str) -> Option<&'static [u8]> {
    FILES.iter().find(|(p, _)| *p == path).map(|(_, b)| *b)
}

/// Digest of everything under `prefixes`, which names a version of the SDK.
pub(super) fn digest(prefixes: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for prefix in prefixes {
        for (path, bytes) in tree(prefix) {
            hasher.update(path.as_bytes());
            hasher.update((bytes.len() as u64).to_le_bytes());
            hasher.update(bytes);
        }
    }
    hex::encode(hasher.finalize())
}
