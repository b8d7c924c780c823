//! What went wrong reading Arrow IPC, as a WIT error with a stable code, and where: in the
//! schema (a file's footer) or in which record batch.

use std::io::ErrorKind;

use arrow_schema::ArrowError;
use ferry_guest::object::{self, ObjectError};
use ferry_guest::types::Error;

/// Not Arrow IPC, or messages that do not decode.
pub const INVALID_ARROW: &str = "invalid_arrow";
/// The object ends inside a message.
pub const TRUNCATED_FILE: &str = "truncated_file";
/// Buffers compressed with a codec this build does not decode.
pub const UNSUPPORTED_CODEC: &str = "unsupported_codec";

/// Where the reading stopped.
#[derive(Debug, Clone, Copy)]
pub enum Place {
    /// Opening: the schema message, or a file's magic and footer.
    Schema,
    /// Reading record batch `index` (0-based), whose first row is `first_row` (1-based).
    Batch {
        index: usize,
        first_row: u64,
        format: &'static str,
    },
}

/// An object that starts with neither the file magic nor a stream's first message.
pub fn not_arrow(key: &str) -> Error {
    let message = format!(
        "{key}: not Arrow IPC: it starts with neither the file magic `ARROW1` nor a stream's \
         continuation marker"
    );
    Error {
        code: INVALID_ARROW.to_owned(),
        message,
        row: None,
    }
}

/// A file whose magic is at its start but not at its end.
pub fn truncated_file(key: &str) -> Error {
    let message = format!(
        "{key}: cut short: it starts like an Arrow IPC file but does not end with its footer's \
         magic `ARROW1`"
    );
    Error {
        code: TRUNCATED_FILE.to_owned(),
        message,
        row: None,
    }
}

/// The WIT error for `error`, met at `place` in object `key`.
pub fn error(error: ArrowError, key: &str, place: Place) -> Error {
    let (code, message) = match error {
        ArrowError::IoError(message, io) => {
            if io.get_ref().is_some_and(|inner| inner.is::<ObjectError>()) {
                let host = object::into_error(io);
                (host.code, host.message)
            } else if io.kind() == ErrorKind::UnexpectedEof {
                (TRUNCATED_FILE.to_owned(), format!("cut short: {message}"))
            } else {
                (INVALID_ARROW.to_owned(), message)
            }
        }
        ArrowError::InvalidArgumentError(m) | ArrowError::ParseError(m)
            if m.contains("requires the") && m.contains("feature") =>
        {
            (UNSUPPORTED_CODEC.to_owned(), unsupported_codec(&m))
        }
        // A message whose length says more than the object holds. Both formats were told
        // by their magic, so this is a cut, not another format.
        ArrowError::ParseError(m) if m.starts_with("Unexpected end of stream") => {
            (TRUNCATED_FILE.to_owned(), format!("cut short: {m}"))
        }
        other => (INVALID_ARROW.to_owned(), other.to_string()),
    };
    let (message, row) = match place {
        Place::Schema => (format!("{key}: {message}"), None),
        Place::Batch {
            index,
            first_row,
            format,
        } => (
            format!("{key}: {format}, record batch {index}: {message}"),
            Some(first_row),
        ),
    };
    Error { code, message, row }
}

/// arrow-ipc's "zstd IPC decompression requires the zstd feature", said for a user.
fn unsupported_codec(message: &str) -> String {
    let codec = message.split_whitespace().next().unwrap_or("its codec");
    let built = if cfg!(feature = "zstd") {
        "lz4, zstd"
    } else {
        "lz4"
    };
    format!(
        "its buffers are compressed with {codec}, which this build of parser-arrow does not \
         decode (it decodes uncompressed and {built})"
    )
}
