//! `test-misbehave`: a parser that misbehaves on request, so the host's tests can prove the
//! sandbox holds. Setting `mode`: `loop`, `trap`, `oom`, `open` (reads setting `path`),
//! `slow` (busy-waits `ms` per push, then acts like `ok`), `ok` (one row per chunk: its size).

use std::cell::Cell;

use ferry_guest::types::Error;
use ferry_guest::{BatchBuilder, ColumnBuilder, Kind, Settings, error};

wit_bindgen::generate!({
    world: "parser-plugin",
    path: "../../wit",
    with: {
        "ferry:plugin/types@0.1.0": ferry_guest::types,
        "ferry:plugin/host@0.1.0": ferry_guest::host,
    },
});

use exports::ferry::plugin::parser::{Guest, GuestDecoder, Output};

struct Misbehave;

struct Decoder {
    rows: Cell<u64>,
}

fn empty() -> Output {
    Output { batches: Vec::new(), diagnostics: Vec::new() }
}

impl GuestDecoder for Decoder {
    fn new(_object_key: String) -> Self {
        Decoder { rows: Cell::new(0) }
    }

    fn push(&self, chunk: Vec<u8>) -> Result<Output, Error> {
        let settings = Settings::check_known(&["mode", "path", "ms"])?;
        match settings.string("mode").as_deref().unwrap_or("ok") {
            "loop" => {
                let mut n = 0u64;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "trap" => panic!("misbehaving on purpose after {} bytes", chunk.len()),
            "oom" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "open" => {
                let path = settings.string("path").unwrap_or_else(|| "/etc/passwd".into());
                match std::fs::read_to_string(&path) {
                    Err(e) => Err(error("open_failed", format!("{path}: {e}"))),
                    Ok(text) => {
                        let mut column = ColumnBuilder::new("content", Kind::Utf8);
                        column.push_str(&text);
                        Ok(Output {
                            batches: vec![BatchBuilder { row_numbers: vec![1], columns: vec![column.finish()] }.finish()],
                            diagnostics: Vec::new(),
                        })
                    }
                }
            }
            "slow" | "ok" => {
                let ms = settings.usize("ms", 0)? as u128;
                let started = std::time::Instant::now();
                while started.elapsed().as_millis() < ms {
                    std::hint::spin_loop();
                }
                let row = self.rows.get() + 1;
                self.rows.set(row);
                let mut column = ColumnBuilder::new("n", Kind::Int64);
                column.push_i64(chunk.len() as i64);
                Ok(Output {
                    batches: vec![BatchBuilder { row_numbers: vec![row], columns: vec![column.finish()] }.finish()],
                    diagnostics: Vec::new(),
                })
            }
            other => Err(error("invalid_setting", format!("unknown mode `{other}`"))),
        }
    }

    fn finish(&self) -> Result<Output, Error> {
        Ok(empty())
    }
}

impl Guest for Misbehave {
    type Decoder = Decoder;
}

// Exported only for the component build; native builds run the unit tests.
#[cfg(target_arch = "wasm32")]
export!(Misbehave);
