"""Files for ferry's format tests, written by independent writers, and the check of what ferry
stored against what those writers wrote.

    files.py write DIR             pyarrow Parquet (snappy, gzip; dictionary, nested, lists,
                                   embeddings, decimals, dates, timestamps, several row groups),
                                   fastavro Avro (deflate, snappy), pyarrow Arrow IPC (file,
                                   stream) — each format in its own subdirectory of DIR
    files.py check TABLE DIR FMT   reads the Delta table TABLE with the `deltalake` package and
                                   compares every value with what pyarrow (or fastavro) reads
                                   from the files of format FMT in DIR; exits 1 naming the first
                                   difference
    files.py bad DIR               broken files: a Parquet footer overwritten, a Parquet file
                                   cut short, an Avro sync marker changed, an Arrow stream cut
"""

import datetime
import decimal
import os
import sys

import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

ROWS = 5000
HALF = ROWS // 2
UTC = datetime.timezone.utc


def table(start, stop):
    ids = list(range(start, stop))
    nth = lambda k, i: i % k == 0  # noqa: E731
    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "name": pa.array([None if nth(17, i) else f"model-{i % 5}" for i in ids]),
            "score": pa.array([None if nth(13, i) else i / 8 for i in ids], pa.float32()),
            "amount": pa.array(
                [None if nth(11, i) else decimal.Decimal(i * 7 - 9000) / 100 for i in ids],
                pa.decimal128(10, 2),
            ),
            "day": pa.array(
                [datetime.date(2024, 1, 1) + datetime.timedelta(days=i % 400) for i in ids],
                pa.date32(),
            ),
            "at": pa.array(
                [
                    datetime.datetime(2024, 8, 1, tzinfo=UTC) + datetime.timedelta(seconds=i * 37, microseconds=i)
                    for i in ids
                ],
                pa.timestamp("us", tz="UTC"),
            ),
            "at_ms": pa.array(
                [datetime.datetime(2023, 3, 4, 5, 6, 7) + datetime.timedelta(milliseconds=i) for i in ids],
                pa.timestamp("ms"),
            ),
            "tags": pa.array(
                [None if nth(7, i) else [i, None, i * 2][: i % 4] for i in ids], pa.list_(pa.int64())
            ),
            "emb": pa.array(
                [None if nth(19, i) else [i * 0.5, -1.0, 0.25, float(i % 3)] for i in ids],
                pa.list_(pa.float32(), 4),
            ),
            "pos": pa.array(
                [None if nth(23, i) else {"x": i * 1.5, "label": f"l{i % 3}"} for i in ids],
                pa.struct([("x", pa.float64()), ("label", pa.string())]),
            ),
            "flag": pa.array([i % 2 == 0 for i in ids]),
            "blob": pa.array([bytes([i % 256, 0, 255]) for i in ids], pa.binary()),
        }
    )


AVRO_SCHEMA = {
    "type": "record",
    "name": "Prediction",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "name", "type": ["null", "string"]},
        {"name": "score", "type": ["null", "float"]},
        {"name": "amount", "type": ["null", {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}]},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "at_ms", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "tags", "type": ["null", {"type": "array", "items": ["null", "long"]}]},
        {"name": "emb", "type": ["null", {"type": "array", "items": "float"}]},
        {
            "name": "pos",
            "type": [
                "null",
                {"type": "record", "name": "Pos", "fields": [{"name": "x", "type": "double"}, {"name": "label", "type": "string"}]},
            ],
        },
        {"name": "flag", "type": "boolean"},
        {"name": "blob", "type": "bytes"},
    ],
}


def avro_records(t):
    rows = t.to_pylist()
    for r in rows:
        # fastavro writes naive datetimes for timestamp-millis as UTC.
        r["at_ms"] = r["at_ms"].replace(tzinfo=UTC)
    return rows


