//! The one object a file parser decodes, as a file: [`ObjectFile`] is `Read + Seek` over the
//! `object` import, for the readers of formats that seek (Arrow IPC's footer, Avro's blocks).
//!
//! Each host call crosses the sandbox and copies, so reads go through a read-ahead buffer
//! ([`DEFAULT_READ_AHEAD`]): many small reads of a reader's headers cost one call, and a seek
//! within what was read costs none. No call asks for more than [`MAX_READ`], the WIT's limit.
//!
//! The buffering is written against [`Object`], which [`HostObject`] implements over the
//! import and a `Vec<u8>` implements for native tests. A file parser's bindings map the
//! import to this module's re-export so that only one copy of it is generated:
//! `"ferry:plugin/object@0.2.0": ferry_guest::object`.

use std::io::{self, Read, Seek, SeekFrom};

pub use crate::bindings::ferry::plugin::object::{read, size};
use crate::types::Error;

/// What the WIT lets one `read` ask for: 64 MiB.
pub const MAX_READ: u64 = 64 << 20;

/// What [`ObjectFile`] reads ahead of the position by default: 1 MiB.
pub const DEFAULT_READ_AHEAD: u64 = 1 << 20;

/// An object read at offsets: the `object` import, or bytes in memory.
pub trait Object {
    /// Its size in bytes.
    fn size(&self) -> u64;

    /// Up to `len` bytes from `offset` (fewer only at the end).
    fn read(&self, offset: u64, len: u64) -> Result<Vec<u8>, Error>;
}

/// The object the host hands this file parser, through the `object` import.
#[derive(Debug, Clone, Copy, Default)]
pub struct HostObject;

impl Object for HostObject {
    fn size(&self) -> u64 {
        size()
    }

    fn read(&self, offset: u64, len: u64) -> Result<Vec<u8>, Error> {
        read(offset, len)
    }
}

impl Object for Vec<u8> {
    fn size(&self) -> u64 {
        self.len() as u64
    }

    fn read(&self, offset: u64, len: u64) -> Result<Vec<u8>, Error> {
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.len());
        let end = start.saturating_add(usize::try_from(len).unwrap_or(usize::MAX));
        Ok(self[start..end.min(self.len())].to_vec())
    }
}

/// `Read + Seek` over an [`Object`], with a read-ahead buffer. Its size is asked once, when
/// it is made.
#[derive(Debug)]
pub struct ObjectFile<O = HostObject> {
    object: O,
    size: u64,
    position: u64,
    /// Bytes of the object from `buffer_start` on.
    buffer: Vec<u8>,
    buffer_start: u64,
    read_ahead: u64,
}

impl ObjectFile<HostObject> {
    /// The object this file parser was opened on.
    pub fn open() -> Self {
        ObjectFile::new(HostObject)
    }
}

impl<O: Object> ObjectFile<O> {
    pub fn new(object: O) -> Self {
        let size = object.size();
        ObjectFile {
            object,
            size,
            position: 0,
            buffer: Vec::new(),
            buffer_start: 0,
            read_ahead: DEFAULT_READ_AHEAD,
        }
    }

    /// Reads at least `bytes` at a time (1 to [`MAX_READ`]).
    pub fn with_read_ahead(mut self, bytes: u64) -> Self {
        self.read_ahead = bytes.clamp(1, MAX_READ);
        self
    }

    /// The object's size, as asked once.
    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn position(&self) -> u64 {
        self.position
    }

    /// The object itself, for reads that bypass the buffer (a Parquet reader's ranges).
    pub fn object(&self) -> &O {
        &self.object
    }

    /// The buffered bytes from the position on, if the position is inside the buffer.
    fn buffered(&self) -> &[u8] {
        let buffer_end = self.buffer_start + self.buffer.len() as u64;
        if (self.buffer_start..buffer_end).contains(&self.position) {
            &self.buffer[(self.position - self.buffer_start) as usize..]
        } else {
            &[]
        }
    }

