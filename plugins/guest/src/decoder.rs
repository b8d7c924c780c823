//! What every streaming parser's `decoder` resource does around its format: it is opened with
//! the step's settings already checked (the WIT's `open` fails on a bad one, before any byte),
//! takes chunks in order, and finishes once. [`Decode`] is the format's part, free of WIT
//! calls so it is tested natively; [`DecoderState`] is the resource's, shared by every parser:
//! a failed call fails every later one, and nothing is decoded after `finish`.

use crate::state::StateCell;
use crate::types::Error;
use crate::{Output, error};

/// A format's decoder of one object.
pub trait Decode {
    /// What `chunk` completes: batches that are full, diagnostics of the rows it ended.
    fn push(&mut self, chunk: &[u8]) -> Result<Output, Error>;

    /// The end of the object: the last rows, the last batch.
    fn finish(&mut self) -> Result<Output, Error>;
}

/// The code of a call after `finish`: the host's bug, but one that must not decode anything.
pub const FINISHED: &str = "decoder_finished";

/// The state of one `decoder` resource.
#[derive(Debug)]
pub struct DecoderState<D>(StateCell<D>);

impl<D: Decode> DecoderState<D> {
    pub fn new(decoder: D) -> Self {
        DecoderState(StateCell::new(decoder))
    }

    pub fn push(&self, chunk: &[u8]) -> Result<Output, Error> {
        self.0.with(|decoder| decoder.push(chunk))
    }

    pub fn finish(&self) -> Result<Output, Error> {
        let after = error(FINISHED, "the object was already finished");
        self.0.last(after, D::finish)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts the bytes pushed; a chunk starting with `!` fails.
    #[derive(Default)]
    struct Count(usize);

    impl Decode for Count {
        fn push(&mut self, chunk: &[u8]) -> Result<Output, Error> {
            if chunk.starts_with(b"!") {
                return Err(error("bad_chunk", "a chunk starts with !"));
            }
            self.0 += chunk.len();
            Ok(Output::default())
        }

        fn finish(&mut self) -> Result<Output, Error> {
            Ok(Output {
                batches: vec![crate::batch(vec![self.0 as u64], vec![])],
                diagnostics: vec![],
            })
        }
    }

    #[test]
    fn chunks_then_one_finish() {
        let d = DecoderState::new(Count::default());
        d.push(b"abc").unwrap();
        d.push(b"de").unwrap();
        assert_eq!(d.finish().unwrap().batches[0].row_numbers, [5]);
        assert_eq!(d.finish().unwrap_err().code, FINISHED);
        assert_eq!(d.push(b"x").unwrap_err().code, FINISHED);
    }

    #[test]
    fn a_failed_push_fails_the_object() {
        let d = DecoderState::new(Count::default());
        assert_eq!(d.push(b"!").unwrap_err().code, "bad_chunk");
        assert_eq!(d.push(b"fine").unwrap_err().code, "bad_chunk");
        assert_eq!(d.finish().unwrap_err().code, "bad_chunk");
    }
}
