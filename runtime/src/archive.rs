//! The zips ferry writes — service packages and project exports: every file's SHA-256 and
//! size recorded as it is written, so the manifest that lists them can be trusted by a reader
//! that checks each file against it.

use std::collections::BTreeMap;
use std::io::{Read, Seek, Write};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;

/// A file's checksum and size, as a manifest lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileEntry {
    /// Lowercase hex SHA-256 of the file's bytes.
    pub sha256: String,
    /// Its length in bytes.
    pub size: u64,
}

impl FileEntry {
    /// The entry for `bytes`.
    pub fn of(bytes: &[u8]) -> FileEntry {
        FileEntry {
            sha256: hex::encode(Sha256::digest(bytes)),
            size: bytes.len() as u64,
        }
    }
}

/// Why a zip could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The zip library refused an entry.
    #[error("writing zip entry `{path}`: {source}")]
    Zip {
        /// The entry.
        path: String,
        /// Why.
        #[source]
        source: zip::result::ZipError,
    },
    /// Reading a file to add, or writing the zip, failed.
    #[error("writing zip entry `{path}`: {source}")]
    Io {
        /// The entry.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// A zip being written, deflated, entry by entry; each entry's checksum is kept for the
/// manifest.
pub struct Writer<W: Write + Seek> {
    zip: zip::ZipWriter<W>,
    files: BTreeMap<String, FileEntry>,
}

fn options() -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true)
}

/// Passes bytes on to the zip while hashing and counting them.
struct Hashing<'a, W: Write> {
    inner: &'a mut W,
    hash: Sha256,
    size: u64,
}

impl<W: Write> Write for Hashing<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<W: Write + Seek> Writer<W> {
    /// A zip written to `out`.
    pub fn new(out: W) -> Self {
        Writer {
            zip: zip::ZipWriter::new(out),
            files: BTreeMap::new(),
        }
    }

    fn start(&mut self, path: &str) -> Result<(), ArchiveError> {
        self.zip
            .start_file(path, options())
            .map_err(|source| ArchiveError::Zip {
                path: path.to_owned(),
                source,
            })
    }

    /// Adds entry `path` holding `bytes`, recorded for the manifest.
    pub fn add(&mut self, path: &str, bytes: &[u8]) -> Result<(), ArchiveError> {
        self.add_from(path, &mut &bytes[..])
    }

    /// Adds entry `path` streamed from `input` (a file is never held in memory whole).
    pub fn add_from(&mut self, path: &str, input: &mut dyn Read) -> Result<(), ArchiveError> {
        self.start(path)?;
        let mut hashing = Hashing {
            inner: &mut self.zip,
            hash: Sha256::new(),
            size: 0,
        };
        std::io::copy(input, &mut hashing).map_err(|source| ArchiveError::Io {
            path: path.to_owned(),
            source,
        })?;
        let entry = FileEntry {
            sha256: hex::encode(hashing.hash.finalize()),
            size: hashing.size,
        };
        self.files.insert(path.to_owned(), entry);
        Ok(())
    }

    /// Every entry added so far, with its checksum.
    pub fn files(&self) -> &BTreeMap<String, FileEntry> {
        &self.files
    }

    /// Adds the manifest (not listed in itself) and finishes the zip.
    pub fn finish(mut self, manifest: &str, json: &[u8]) -> Result<W, ArchiveError> {
        self.start(manifest)?;
        self.zip
            .write_all(json)
            .map_err(|source| ArchiveError::Io {
                path: manifest.to_owned(),
                source,
            })?;
        self.zip.finish().map_err(|source| ArchiveError::Zip {
            path: manifest.to_owned(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    #[test]
    fn entries_are_hashed_as_written_and_the_manifest_is_not_listed() {
        let mut w = Writer::new(Cursor::new(Vec::new()));
        w.add("a.txt", b"hello").unwrap();
        w.add_from("b/c.bin", &mut &[0u8; 70_000][..]).unwrap();
        let files = w.files().clone();
        assert_eq!(files["a.txt"], FileEntry::of(b"hello"));
        assert_eq!(files["b/c.bin"].size, 70_000);
        let out = w.finish("manifest.json", b"{}").unwrap().into_inner();
        let mut zip = zip::ZipArchive::new(Cursor::new(out)).unwrap();
        assert_eq!(zip.len(), 3);
        let mut text = String::new();
        zip.by_name("a.txt")
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "hello");
        assert!(!files.contains_key("manifest.json"));
    }
}
