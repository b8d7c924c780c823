"""Writes the Arrow IPC fixtures of parser-arrow's tests with an independent writer.

    python3 -m venv /tmp/pq && /tmp/pq/bin/pip install pyarrow==26.0.1
    /tmp/pq/bin/python make.py

The table leans on the Arrow types the WIT has no variant for, which the parser casts (large
and view strings, large lists, dictionaries, narrow and unsigned integers), beside nested and
temporal ones. Ten rows in record batches of four (4 + 4 + 2). `types.json` holds the values
as the tests read the batches back: timestamps as counts of their unit, decimals as
fixed-point text, binary as hex.
"""

import datetime
import decimal
import json
import pathlib

import pyarrow as pa
import pyarrow.ipc as ipc

HERE = pathlib.Path(__file__).parent
ROWS = 10
BATCH = 4

schema = pa.schema(
    [
        ("id", pa.int64()),
        ("small", pa.int8()),
        ("count", pa.uint32()),
        ("name", pa.large_string()),
        ("note", pa.string_view()),
        ("raw", pa.large_binary()),
        ("label", pa.dictionary(pa.int8(), pa.string())),
        ("series", pa.large_list(pa.int64())),
        ("emb", pa.list_(pa.float32(), 4)),
        ("meta", pa.struct([("ok", pa.bool_()), ("tag", pa.dictionary(pa.int16(), pa.large_string()))])),
        ("at", pa.timestamp("ns", tz="Europe/Paris")),
        ("day", pa.date32()),
        ("amount", pa.decimal128(38, 9)),
    ]
)


def rows():
    for i in range(ROWS):
        yield {
            "id": i + 1,
            "small": None if i == 2 else i - 5,
            "count": 4_000_000_000 + i,
            "name": None if i == 4 else "é" * i,
            "note": f"note {i}",
            "raw": None if i == 1 else bytes(range(i)),
            "label": None if i == 6 else ["red", "green", "blue"][i % 3],
            "series": None if i == 3 else [i * j for j in range(i % 4)] + ([None] if i == 5 else []),
            "emb": None if i == 7 else [i / 2, -1.0, 0.0, 2.5],
            "meta": None if i == 8 else {"ok": i % 2 == 1, "tag": None if i == 0 else f"t{i % 2}"},
            "at": datetime.datetime(2023, 10, 29, 0, 30, i, tzinfo=datetime.timezone.utc),
            "day": datetime.date(1969, 12, 30) + datetime.timedelta(days=i),
            "amount": decimal.Decimal(f"{i - 3}.{i:09d}"),
        }


def expected(row):
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    out = dict(row)
    out["raw"] = None if row["raw"] is None else row["raw"].hex()
    out["at"] = (row["at"] - epoch) // datetime.timedelta(microseconds=1) * 1000
    out["day"] = (row["day"] - datetime.date(1970, 1, 1)).days
    out["amount"] = format(row["amount"], "f")
    return out


def write_stream(path, batches, compression=None):
    """Writes a stream, returning the offset where each record batch's messages end."""
    ends = []
    sink = pa.BufferOutputStream()
    options = ipc.IpcWriteOptions(compression=compression)
    with ipc.new_stream(sink, schema, options=options) as writer:
        for batch in batches:
            writer.write_batch(batch)
            ends.append(sink.tell())
    data = sink.getvalue().to_pybytes()
    path.write_bytes(data)
    return data, ends


def main():
    data = list(rows())
    table = pa.Table.from_pylist(data, schema=schema)
    batches = table.to_batches(max_chunksize=BATCH)
    assert [b.num_rows for b in batches] == [4, 4, 2]
    with ipc.new_file(HERE / "types.arrow", schema, options=ipc.IpcWriteOptions(compression="lz4")) as writer:
        for batch in batches:
            writer.write_batch(batch)
    stream, ends = write_stream(HERE / "types.arrows", batches)
    write_stream(HERE / "types_zstd.arrows", batches, compression="zstd")
    # Cut in the middle of the second batch's messages: rows 1-4 arrive, then the stream ends.
    (HERE / "cut.arrows").write_bytes(stream[: (ends[0] + ends[1]) // 2])
    whole = (HERE / "types.arrow").read_bytes()
    (HERE / "cut.arrow").write_bytes(whole[: len(whole) // 2])
    (HERE / "not_arrow.arrows").write_bytes(b"PAR1 this is no Arrow IPC at all")
    (HERE / "types.json").write_text(json.dumps([expected(r) for r in data], indent=1) + "\n")


if __name__ == "__main__":
    main()
