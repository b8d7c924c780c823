"""Writes the Avro fixtures of parser-avro's tests with an independent writer.

    python3 -m venv /tmp/pq && /tmp/pq/bin/pip install fastavro==1.13.1 cramjam backports.zstd
    /tmp/pq/bin/python make.py

Ten records in blocks of two (a tiny sync interval), uncompressed and with each codec fastavro
writes (snappy through cramjam, zstandard through backports.zstd). `events.json` holds the values as the tests read the batches back: dates as
days, timestamps as counts of their unit, decimals as fixed-point text, bytes as hex, UUIDs as
text. `bad_sync.avro` has the sync marker after its second block overwritten; `blocks.json`
says which record each block starts at.
"""

import datetime
import decimal
import io
import json
import pathlib
import uuid

import fastavro

HERE = pathlib.Path(__file__).parent
ROWS = 10
# Enough digits for decimal(38, 4) (Python's default context rounds to 28).
decimal.getcontext().prec = 50

SCHEMA = {
    "type": "record",
    "name": "Event",
    "namespace": "ferry.test",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "count", "type": "int"},
        {"name": "name", "type": ["null", "string"]},
        {"name": "score", "type": "double"},
        {"name": "ratio", "type": ["float", "null"]},
        {"name": "ok", "type": "boolean"},
        {"name": "payload", "type": "bytes"},
        {"name": "hash", "type": {"type": "fixed", "name": "Hash", "size": 4}},
        {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["CLICK", "VIEW", "BUY"]}},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {
            "name": "place",
            "type": [
                "null",
                {
                    "type": "record",
                    "name": "Place",
                    "fields": [
                        {"name": "lat", "type": "double"},
                        {"name": "lon", "type": "double"},
                        {"name": "codes", "type": {"type": "array", "items": ["null", "int"]}},
                    ],
                },
            ],
        },
        {"name": "home", "type": ["null", "Place"]},
        {"name": "nothing", "type": "null"},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "at_us", "type": ["null", {"type": "long", "logicalType": "timestamp-micros"}]},
        {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}},
        {
            "name": "big",
            "type": {"type": "fixed", "name": "Big", "size": 16, "logicalType": "decimal", "precision": 38, "scale": 4},
        },
        {"name": "uid", "type": {"type": "string", "logicalType": "uuid"}},
    ],
}

UTC = datetime.timezone.utc


def records():
    for i in range(ROWS):
        place = {"lat": 45.0 + i, "lon": -i / 4, "codes": [i, None, 7][: i % 4]}
        yield {
            "id": i + 1,
            "count": -i * 1000,
            "name": None if i % 4 == 1 else f"n{i}",
            "score": i * 1.5,
            "ratio": None if i == 3 else i / 8,
            "ok": i % 3 == 0,
            "payload": bytes([i] * (i % 3)),
            "hash": bytes([i, i + 1, i + 2, 255]),
            "kind": ["CLICK", "VIEW", "BUY"][i % 3],
            "tags": [f"t{j}" for j in range(i % 3)],
            "place": None if i == 5 else place,
            "home": place if i == 2 else None,
            "nothing": None,
            "day": datetime.date(2020, 2, 27) + datetime.timedelta(days=i),
            "at": datetime.datetime(2024, 1, 1, tzinfo=UTC) + datetime.timedelta(milliseconds=i * 1001),
            "at_us": None if i == 4 else datetime.datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC) + datetime.timedelta(microseconds=i),
            "price": decimal.Decimal(i * 777 - 3000).scaleb(-2),
            "big": decimal.Decimal(-(10**30) + i).scaleb(-4),
            "uid": str(uuid.UUID(int=i * 0x1234567890ABCDEF)),
        }


def expected(r):
    epoch = datetime.datetime(1970, 1, 1, tzinfo=UTC)
    out = dict(r)
    out["payload"] = r["payload"].hex()
    out["hash"] = r["hash"].hex()
    out["day"] = (r["day"] - datetime.date(1970, 1, 1)).days
    out["at"] = (r["at"] - epoch) // datetime.timedelta(milliseconds=1)
    out["at_us"] = None if r["at_us"] is None else (r["at_us"] - epoch) // datetime.timedelta(microseconds=1)
    out["price"] = format(r["price"], "f")
    out["big"] = format(r["big"], "f")
    return out


def write(path, codec, schema=SCHEMA, data=None):
    data = list(records()) if data is None else data
    buf = io.BytesIO()
    # A tiny sync interval: a block every few records.
    fastavro.writer(buf, fastavro.parse_schema(schema), data, codec=codec, sync_interval=200)
    path.write_bytes(buf.getvalue())
    return buf.getvalue()


def main():
    for codec in ["null", "deflate", "snappy", "bzip2", "xz", "zstandard"]:
        write(HERE / f"events_{codec}.avro", codec)
    (HERE / "events.json").write_text(json.dumps([expected(r) for r in records()], indent=1) + "\n")

    good = (HERE / "events_null.avro").read_bytes()
    with open(HERE / "events_null.avro", "rb") as f:
        blocks = [b.num_records for b in fastavro.block_reader(f)]
    assert len(blocks) >= 3, blocks
    firsts = [1 + sum(blocks[:i]) for i in range(len(blocks))]
    (HERE / "blocks.json").write_text(json.dumps({"records": blocks, "first_row": firsts}) + "\n")
    with open(HERE / "events_null.avro", "rb") as f:
        marker = fastavro.reader(f)._header["sync"]
    # The header's marker, then one after each block: overwrite the one after block 2.
    at = [i for i in range(len(good)) if good.startswith(marker, i)]
    bad = bytearray(good)
    bad[at[2] : at[2] + 16] = bytes(16)
    (HERE / "bad_sync.avro").write_bytes(bytes(bad))
    (HERE / "truncated.avro").write_bytes(good[: at[2] - 10])
    (HERE / "not_avro.avro").write_bytes(b"id,name\n1,a\n")

    # A union of two non-null types: a column of what type?
    either = {
        "type": "record",
        "name": "Either",
        "fields": [{"name": "id", "type": "long"}, {"name": "value", "type": ["int", "string"]}],
    }
    write(HERE / "union.avro", "null", either, [{"id": 1, "value": 3}, {"id": 2, "value": "x"}])


if __name__ == "__main__":
    main()
