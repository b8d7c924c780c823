//! The `object` interface: the one object a file parser is decoding, read from the host's copy
//! of it. There is no name to pass, so a parser cannot reach any other file.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::bindings::file_parser::ferry::plugin::object::Host;
use super::bindings::wit;
use super::state::PluginState;

/// The most bytes one `read` returns, so a plugin cannot make the host allocate at will.
pub const MAX_READ: u64 = 64 << 20;

/// The object open for the current `reader`.
#[derive(Debug)]
pub(crate) struct OpenObject {
    file: File,
    size: u64,
}

impl OpenObject {
    pub(crate) fn open(path: &Path) -> std::io::Result<Self> {
        let file = File::open(path)?;
        let size = file.metadata()?.len();
        Ok(OpenObject { file, size })
    }

    fn read(&self, offset: u64, len: u64) -> Result<Vec<u8>, wit::Error> {
        if len > MAX_READ {
            return Err(error(format!(
                "a read of {len} bytes is more than the {MAX_READ} one call may ask for"
            )));
        }
        let end = offset.saturating_add(len).min(self.size);
        let mut bytes = vec![0; end.saturating_sub(offset) as usize];
        self.file
            .read_exact_at(&mut bytes, offset)
            .map_err(|e| error(format!("reading {len} bytes at {offset}: {e}")))?;
        Ok(bytes)
    }
}

fn error(message: String) -> wit::Error {
    wit::Error {
        code: "object_read".into(),
        message,
        row: None,
    }
}

impl Host for PluginState {
    fn size(&mut self) -> u64 {
        self.object.as_ref().map_or(0, |o| o.size)
    }

    fn read(&mut self, offset: u64, len: u64) -> Result<Vec<u8>, wit::Error> {
        match &self.object {
            Some(object) => object.read(offset, len),
            None => Err(error("no object is open".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_stop_at_the_end_and_are_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("o");
        std::fs::write(&path, b"0123456789").unwrap();
        let object = OpenObject::open(&path).unwrap();
        assert_eq!(object.size, 10);
        assert_eq!(object.read(2, 3).unwrap(), b"234");
        assert_eq!(object.read(8, 100).unwrap(), b"89");
        assert!(object.read(20, 5).unwrap().is_empty());
        assert!(object.read(0, MAX_READ + 1).is_err());
    }
}