    /// Fills the buffer from the position with at least `wanted` bytes (as far as the object
    /// and [`MAX_READ`] allow).
    fn fill(&mut self, wanted: u64) -> io::Result<()> {
        let left = self.size - self.position;
        let len = wanted.max(self.read_ahead).min(MAX_READ).min(left);
        let bytes = self
            .object
            .read(self.position, len)
            .map_err(|e| io::Error::other(ObjectError(e)))?;
        if bytes.is_empty() || bytes.len() as u64 > len {
            let message = format!(
                "the host answered a read of {len} bytes at {} of {} with {}",
                self.position,
                self.size,
                bytes.len()
            );
            return Err(io::Error::other(ObjectError(crate::error(
                "bad_read", message,
            ))));
        }
        self.buffer = bytes;
        self.buffer_start = self.position;
        Ok(())
    }
}

impl<O: Object> Read for ObjectFile<O> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() || self.position >= self.size {
            return Ok(0);
        }
        if self.buffered().is_empty() {
            self.fill(out.len() as u64)?;
        }
        let buffered = self.buffered();
        let n = buffered.len().min(out.len());
        out[..n].copy_from_slice(&buffered[..n]);
        self.position += n as u64;
        Ok(n)
    }
}

impl<O: Object> Seek for ObjectFile<O> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(offset) => Some(offset),
            SeekFrom::End(delta) => self.size.checked_add_signed(delta),
            SeekFrom::Current(delta) => self.position.checked_add_signed(delta),
        };
        let Some(target) = target else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek to before the start of the object",
            ));
        };
        self.position = target;
        Ok(target)
    }
}

/// A WIT error from the `object` import, carried through `std::io` by [`ObjectFile`].
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectError(pub Error);

impl std::fmt::Display for ObjectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.0.message, self.0.code)
    }
}

impl std::error::Error for ObjectError {}

