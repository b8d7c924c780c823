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
//!
//! A bad setting fails `open`, as in every parser.

use std::time::{Duration, Instant};

use ferry_guest::about::Setting;
use ferry_guest::types::{Batch, Description, Error, SettingType};
use ferry_guest::{ColumnBuilder, Decode, DecoderState, Kind, Output, Settings, batch, error};

wit_bindgen::generate!({
    world: "parser-plugin",
    path: "../../wit",
    with: {
        "ferry:plugin/types@0.2.0": ferry_guest::types,
        "ferry:plugin/host@0.2.0": ferry_guest::host,
    },
});

use exports::ferry::plugin::{about, parser};

/// Every setting the plugin takes.
const SETTINGS: &[Setting] = &[
    Setting::with_default(
        "mode",
        SettingType::String,
        "ok",
        "how to misbehave: loop, trap, oom, open, slow or ok",
    ),
    Setting::optional("path", SettingType::String, "the file mode `open` reads"),
    Setting::with_default(
        "ms",
        SettingType::Integer,
        "100",
        "milliseconds mode `slow` busy-waits in every push",
    ),
];

#[derive(Debug)]
enum Mode {
    Loop,
    Trap,
    Oom,
    Open(String),
    Slow(Duration),
    Ok,
}

const MODES: &str = "loop, trap, oom, open, slow, ok";

fn mode(settings: &Settings) -> Result<Mode, Error> {
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
    fn new(mode: Mode) -> Self {
        Misbehave {
            mode,
            sizes: Vec::new(),
        }
    }

    fn batches(&mut self, chunk: &[u8]) -> Result<Vec<Batch>, Error> {
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

    fn last_batches(&mut self) -> Vec<Batch> {
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

impl Decode for Misbehave {
    fn push(&mut self, chunk: &[u8]) -> Result<Output, Error> {
        Ok(Output {
            batches: self.batches(chunk)?,
            diagnostics: Vec::new(),
        })
    }

    fn finish(&mut self) -> Result<Output, Error> {
        Ok(Output {
            batches: self.last_batches(),
            diagnostics: Vec::new(),
        })
    }
}

/// The `decoder` resource.
struct Decoder(DecoderState<Misbehave>);

impl parser::GuestDecoder for Decoder {
    fn open(_object_key: String) -> Result<parser::Decoder, Error> {
        let mode = mode(&Settings::load(SETTINGS)?)?;
        Ok(parser::Decoder::new(Decoder(DecoderState::new(
            Misbehave::new(mode),
        ))))
    }

    fn push(&self, chunk: Vec<u8>) -> Result<Output, Error> {
        self.0.push(&chunk)
    }

    fn finish(&self) -> Result<Output, Error> {
        self.0.finish()
    }
}

struct TestMisbehave;

impl about::Guest for TestMisbehave {
    fn describe() -> Description {
        ferry_guest::describe!(
            Parser,
            "a parser that misbehaves on request, for the host's sandbox tests",
            SETTINGS
        )
    }
}

impl parser::Guest for TestMisbehave {
    type Decoder = Decoder;
}

export!(TestMisbehave);

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_guest::types::ColumnValues;

    #[test]
    fn ok_counts_the_bytes_of_every_chunk() {
        let mut state = Misbehave::new(Mode::Ok);
        state.batches(b"abc").unwrap();
        state.batches(b"").unwrap();
        state.batches(b"hello").unwrap();
        let batches = state.last_batches();
        assert_eq!(batches[0].row_numbers, [1, 2, 3]);
        assert_eq!(batches[0].columns[0].name, "n");
        assert_eq!(
            batches[0].columns[0].values,
            ColumnValues::Int64(vec![3, 0, 5])
        );
        assert!(state.last_batches().is_empty());
    }

    #[test]
    fn slow_waits_then_counts() {
        let mut state = Misbehave::new(Mode::Slow(Duration::from_millis(30)));
        let start = Instant::now();
        state.batches(b"xy").unwrap();
        assert!(start.elapsed() >= Duration::from_millis(30));
        assert_eq!(
            state.last_batches()[0].columns[0].values,
            ColumnValues::Int64(vec![2])
        );
    }

    #[test]
    fn open_reports_the_path_and_the_os_error() {
        let mut state = Misbehave::new(Mode::Open("/no/such/ferry/file".into()));
        let err = state.batches(b"x").unwrap_err();
        assert_eq!(err.code, "open_failed");
        assert!(
            err.message.starts_with("/no/such/ferry/file: "),
            "{}",
            err.message
        );
    }

    #[test]
    fn the_settings_table_is_what_the_mode_reads() {
        ferry_guest::testing::check_settings(SETTINGS, &[], mode);
    }

    #[test]
    fn bad_modes_fail_the_open() {
        let mode = |pairs| Settings::from_pairs(SETTINGS, pairs).and_then(|s| mode(&s));
        assert_eq!(
            mode(&[("mode", "open")]).unwrap_err().message,
            "mode `open` needs setting `path`"
        );
        assert_eq!(
            mode(&[("mode", "nap")]).unwrap_err().message,
            "setting `mode` = `nap`: expected one of loop, trap, oom, open, slow, ok"
        );
        assert!(matches!(
            mode(&[("mode", "slow"), ("ms", "5")]),
            Ok(Mode::Slow(d)) if d == Duration::from_millis(5)
        ));
    }
}
