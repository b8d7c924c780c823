//! What went wrong reading an Avro file, as a WIT error with a stable code naming the object
//! and, past the header, the first record that was not decoded.

use std::error::Error as _;
use std::io::{self, ErrorKind};

use apache_avro::error::Details;
use arrow_schema::ArrowError;
use ferry_guest::arrow_batch::UNSUPPORTED_TYPE;
use ferry_guest::object::ObjectError;
use ferry_guest::types::Error;

use crate::arrays::Mismatch;
use crate::shape::Refusal;

/// Not an Avro object container file, or one whose blocks do not decode.
pub const INVALID_AVRO: &str = "invalid_avro";
/// The file ends inside its header or a block.
pub const TRUNCATED_FILE: &str = "truncated_file";
/// Blocks compressed with a codec this build does not decode.
pub const UNSUPPORTED_CODEC: &str = "unsupported_codec";

/// The codecs this build decodes, for the message that refuses another.
const CODECS: &str = if cfg!(feature = "zstandard") {
    "null, deflate, snappy, bzip2, zstandard"
} else {
    "null, deflate, snappy, bzip2"
};

/// A failure reading the header: the magic, the metadata, the schema, the codec.
pub fn header(error: apache_avro::Error, key: &str) -> Error {
    if let Some(error) = from_io(&error, key, None) {
        return error;
    }
    let (code, message) = match error.details() {
        Details::HeaderMagic => (
            INVALID_AVRO,
            "not an Avro object container file: it does not start with `Obj\\x01`".to_owned(),
        ),
        Details::CodecNotSupported(codec) => (
            UNSUPPORTED_CODEC,
            format!(
                "its blocks are compressed with {codec}, which this build of parser-avro does \
                 not decode (it decodes {CODECS})"
            ),
        ),
        _ => (INVALID_AVRO, format!("bad header: {error}")),
    };
    wit(code, format!("{key}: {message}"), None)
}

/// A failure reading the block that holds record `row` (1-based), the first not decoded.
pub fn block(error: apache_avro::Error, key: &str, row: u64) -> Error {
    if let Some(error) = from_io(&error, key, Some(row)) {
        return error;
    }
    let message = match error.details() {
        Details::GetBlockMarker => format!(
            "the sync marker after the block holding record {row} is not the header's: the \
             file is corrupt from there on"
        ),
        _ => format!("record {row}: {error}"),
    };
    wit(INVALID_AVRO, format!("{key}: {message}"), Some(row))
}

/// A field whose schema has no column type.
pub fn refused(refusal: &Refusal, key: &str) -> Error {
    let message = if refusal.path.is_empty() {
        format!("{key}: {}", refusal.why)
    } else {
        format!("{key}: field `{}`: {}", refusal.path, refusal.why)
    };
    wit(UNSUPPORTED_TYPE, message, None)
}

/// A value that did not fit its column, at record `row`.
pub fn mismatch(mismatch: &Mismatch, key: &str, row: u64) -> Error {
    let message = format!("{key}: record {row}: {}", mismatch.why);
    wit(INVALID_AVRO, message, Some(row))
}

/// Arrow refusing a batch of records from `row` on.
pub fn arrow(error: ArrowError, key: &str, row: u64) -> Error {
    wit(
        INVALID_AVRO,
        format!("{key}: record {row}: {error}"),
        Some(row),
    )
}

/// The error for an I/O failure anywhere in `error`'s causes: the host's own (with its code)
/// or the end of the object where more was due.
fn from_io(error: &apache_avro::Error, key: &str, row: Option<u64>) -> Option<Error> {
    let mut cause = error.source();
    while let Some(e) = cause {
        if let Some(io) = e.downcast_ref::<io::Error>() {
            if let Some(object) = io.get_ref().and_then(|i| i.downcast_ref::<ObjectError>()) {
                return Some(Error {
                    row,
                    ..object.0.clone()
                });
            }
            if io.kind() == ErrorKind::UnexpectedEof {
                let at =
                    row.map_or_else(|| "in its header".to_owned(), |r| format!("at record {r}"));
                let message = format!("{key}: the file is cut short {at}: {error}");
                return Some(wit(TRUNCATED_FILE, message, row));
            }
        }
        cause = e.source();
    }
    None
}

fn wit(code: &str, message: String, row: Option<u64>) -> Error {
    Error {
        code: code.to_owned(),
        message,
        row,
    }
}