/// The WIT error behind an I/O error from an [`ObjectFile`] (the host's own, with its code),
/// or an `io` error with its message when a reader failed on its own.
pub fn into_error(e: io::Error) -> Error {
    if e.get_ref().is_some_and(|inner| inner.is::<ObjectError>()) {
        let inner = e.into_inner().expect("checked above");
        return inner
            .downcast::<ObjectError>()
            .map(|object| object.0)
            .expect("checked above");
    }
    crate::error("io", e.to_string())
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    /// Bytes in memory that record every read asked of them.
    struct Recorded {
        bytes: Vec<u8>,
        reads: RefCell<Vec<(u64, u64)>>,
        sizes: RefCell<usize>,
    }

    impl Recorded {
        fn new(len: usize) -> Self {
            Recorded {
                bytes: (0..len).map(|i| (i % 251) as u8).collect(),
                reads: RefCell::default(),
                sizes: RefCell::default(),
            }
        }
    }

    impl Object for &Recorded {
        fn size(&self) -> u64 {
            *self.sizes.borrow_mut() += 1;
            self.bytes.size()
        }

        fn read(&self, offset: u64, len: u64) -> Result<Vec<u8>, Error> {
            self.reads.borrow_mut().push((offset, len));
            self.bytes.read(offset, len)
        }
    }

    #[test]
    fn small_reads_share_one_read_ahead() {
        let object = Recorded::new(3 << 20);
        let mut file = ObjectFile::new(&object);
        let mut header = [0u8; 4];
        for _ in 0..100 {
            file.read_exact(&mut header).unwrap();
        }
        assert_eq!(header, [145, 146, 147, 148], "bytes 396..400, mod 251");
        assert_eq!(*object.reads.borrow(), [(0, DEFAULT_READ_AHEAD)]);
        file.seek(SeekFrom::Start(10)).unwrap();
        file.read_exact(&mut header).unwrap();
        assert_eq!(header, [10, 11, 12, 13]);
        assert_eq!(
            object.reads.borrow().len(),
            1,
            "a seek inside the buffer reads nothing"
        );
        assert_eq!(*object.sizes.borrow(), 1, "the size is asked once");
    }

    #[test]
    fn the_footer_is_one_read_at_the_end() {
        let object = Recorded::new(5000);
        let mut file = ObjectFile::new(&object).with_read_ahead(1024);
        file.seek(SeekFrom::End(-10)).unwrap();
        let mut tail = Vec::new();
        file.read_to_end(&mut tail).unwrap();
        assert_eq!(tail, object.bytes[4990..]);
        assert_eq!(*object.reads.borrow(), [(4990, 10)], "no read past the end");
        let mut more = [0u8; 8];
        assert_eq!(file.read(&mut more).unwrap(), 0, "at the end");
        file.seek(SeekFrom::Start(9000)).unwrap();
        assert_eq!(file.read(&mut more).unwrap(), 0, "past the end");
    }

    /// An object of zeros, too big to hold, that records the length of every read.
    struct Zeros(u64, RefCell<Vec<u64>>);

    impl Object for Zeros {
        fn size(&self) -> u64 {
            self.0
        }

        fn read(&self, offset: u64, len: u64) -> Result<Vec<u8>, Error> {
            self.1.borrow_mut().push(len);
            Ok(vec![0; len.min(self.0 - offset) as usize])
        }
    }

    #[test]
    fn no_call_asks_for_more_than_the_wit_allows() {
        let mut file = ObjectFile::new(Zeros(3 * MAX_READ, RefCell::default()));
        let mut big = vec![1u8; (MAX_READ + 1) as usize];
        assert_eq!(
            file.read(&mut big).unwrap() as u64,
            MAX_READ,
            "one call, one limit"
        );
        let mut file =
            ObjectFile::new(Zeros(3 * MAX_READ, RefCell::default())).with_read_ahead(u64::MAX);
        file.read_exact(&mut [0; 1]).unwrap();
        file.seek(SeekFrom::End(-1)).unwrap();
        file.read_exact(&mut [0; 1]).unwrap();
        assert_eq!(*file.object().1.borrow(), [MAX_READ, 1]);
    }

    #[test]
    fn seeks_before_the_start_are_refused() {
        let mut file = ObjectFile::new(vec![1, 2, 3]);
        assert_eq!(file.seek(SeekFrom::End(-3)).unwrap(), 0);
        assert!(file.seek(SeekFrom::Current(-1)).is_err());
        assert!(file.seek(SeekFrom::End(-4)).is_err());
        assert_eq!(file.seek(SeekFrom::Current(2)).unwrap(), 2);
        let mut byte = [0];
        file.read_exact(&mut byte).unwrap();
        assert_eq!(byte, [3]);
    }

    /// Fails every read with the host's error, or answers nothing.
    struct Failing(Option<Error>);

    impl Object for Failing {
        fn size(&self) -> u64 {
            10
        }

        fn read(&self, _offset: u64, _len: u64) -> Result<Vec<u8>, Error> {
            match &self.0 {
                Some(e) => Err(e.clone()),
                None => Ok(Vec::new()),
            }
        }
    }

    #[test]
    fn host_errors_come_back_with_their_code() {
        let host = crate::error("truncated_gzip", "the object ends inside a gzip member");
        let mut file = ObjectFile::new(Failing(Some(host.clone())));
        let e = file.read(&mut [0; 4]).unwrap_err();
        assert_eq!(into_error(e), host);
        let mut silent = ObjectFile::new(Failing(None));
        let e = into_error(silent.read(&mut [0; 4]).unwrap_err());
        assert_eq!(e.code, "bad_read");
        assert_eq!(
            e.message,
            "the host answered a read of 10 bytes at 0 of 10 with 0"
        );
        let other = into_error(io::Error::new(io::ErrorKind::InvalidData, "bad magic"));
        assert_eq!(
            (other.code.as_str(), other.message.as_str()),
            ("io", "bad magic")
        );
    }
}
