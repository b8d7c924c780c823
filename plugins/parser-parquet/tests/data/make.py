"""Writes the Parquet fixtures of parser-parquet's tests with an independent writer.

    python3 -m venv /tmp/pq && /tmp/pq/bin/pip install pyarrow==26.0.1
    /tmp/pq/bin/python make.py

`types.json` holds the values pyarrow wrote, row by row, as the tests read the decoded
batches back: dates as days, timestamps as counts of their unit, decimals as fixed-point text,
binary as hex. Every file has ten rows in row groups of four (4 + 4 + 2).
"""

import datetime
import decimal
import json
import pathlib

import pyarrow as pa
import pyarrow.parquet as pq

HERE = pathlib.Path(__file__).parent
ROWS = 10
ROW_GROUP = 4
CODECS = ["snappy", "gzip", "lz4", "zstd", "brotli", "none"]

point = pa.struct([("x", pa.float64()), ("label", pa.string())])


def rows():
    for i in range(ROWS):
        yield {
            "id": i + 1,
            "ok": None if i == 3 else i % 2 == 0,
            "city": [None, "Lyon", "Oslo", "Lyon", "Pune"][i % 5],
            "kind": ["a", "b", "a"][i % 3],
            "blob": None if i == 5 else bytes([i, 255 - i]),
            "point": None if i == 2 else {"x": i / 4, "label": None if i == 7 else f"p{i}"},
            "tags": None if i == 4 else [j * 10 + i for j in range(i % 3)] + ([None] if i == 8 else []),
            "emb": None if i == 6 else [float(i), 0.5, -0.25, float(-i)],
            "price": None if i == 1 else decimal.Decimal(i * 1234 - 5000).scaleb(-2),
            "day": datetime.date(2024, 2, 28) + datetime.timedelta(days=i),
            "at": datetime.datetime(2024, 3, 1, 12, 0, i, i * 1000, tzinfo=datetime.timezone.utc),
            "wall": None if i == 9 else datetime.datetime(2001, 1, 1) + datetime.timedelta(milliseconds=i * 1500),
            "score": float(i) * 0.5 if i != 0 else None,
        }


schema = pa.schema(
    [
        ("id", pa.int64()),
        ("ok", pa.bool_()),
        # Written through Parquet's dictionary encoding, read back as plain strings.
        ("city", pa.string()),
        # An Arrow dictionary column: the file's Arrow schema asks for a dictionary again.
        ("kind", pa.dictionary(pa.int32(), pa.string())),
        ("blob", pa.binary()),
        ("point", point),
        ("tags", pa.list_(pa.int64())),
        ("emb", pa.list_(pa.float32(), 4)),
        ("price", pa.decimal128(10, 2)),
        ("day", pa.date32()),
        ("at", pa.timestamp("us", tz="UTC")),
        ("wall", pa.timestamp("ms")),
        ("score", pa.float32()),
    ]
)


def expected(row):
    """A row as the tests compare it: JSON values in the units the columns carry."""
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    out = dict(row)
    out["blob"] = None if row["blob"] is None else row["blob"].hex()
    out["price"] = None if row["price"] is None else format(row["price"], "f")
    out["day"] = (row["day"] - datetime.date(1970, 1, 1)).days
    out["at"] = (row["at"] - epoch) // datetime.timedelta(microseconds=1)
    wall = row["wall"]
    out["wall"] = None if wall is None else (wall - datetime.datetime(1970, 1, 1)) // datetime.timedelta(milliseconds=1)
    return out


def main():
    data = list(rows())
    table = pa.Table.from_pylist(data, schema=schema)
    for codec in CODECS:
        pq.write_table(table, HERE / f"types_{codec}.parquet", row_group_size=ROW_GROUP, compression=codec)
    (HERE / "types.json").write_text(json.dumps([expected(r) for r in data], indent=1) + "\n")

    good = (HERE / "types_none.parquet").read_bytes()
    # The file cut in half: its footer is gone.
    (HERE / "truncated.parquet").write_bytes(good[: len(good) // 2])
    # The footer's metadata overwritten, its length and magic kept.
    footer_len = int.from_bytes(good[-8:-4], "little")
    start = len(good) - 8 - footer_len
    (HERE / "corrupt_footer.parquet").write_bytes(good[:start] + b"\xff" * footer_len + good[-8:])
    # The first page header of the second row group's first column overwritten.
    meta = pq.ParquetFile(HERE / "types_none.parquet").metadata
    page = meta.row_group(1).column(0).data_page_offset
    bad = bytearray(good)
    bad[page : page + 16] = b"\xff" * 16
    (HERE / "bad_page.parquet").write_bytes(bytes(bad))
    # Not Parquet at all.
    (HERE / "not_parquet.parquet").write_bytes(b"id,name\n1,a\n2,b\n")


if __name__ == "__main__":
    main()