def write(out):
    import fastavro

    first, second = table(0, HALF), table(HALF, ROWS)
    os.makedirs(f"{out}/parquet", exist_ok=True)
    pq.write_table(first, f"{out}/parquet/a.parquet", compression="snappy", row_group_size=700)
    pq.write_table(second, f"{out}/parquet/b.parquet", compression="gzip", row_group_size=1000)
    os.makedirs(f"{out}/avro", exist_ok=True)
    schema = fastavro.parse_schema(AVRO_SCHEMA)
    for name, part, codec in [("a.avro", first, "deflate"), ("b.avro", second, "snappy")]:
        with open(f"{out}/avro/{name}", "wb") as f:
            fastavro.writer(f, schema, avro_records(part), codec=codec, sync_interval=16000)
    os.makedirs(f"{out}/arrow", exist_ok=True)
    with ipc.new_file(f"{out}/arrow/a.arrow", first.schema) as w:
        for batch in first.to_batches(max_chunksize=600):
            w.write_batch(batch)
    with ipc.new_stream(f"{out}/arrow/b.arrows", second.schema) as w:
        for batch in second.to_batches(max_chunksize=900):
            w.write_batch(batch)


def read_source(directory, fmt):
    names = sorted(os.listdir(directory))
    if fmt == "parquet":
        return pa.concat_tables([pq.read_table(f"{directory}/{n}") for n in names])
    if fmt == "arrow":
        parts = []
        for n in names:
            with open(f"{directory}/{n}", "rb") as f:
                data = f.read()
            reader = ipc.open_file(pa.BufferReader(data)) if data[:6] == b"ARROW1" else ipc.open_stream(data)
            parts.append(reader.read_all())
        return pa.concat_tables(parts)
    if fmt == "avro":
        import fastavro

        rows = []
        for n in names:
            with open(f"{directory}/{n}", "rb") as f:
                rows.extend(fastavro.reader(f))
        return rows
    raise SystemExit(f"unknown format {fmt}")


def normal(value):
    """A value as ferry stores it: instants in UTC (a naive timestamp taken as UTC)."""
    if isinstance(value, datetime.datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, dict):
        return {k: normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normal(v) for v in value]
    return value


def check(table_dir, directory, fmt):
    from deltalake import DeltaTable

    stored = DeltaTable(table_dir).to_pyarrow_table().sort_by("id").to_pylist()
    source = read_source(directory, fmt)
    expected = sorted(source if isinstance(source, list) else source.to_pylist(), key=lambda r: r["id"])
    if len(stored) != len(expected):
        raise SystemExit(f"{len(stored)} rows stored, {len(expected)} in the files")
    for want, got in zip(expected, stored):
        for column, value in want.items():
            if normal(value) != normal(got.get(column)):
                raise SystemExit(f"row id={want['id']} column {column}: file has {value!r}, table has {got.get(column)!r}")
    print(f"{len(stored)} rows, {len(expected[0])} columns equal")


def bad(out):
    import fastavro

    os.makedirs(out, exist_ok=True)
    good = table(0, 3000)
    pq.write_table(good, f"{out}/footer.parquet", row_group_size=1000)
    data = bytearray(open(f"{out}/footer.parquet", "rb").read())
    data[-200:-8] = b"\xff" * 192  # the footer (metadata) overwritten; magic kept
    open(f"{out}/footer.parquet", "wb").write(data)
    pq.write_table(good, f"{out}/cut.parquet", row_group_size=1000)
    data = open(f"{out}/cut.parquet", "rb").read()
    open(f"{out}/cut.parquet", "wb").write(data[: len(data) // 2])
    with open(f"{out}/sync.avro", "wb") as f:
        fastavro.writer(f, fastavro.parse_schema(AVRO_SCHEMA), avro_records(good), codec="null", sync_interval=2000)
    data = bytearray(open(f"{out}/sync.avro", "rb").read())
    header_end = data.index(data[-16:])  # the first sync marker ends the header
    second = data.index(data[-16:], header_end + 16)  # the end of the first block
    data[second : second + 16] = b"\x00" * 16
    open(f"{out}/sync.avro", "wb").write(data)
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, good.schema) as w:
        for batch in good.to_batches(max_chunksize=1000):
            w.write_batch(batch)
    data = sink.getvalue().to_pybytes()
    open(f"{out}/cut.arrows", "wb").write(data[: int(len(data) * 0.6)])
    pq.write_table(good, f"{out}/zstd.parquet", compression="zstd")


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "write":
        write(sys.argv[2])
    elif command == "check":
        check(sys.argv[2], sys.argv[3], sys.argv[4])
        # pyarrow 26's dataset scan threads can abort the interpreter's teardown ("terminate
        # called without an active exception", about one exit in three): the answer is printed,
        # so leave without the teardown.
        sys.stdout.flush()
        os._exit(0)
    elif command == "bad":
        bad(sys.argv[2])
    else:
        raise SystemExit(__doc__)
