//! The zips ferry writes and reads — service packages and project exports. Writing records
//! every file's SHA-256 and size as it is written, so the manifest that lists them can be
//! trusted by a reader that checks each file against it. Reading ([`Reader`]) refuses what
//! could hurt the reader before anything is inflated: names that escape (zip slip), symlinks,
//! a name given twice, archives declaring more than the limit (zip bombs); what is inflated is
//! counted too, so an entry that lies about its size stops at what it declared.

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
struct Hashing<'a, W: Write + ?Sized> {
    inner: &'a mut W,
    hash: Sha256,
    size: u64,
}

impl<W: Write + ?Sized> Write for Hashing<'_, W> {
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

/// Why a zip could not be read, or does not match its manifest.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Not a zip at all.
    #[error("not a zip archive: {0}")]
    NotZip(#[source] zip::result::ZipError),
    /// The central directory holds a name twice (a reader would see only one of them).
    #[error(
        "the zip declares {declared} entries but holds {distinct} distinct names: an entry appears twice"
    )]
    Duplicate {
        /// Entries declared.
        declared: u64,
        /// Distinct names.
        distinct: usize,
    },
    /// The entries declare more than the limit, uncompressed.
    #[error("larger than the limit of {limit} bytes uncompressed")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
    /// One entry declares more than the reader holds in memory for it.
    #[error("entry `{name}` declares more than the {max} bytes it may hold")]
    EntryTooLarge {
        /// The entry.
        name: String,
        /// The most it may hold.
        max: u64,
    },
    /// An entry is a symbolic link.
    #[error("entry `{0}` is a symbolic link; only plain files are read")]
    Symlink(String),
    /// An entry's name is not a safe relative path.
    #[error("entry `{name}`: {source} (zip slip?)")]
    Unsafe {
        /// The name as the zip gives it.
        name: String,
        /// Why it is refused.
        #[source]
        source: crate::paths::NameError,
    },
    /// An entry does not inflate to what it declares.
    #[error("entry `{name}` is corrupt: {why}")]
    Corrupt {
        /// The entry.
        name: String,
        /// What is wrong.
        why: String,
    },
    /// An entry the reader needs is not there.
    #[error("no entry `{0}`")]
    Missing(String),
    /// An entry the manifest does not list.
    #[error("`{0}` is in the zip but not in the manifest")]
    Unlisted(String),
    /// An entry's bytes differ from the manifest's checksum or size.
    #[error("`{0}` does not match its checksum in the manifest (corrupt or tampered)")]
    Checksum(String),
    /// Reading the zip itself failed.
    #[error("reading the zip: {0}")]
    Io(#[from] std::io::Error),
}

/// A zip opened for reading, its central directory already checked: every entry a plain file
/// or directory with a safe name, no name twice, the declared sizes within the limit.
pub struct Reader<R: Read + Seek> {
    zip: zip::ZipArchive<R>,
    /// The file entries (directories aside), in the zip's order.
    names: Vec<String>,
}

impl<R: Read + Seek> Reader<R> {
    /// Opens `input`, refusing it before anything is inflated if its entries declare more than
    /// `limit` bytes uncompressed or any entry is unsafe.
    pub fn open(mut input: R, limit: u64) -> Result<Self, ReadError> {
        let declared_entries = declared_entries(&mut input)?;
        let mut zip = zip::ZipArchive::new(input).map_err(ReadError::NotZip)?;
        // The reader indexes entries by name, so a second entry of a name would vanish from
        // view (and could be what another reader unpacks): count what the directory declares.
        if let Some(declared) = declared_entries.filter(|n| *n != zip.len() as u64) {
            return Err(ReadError::Duplicate {
                declared,
                distinct: zip.len(),
            });
        }
        let mut total = 0u64;
        let mut names = Vec::new();
        for i in 0..zip.len() {
            let entry = zip.by_index_raw(i).map_err(|e| corrupt_zip(i, e))?;
            total = total.saturating_add(entry.size());
            if total > limit {
                return Err(ReadError::TooLarge { limit });
            }
            let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
            if entry.is_symlink() {
                return Err(ReadError::Symlink(name));
            }
            let path = name.trim_end_matches('/');
            crate::paths::check(crate::paths::NameKind::Entry, path).map_err(|source| {
                ReadError::Unsafe {
                    name: name.clone(),
                    source,
                }
            })?;
            if !entry.is_dir() {
                names.push(name);
            }
        }
        Ok(Reader { zip, names })
    }

    /// The file entries, in the zip's order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Whether there is a file entry `name`.
    pub fn contains(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }

