//! Gzip decompression in bounded memory, with limits that stop a decompression bomb.
//!
//! Compressed bytes go into the decoder a small slice at a time, and what each slice inflates
//! to is handed on before the next is taken, so however well an object compresses, ferry holds
//! at most [`SLICE`] × deflate's largest expansion (about 1032:1) of inflated bytes. The size
//! limit and the expansion-ratio limit of the import step then fail the object
//! (`decompression_limit`) long before a bomb could fill a disk or keep a job busy for hours.

use std::io::Write;

use flate2::write::MultiGzDecoder;

use crate::store::ErrorInfo;
use crate::units::ByteSize;
use crate::workflow::DecompressionLimits;

/// Compressed bytes fed to the decoder at once.
const SLICE: usize = 4 << 10;
/// Largest object, decompressed, when the step does not say.
pub const DEFAULT_MAX_SIZE: ByteSize = ByteSize(16 << 30);
/// Largest expansion ratio when the step does not say. Text compresses 5–20×, repetitive logs
/// up to 50–100×; a file of zeros 1000×.
pub const DEFAULT_MAX_RATIO: u64 = 250;
/// The ratio is judged only once this much was inflated: small files may compress very well.
const RATIO_AFTER: u64 = 16 << 20;

/// One object's gzip stream.
pub struct Inflate {
    decoder: MultiGzDecoder<Vec<u8>>,
    max_size: u64,
    max_ratio: u64,
    compressed: u64,
    plain: u64,
}

impl Inflate {
    pub fn new(limits: &DecompressionLimits) -> Inflate {
        Inflate {
            decoder: MultiGzDecoder::new(Vec::new()),
            max_size: limits.max_size.unwrap_or(DEFAULT_MAX_SIZE).0,
            max_ratio: limits.max_ratio.unwrap_or(DEFAULT_MAX_RATIO),
            compressed: 0,
            plain: 0,
        }
    }

    /// Takes up to [`SLICE`] bytes off the front of `input` and returns what they inflated to
    /// (possibly nothing). Call until `input` is empty.
    pub fn step(&mut self, key: &str, input: &mut &[u8]) -> Result<Vec<u8>, ErrorInfo> {
        let (slice, rest) = input.split_at(input.len().min(SLICE));
        *input = rest;
        self.compressed += slice.len() as u64;
        self.decoder.write_all(slice).map_err(|e| ErrorInfo {
            code: "invalid_gzip".into(),
            message: format!(
                "{key}: not a valid gzip stream near compressed byte {}: {e}",
                self.compressed
            ),
            row: None,
        })?;
        let out = std::mem::take(self.decoder.get_mut());
        self.count(key, out.len())?;
        Ok(out)
    }

    /// Checks the gzip trailer (a cut-off file is an error, not short data) and returns the
    /// last inflated bytes.
    pub fn finish(mut self, key: &str) -> Result<Vec<u8>, ErrorInfo> {
        self.decoder.try_finish().map_err(|_| ErrorInfo {
            code: "truncated_gzip".into(),
            message: format!(
                "{key}: the gzip stream ends early (after {} compressed bytes): the file is truncated",
                self.compressed
            ),
            row: None,
        })?;
        let out = std::mem::take(self.decoder.get_mut());
        self.count(key, out.len())?;
        Ok(out)
    }

    fn count(&mut self, key: &str, n: usize) -> Result<(), ErrorInfo> {
        self.plain += n as u64;
        let limit = |what: String| ErrorInfo {
            code: "decompression_limit".into(),
            message: format!(
                "{key}: {what}; the import step's `decompression` settings raise the limit"
            ),
            row: None,
        };
        if self.plain > self.max_size {
            return Err(limit(format!(
                "decompresses to more than {} (max_size)",
                ByteSize(self.max_size)
            )));
        }
        let ratio = self.plain / self.compressed.max(1);
        if self.plain > RATIO_AFTER && ratio > self.max_ratio {
            return Err(limit(format!(
                "expands {ratio}:1 ({} from {} compressed bytes), more than max_ratio = {}",
                ByteSize(self.plain),
                self.compressed,
                self.max_ratio
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    fn inflate_all(inflate: &mut Inflate, mut input: &[u8]) -> Result<(u64, usize), ErrorInfo> {
        let (mut total, mut largest) = (0u64, 0usize);
        while !input.is_empty() {
            let out = inflate.step("k", &mut input)?;
            total += out.len() as u64;
            largest = largest.max(out.len());
        }
        Ok((total, largest))
    }

    #[test]
    fn a_bomb_is_stopped_in_bounded_memory() {
        let zeros = gzip(&vec![0u8; 256 << 20]);
        let mut inflate = Inflate::new(&DecompressionLimits::default());
        let e = inflate_all(&mut inflate, &zeros).unwrap_err();
        assert_eq!(e.code, "decompression_limit");
        assert!(e.message.contains("max_ratio = 250"), "{}", e.message);
        // Nothing near the whole 256 MiB was ever held at once.
        let mut inflate = Inflate::new(&DecompressionLimits {
            max_ratio: Some(u64::MAX),
            ..Default::default()
        });
        let (total, largest) = inflate_all(&mut inflate, &zeros).unwrap();
        let rest = inflate.finish("k").unwrap();
        assert_eq!(total + rest.len() as u64, 256 << 20);
        assert!(rest.len() <= SLICE * 1100);
        assert!(largest <= SLICE * 1100, "{largest}");
    }

    #[test]
    fn size_limit_and_ordinary_files() {
        let text: Vec<u8> = (0..200_000)
            .flat_map(|i| format!("{i},row\n").into_bytes())
            .collect();
        let gz = gzip(&text);
        let mut inflate = Inflate::new(&DecompressionLimits::default());
        let total = inflate_all(&mut inflate, &gz).unwrap().0;
        let rest = inflate.finish("k").unwrap();
        assert_eq!(total + rest.len() as u64, text.len() as u64);
        let mut small = Inflate::new(&DecompressionLimits {
            max_size: Some(ByteSize(1000)),
            ..Default::default()
        });
        let e = inflate_all(&mut small, &gz).unwrap_err();
        assert!(
            e.message.contains("more than 1000") || e.message.contains("max_size"),
            "{}",
            e.message
        );
        let truncated = &gz[..gz.len() - 4];
        let mut cut = Inflate::new(&DecompressionLimits::default());
        inflate_all(&mut cut, truncated).unwrap();
        assert_eq!(cut.finish("k").unwrap_err().code, "truncated_gzip");
    }
}
