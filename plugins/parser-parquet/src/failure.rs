//! What went wrong reading a Parquet file, as a WIT error with a stable code, and where: in
//! the footer or in which row group.

use arrow_schema::ArrowError;
use ferry_guest::object::{self, ObjectError};
use ferry_guest::types::Error;
use parquet::errors::ParquetError;

/// Not a Parquet file, or one whose footer or pages do not decode.
pub const INVALID_PARQUET: &str = "invalid_parquet";
/// The file ends before what its own structure says is there.
pub const TRUNCATED_FILE: &str = "truncated_file";
/// Pages compressed with a codec this build does not decode.
pub const UNSUPPORTED_CODEC: &str = "unsupported_codec";
/// Parquet that is valid but uses a feature parquet-rs does not implement.
pub const UNSUPPORTED_PARQUET: &str = "unsupported_parquet";

/// The codecs this build decodes, for the message that refuses another.
const CODECS: &str = if cfg!(feature = "zstd") {
    "uncompressed, snappy, gzip, lz4, zstd"
} else {
    "uncompressed, snappy, gzip, lz4"
};

/// A failure not yet tied to its object.
#[derive(Debug)]
pub struct Failure {
    code: String,
    message: String,
    place: Place,
}

#[derive(Debug, Clone, Copy)]
enum Place {
    /// Before any row group: the magic or the footer.
    Footer,
    RowGroup(usize),
}

impl Failure {
    pub fn not_parquet(why: impl Into<String>) -> Self {
        Failure::new(
            INVALID_PARQUET,
            format!("not a Parquet file: {}", why.into()),
        )
    }

    pub fn truncated(why: impl Into<String>) -> Self {
        Failure::new(
            TRUNCATED_FILE,
            format!("the file is cut short: {}", why.into()),
        )
    }

    fn new(code: &str, message: String) -> Self {
        Failure {
            code: code.to_owned(),
            message,
            place: Place::Footer,
        }
    }

    /// The failure as met while parsing the footer. The magic checks have found the file
    /// whole by then, so a truncation there is a footer that points past its own end.
    pub fn in_footer(mut self) -> Self {
        if self.code == TRUNCATED_FILE || self.code == INVALID_PARQUET {
            self.code = INVALID_PARQUET.to_owned();
            self.message = format!("corrupt footer: {}", self.message);
        }
        self.place = Place::Footer;
        self
    }

    pub fn in_row_group(mut self, index: usize) -> Self {
        self.place = Place::RowGroup(index);
        self
    }

    /// The WIT error for object `key`, stopped at 1-based row `row` when known.
    pub fn error(self, key: &str, row: Option<u64>) -> Error {
        let message = match self.place {
            Place::Footer => format!("{key}: {}", self.message),
            Place::RowGroup(index) => format!("{key}: row group {index}: {}", self.message),
        };
        Error {
            code: self.code,
            message,
            row,
        }
    }
}

impl From<ParquetError> for Failure {
    fn from(error: ParquetError) -> Self {
        let (code, message) = match error {
            ParquetError::EOF(m) => (TRUNCATED_FILE, m),
            ParquetError::NeedMoreData(_) | ParquetError::NeedMoreDataRange(_) => {
                (TRUNCATED_FILE, error.to_string())
            }
            ParquetError::General(m) => {
                match m.strip_prefix("Disabled feature at compile time: ") {
                    Some(feature) => (
                        UNSUPPORTED_CODEC,
                        format!(
                            "its pages are compressed with {}, which this build of parser-parquet \
                         does not decode (it decodes {CODECS})",
                            codec_name(feature)
                        ),
                    ),
                    None => (INVALID_PARQUET, m),
                }
            }
            ParquetError::NYI(m) if m.starts_with("The codec type") => (UNSUPPORTED_CODEC, m),
            ParquetError::NYI(m) => (UNSUPPORTED_PARQUET, m),
            // The object's own read errors, through `get_bytes` or an `ObjectFile`.
            ParquetError::External(e) => match e.downcast::<ObjectError>() {
                Ok(object) => return Failure::from_object(object.0),
                Err(e) => match e.downcast::<std::io::Error>() {
                    Ok(io) => return Failure::from_object(object::into_error(*io)),
                    Err(e) => (INVALID_PARQUET, e.to_string()),
                },
            },
            other => (INVALID_PARQUET, other.to_string()),
        };
        Failure::new(code, message)
    }
}

/// What the record batch reader returns: parquet-rs's own errors flattened to their text
/// (`EOF: …`, `Parquet error: …`), which this takes apart again to keep their kind.
impl From<ArrowError> for Failure {
    fn from(error: ArrowError) -> Self {
        match error {
            ArrowError::ParquetError(text) => {
                let parquet = if let Some(m) = text.strip_prefix("EOF: ") {
                    ParquetError::EOF(m.to_owned())
                } else if let Some(m) = text.strip_prefix("NYI: ") {
                    ParquetError::NYI(m.to_owned())
                } else if let Some(m) = text.strip_prefix("Parquet error: ") {
                    ParquetError::General(m.to_owned())
                } else {
                    ParquetError::General(text)
                };
                Failure::from(parquet)
            }
            ArrowError::ExternalError(e) => match e.downcast::<ParquetError>() {
                Ok(parquet) => Failure::from(*parquet),
                Err(e) => Failure::new(INVALID_PARQUET, e.to_string()),
            },
            other => Failure::new(INVALID_PARQUET, other.to_string()),
        }
    }
}

impl Failure {
    /// The `object` import's own error, kept with its code.
    fn from_object(error: Error) -> Self {
        Failure {
            code: error.code,
            message: error.message,
            place: Place::Footer,
        }
    }
}

/// The codec a parquet-rs feature name stands for.
fn codec_name(feature: &str) -> &str {
    match feature {
        "flate2" => "gzip",
        "snap" => "snappy",
        other => other,
    }
}
