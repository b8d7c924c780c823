//! `test-misbehave`: a parser that misbehaves on request, so the host's tests can show that
//! the sandbox holds — each of these fails its own file and nothing else.
//!
//! Setting `mode`:
//! - `loop`: spins forever inside `push` (the time limit must stop it);
//! - `trap`: panics inside `push`;
//! - `oom`: allocates and writes memory inside `push` until the allocator fails;
//! - `open`: reads the file at setting `path`, which a parser must not be able to do, and fails
//!   with `open_failed` and the OS error (a success returns its text as column `content`);
//! - `slow`: busy-waits setting `ms` milliseconds (default 100) in every `push`, then acts
//!   like `ok`;
//! - `ok` (default): one batch at `finish`, column `n` (int64) holding each chunk's size.

use std::time::{Duration, Instant};

use ferry_guest::types::{Batch, Error};
use ferry_guest::{ColumnBuilder, Kind, Output, Settings, StateCell, batch, error};

wit_bindgen::generate!({
    world: "parser-plugin",
    path: "../../wit",
    with: {
        "ferry:plugin/types@0.1.0": ferry_guest::types,
        "ferry:plugin/host@0.1.0": ferry_guest::host,
        "ferry:plugin/parser@0.1.0/output": ferry_guest::Output,
    },
});

use exports::ferry::plugin::parser::{Guest, GuestDecoder};

enum Mode {
    Loop,
    Trap,
    Oom,
    Open(String),
    Slow(Duration),
    Ok,
}

const MODES: &str = "loop, trap, oom, open, slow, ok";

fn mode() -> Result<Mode, Error> {
    let settings = Settings::load(&["mode", "path", "ms"])?;
    Ok(match settings.string("mode").unwrap_or("ok") {
        "loop" => Mode::Loop,
        "trap" => Mode::Trap,
        "oom" => Mode::Oom,
        "open" => {
            let path = settings
                .string("path")
                .ok_or_else(|| error("invalid_setting", "mode `open` needs setting `path`"))?;
            Mode::Open(path.to_owned())
        }
        "slow" => Mode::Slow(Duration::from_millis(
            settings.usize("ms")?.unwrap_or(100) as u64
        )),
        "ok" => Mode::Ok,
        other => {
            return Err(error(
                "invalid_setting",
                format!("setting `mode` = `{other}`: expected one of {MODES}"),
            ));
        }
    })
}

struct Misbehave {
    mode: Mode,
    /// Size of every chunk pushed, for `ok` and `slow`.
    sizes: Vec<i64>,
}

impl Misbehave {
    fn push(&mut self, chunk: &[u8]) -> Result<Vec<Batch>, Error> {
        match &self.mode {
            Mode::Loop => spin_forever(),
            Mode::Trap => panic!(
                "test-misbehave panics on purpose (mode `trap`, {} bytes pushed)",
                chunk.len()
            ),
            Mode::Oom => exhaust_memory(),
            Mode::Open(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| error("open_failed", format!("{path}: {e}")))?;
                let mut content = ColumnBuilder::new("content", Kind::Utf8);
                content.push_str(&text);
                Ok(vec![batch(vec![1], vec![content.finish()])])
            }
            Mode::Slow(wait) => {
                busy_wait(*wait);
                self.sizes.push(chunk.len() as i64);
                Ok(Vec::new())
            }
            Mode::Ok => {
                self.sizes.push(chunk.len() as i64);
                Ok(Vec::new())
            }
        }
    }

    fn finish(&mut self) -> Vec<Batch> {
        if self.sizes.is_empty() {
            return Vec::new();
        }
        let mut n = ColumnBuilder::with_capacity("n", Kind::Int64, self.sizes.len());
        for size in self.sizes.drain(..) {
            n.push_i64(size);
        }
        let rows = (1..=n.len() as u64).collect();
        vec![batch(rows, vec![n.finish()])]
    }
}

fn spin_forever() -> ! {
    let mut n = 0u64;
    loop {
        // Opaque to the optimizer, so the loop stays a loop.
        n = std::hint::black_box(n.wrapping_add(1));
    }
}

fn exhaust_memory() -> ! {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        // Written, not just reserved, so every page is really committed.
        hoard.push(vec![0xA5; 1 << 20]);
        std::hint::black_box(&mut hoard);
    }
}

/// Burns CPU rather than sleeping, as a slow parser would.
fn busy_wait(duration: Duration) {
    let start = Instant::now();
    while start.elapsed() < duration {
        std::hint::spin_loop();
    }
}

struct Decoder(StateCell<Misbehave>);

impl GuestDecoder for Decoder {
    fn new(_object_key: String) -> Self {
        Decoder(StateCell::new(mode().map(|mode| Misbehave {
            mode,
            sizes: Vec::new(),
        })))
    }

    fn push(&self, chunk: Vec<u8>) -> Result<Output, Error> {
        let batches = self.0.with(|state| state.push(&chunk))?;
        Ok(Output {
            batches,
            diagnostics: Vec::new(),
        })
    }

    fn finish(&self) -> Result<Output, Error> {
        let batches = self.0.with(|state| Ok(state.finish()))?;
        Ok(Output {
            batches,
            diagnostics: Vec::new(),
        })
    }
}

struct TestMisbehave;

impl Guest for TestMisbehave {
    type Decoder = Decoder;
}

export!(TestMisbehave);

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_guest::types::ColumnValues;

    #[test]
    fn ok_counts_the_bytes_of_every_chunk() {
        let mut state = Misbehave {
            mode: Mode::Ok,
            sizes: Vec::new(),
        };
        state.push(b"abc").unwrap();
        state.push(b"").unwrap();
        state.push(b"hello").unwrap();
        let batches = state.finish();
        assert_eq!(batches[0].row_numbers, [1, 2, 3]);
        assert_eq!(batches[0].columns[0].name, "n");
        assert_eq!(
            batches[0].columns[0].values,
            ColumnValues::Int64(vec![3, 0, 5])
        );
        assert!(state.finish().is_empty());
    }

    #[test]
    fn slow_waits_then_counts() {
        let mut state = Misbehave {
            mode: Mode::Slow(Duration::from_millis(30)),
            sizes: Vec::new(),
        };
        let start = Instant::now();
        state.push(b"xy").unwrap();
        assert!(start.elapsed() >= Duration::from_millis(30));
        assert_eq!(
            state.finish()[0].columns[0].values,
            ColumnValues::Int64(vec![2])
        );
    }

    #[test]
    fn open_reports_the_path_and_the_os_error() {
        let mut state = Misbehave {
            mode: Mode::Open("/no/such/ferry/file".into()),
            sizes: Vec::new(),
        };
        let err = state.push(b"x").unwrap_err();
        assert_eq!(err.code, "open_failed");
        assert!(
            err.message.starts_with("/no/such/ferry/file: "),
            "{}",
            err.message
        );
    }
}