    /// Streams entry `name` into `out`, never more than it declares; its checksum.
    pub fn copy(&mut self, name: &str, out: &mut dyn Write) -> Result<FileEntry, ReadError> {
        let entry = self.zip.by_name(name).map_err(|e| match e {
            zip::result::ZipError::FileNotFound => ReadError::Missing(name.to_owned()),
            e => ReadError::Corrupt {
                name: name.to_owned(),
                why: e.to_string(),
            },
        })?;
        let declared = entry.size();
        let mut hashing = Hashing {
            inner: out,
            hash: Sha256::new(),
            size: 0,
        };
        // Count what is actually inflated, not what the header claims.
        std::io::copy(&mut entry.take(declared + 1), &mut hashing).map_err(|e| {
            ReadError::Corrupt {
                name: name.to_owned(),
                why: e.to_string(),
            }
        })?;
        if hashing.size != declared {
            let held = if hashing.size > declared {
                format!("more than {declared}")
            } else {
                format!("only {}", hashing.size)
            };
            return Err(ReadError::Corrupt {
                name: name.to_owned(),
                why: format!("it declares {declared} bytes but inflates to {held}"),
            });
        }
        Ok(FileEntry {
            sha256: hex::encode(hashing.hash.finalize()),
            size: hashing.size,
        })
    }

    /// Entry `name`'s bytes, refused before anything is inflated if it declares more than
    /// `max` (what is held in memory stays bounded by the caller's limit, not the zip's).
    pub fn read_at_most(&mut self, name: &str, max: u64) -> Result<Vec<u8>, ReadError> {
        let declared = self
            .zip
            .by_name(name)
            .map_err(|_| ReadError::Missing(name.to_owned()))?
            .size();
        if declared > max {
            return Err(ReadError::EntryTooLarge {
                name: name.to_owned(),
                max,
            });
        }
        self.read(name)
    }

    /// Entry `name`'s bytes.
    pub fn read(&mut self, name: &str) -> Result<Vec<u8>, ReadError> {
        let mut bytes = Vec::new();
        self.copy(name, &mut bytes)?;
        Ok(bytes)
    }

    /// Every file entry but `manifest` must be listed in `files` with its checksum, and every
    /// listed file must be there: each entry is inflated once, hashed, and dropped.
    pub fn verify(
        &mut self,
        manifest: &str,
        files: &BTreeMap<String, FileEntry>,
    ) -> Result<(), ReadError> {
        if let Some(extra) = self
            .names
            .iter()
            .find(|n| *n != manifest && !files.contains_key(*n))
        {
            return Err(ReadError::Unlisted(extra.clone()));
        }
        for (path, expected) in files {
            if !self.contains(path) {
                return Err(ReadError::Missing(path.clone()));
            }
            if self.copy(path, &mut std::io::sink())? != *expected {
                return Err(ReadError::Checksum(path.clone()));
            }
        }
        Ok(())
    }
}

fn corrupt_zip(index: usize, e: zip::result::ZipError) -> ReadError {
    ReadError::Corrupt {
        name: format!("#{index}"),
        why: e.to_string(),
    }
}

/// How many entries the zip's end-of-central-directory record declares (the ZIP64 record's
/// count when the classic one overflows); `None` when there is no such record (the zip
/// reader then says what is wrong).
fn declared_entries(input: &mut (impl Read + Seek)) -> Result<Option<u64>, std::io::Error> {
    use std::io::SeekFrom;
    const EOCD: &[u8] = b"PK\x05\x06";
    let len = input.seek(SeekFrom::End(0))?;
    let tail_len = len.min(22 + 65535);
    input.seek(SeekFrom::Start(len - tail_len))?;
    let mut tail = vec![0u8; tail_len as usize];
    input.read_exact(&mut tail)?;
    input.seek(SeekFrom::Start(0))?;
    let Some(at) = tail.windows(4).rposition(|w| w == EOCD) else {
        return Ok(None);
    };
    let Some(record) = tail.get(at..at + 22) else {
        return Ok(None);
    };
    let classic = u16::from_le_bytes([record[10], record[11]]);
    if classic != u16::MAX {
        return Ok(Some(classic as u64));
    }
    // ZIP64: the locator (20 bytes, just before) gives the offset of the ZIP64 record.
    let Some(locator) = at.checked_sub(20).and_then(|l| tail.get(l..l + 20)) else {
        return Ok(None);
    };
    if &locator[..4] != b"PK\x06\x07" {
        return Ok(None);
    }
    let offset = u64::from_le_bytes(locator[8..16].try_into().expect("8 bytes"));
    let mut record = [0u8; 56];
    input.seek(SeekFrom::Start(offset))?;
    let found = input.read_exact(&mut record).is_ok() && &record[..4] == b"PK\x06\x06";
    input.seek(SeekFrom::Start(0))?;
    Ok(found.then(|| u64::from_le_bytes(record[32..40].try_into().expect("8 bytes"))))
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
