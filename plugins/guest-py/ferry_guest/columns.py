"""Columns in Arrow layout, as the `types` interface carries them, built a whole column at a
time from Python lists (`None` for null), and read back the same way.

What componentize-py 0.25 lowers: `list<u8>` fields (validity bitmaps, string bytes,
decimal values) must be `bytes` — not `bytearray` or `memoryview`, or the call traps — and
every other list (`list<s64>`, `list<f64>`, `list<u32>` offsets...) must be a Python `list`
(an `array.array` traps too). So the builders here make exactly those, in bulk:

- the validity bitmap (LSB first, left out when nothing is null) is packed through one big
  integer: no Python loop per bit;
- null slots hold 0 (or an empty string), as the WIT asks;
- utf8 bytes are one `join`, offsets one `itertools.accumulate` (and no per-value `encode`
  when the column is ASCII).

    batch([1, 2, 4], [int64("id", [1, None, 3]), utf8("name", ["a", "b", None])])
"""

import datetime
import operator
from itertools import accumulate, repeat

from .typing import Kind
from .wit import types

UTC = "UTC"
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
_EPOCH_DATE = datetime.date(1970, 1, 1)
_U32 = 2**32
_TO_BITS = bytes.maketrans(b"\x00\x01", b"01")
_UNITS = {
    "s": types.TimeUnit.SECOND,
    "ms": types.TimeUnit.MILLISECOND,
    "us": types.TimeUnit.MICROSECOND,
    "ns": types.TimeUnit.NANOSECOND,
}


# ---- validity --------------------------------------------------------------------------


def pack_bits(flags):
    """Bytes of 0/1 (one per row) as an Arrow bitmap, LSB first."""
    n = len(flags)
    if n == 0:
        return b""
    bits = int(flags.translate(_TO_BITS)[::-1], 2)
    return bits.to_bytes((n + 7) // 8, "little")


def validity(values):
    """The bitmap of `values` (`None` is null), or `None` when no value is null."""
    if None not in values:
        return None
    return pack_bits(bytes(map(operator.is_not, values, repeat(None))))


def valid_flags(bitmap, n):
    """The bitmap of `n` rows as a `str` of `'1'` (valid) and `'0'` (null), row 0 first."""
    if bitmap is None:
        return "1" * n
    bits = format(int.from_bytes(bitmap, "little"), "b").zfill(len(bitmap) * 8)
    return bits[::-1][:n].ljust(n, "0")


def _filled(values, zero):
    if None not in values:
        return list(values)
    return [zero if v is None else v for v in values]


# What componentize-py lowers each list from without trapping: a float in a `list<s64>`, a
# number past the type's range or a non-bool in a `list<bool>` would trap the whole call, so
# the builders check the values' types (one pass in C: `set(map(type, ...))`) and raise a
# TypeError naming the column instead, which `guard` reports.
_NONE = type(None)
_INT_TYPES = {int, bool}
_FLOAT_TYPES = {float, int, bool}
_I32 = (-(2**31), 2**31 - 1)
_I64 = (-(2**63), 2**63 - 1)


def _ints(name, values, bounds=_I64):
    filled = _filled(values, 0)
    found = set(map(type, filled))
    if not found <= _INT_TYPES:
        other = sorted(t.__name__ for t in found - _INT_TYPES)
        raise TypeError(f"column `{name}`: {', '.join(other)} values in an integer column")
    if filled and (min(filled) < bounds[0] or max(filled) > bounds[1]):
        raise OverflowError(f"column `{name}`: a value is out of range [{bounds[0]}, {bounds[1]}]")
    return filled


def _floats(name, values):
    filled = _filled(values, 0.0)
    found = set(map(type, filled))
    if not found <= _FLOAT_TYPES:
        other = sorted(t.__name__ for t in found - _FLOAT_TYPES)
        raise TypeError(f"column `{name}`: {', '.join(other)} values in a float column")
    return filled


def _bools(name, values):
    filled = _filled(values, False)
    if not set(map(type, filled)) <= {bool}:
        raise TypeError(f"column `{name}`: values other than True, False and None in a boolean column")
    return filled


# ---- builders --------------------------------------------------------------------------


def _column(name, values, wit_values):
    return types.Column(name=name, validity=validity(values), values=wit_values)


def boolean(name, values):
    return _column(name, values, types.ColumnValues_Boolean(_bools(name, values)))


def int32(name, values):
    return _column(name, values, types.ColumnValues_Int32(_ints(name, values, _I32)))


def int64(name, values):
    return _column(name, values, types.ColumnValues_Int64(_ints(name, values)))


def float32(name, values):
    return _column(name, values, types.ColumnValues_Float32(_floats(name, values)))


def float64(name, values):
    return _column(name, values, types.ColumnValues_Float64(_floats(name, values)))


def byte_buffer(values, *, text):
    """The `byte-buffer` of `values` (str when `text`, else bytes; `None` is empty)."""
    if None in values:
        empty = "" if text else b""
        values = [empty if v is None else v for v in values]
    if text:
        joined = "".join(values)
        if joined.isascii():
            data = joined.encode("ascii")
            lengths = map(len, values)
        else:
            encoded = [v.encode("utf-8") for v in values]
            data = b"".join(encoded)
            lengths = map(len, encoded)
    else:
        data = b"".join(values)
        lengths = map(len, values)
    if len(data) >= _U32:
        raise ValueError("a column's bytes must stay under 4 GiB: make smaller batches")
    offsets = [0]
    offsets.extend(accumulate(lengths))
    return types.ByteBuffer(offsets=offsets, bytes=data)


def utf8(name, values):
    return _column(name, values, types.ColumnValues_Utf8(byte_buffer(values, text=True)))


def binary(name, values):
    return _column(name, values, types.ColumnValues_Binary(byte_buffer(values, text=False)))


def _days(value):
    if value is None or isinstance(value, int):
        return value
    if isinstance(value, datetime.datetime):
        value = value.date()
    return (value - _EPOCH_DATE).days


def date32(name, values):
    """Dates as days since 1970-01-01 (ints) or `datetime.date`s."""
    days = values if all(v is None or type(v) is int for v in values) else [_days(v) for v in values]
    return _column(name, values, types.ColumnValues_Date32(_ints(name, days, _I32)))


_PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}


def _count(value, unit):
    if value is None or isinstance(value, int):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    delta = value - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    per = _PER_SECOND[unit]
    return micros * per // 1_000_000 if per >= 1_000_000 else micros // (1_000_000 // per)


def timestamp(name, values, unit="us", timezone=UTC):
    """Instants as counts of `unit` (`s`, `ms`, `us`, `ns`) since the epoch, or
    `datetime.datetime`s (naive ones taken as UTC). `timezone=None`: wall-clock times
    without zone."""
    counts = (
        values
        if all(v is None or type(v) is int for v in values)
        else [_count(v, unit) for v in values]
    )
    return _column(
        name,
        values,
        types.ColumnValues_Timestamp(
            types.TimestampValues(unit=_UNITS[unit], timezone=timezone, values=_ints(name, counts))
        ),
    )


def decimal128(name, values, precision, scale):
    """Decimals as ints in units of 10^-scale (`12.30` at scale 2 is 1230)."""
    data = b"".join((0 if v is None else v).to_bytes(16, "little", signed=True) for v in values)
    return _column(
        name,
        values,
        types.ColumnValues_Decimal128(
            types.DecimalValues(precision=precision, scale=scale, values=data)
        ),
    )


def column(name, kind, values):
    """The column of `kind` (a `typing.Kind`) for `values`, converted values as
    `typing.convert` gives them (dates as days, timestamps as UTC microseconds)."""
    builder = _BY_KIND.get(kind.name)
    if builder is None:
        raise ValueError(f"no column builder for {kind}")
    if kind.name == "decimal":
        return decimal128(name, values, kind.precision, kind.scale)
    return builder(name, values)


_BY_KIND = {
    "utf8": utf8,
    "boolean": boolean,
    "int32": int32,
    "int64": int64,
    "float32": float32,
    "float64": float64,
    "date32": date32,
    "timestamp": timestamp,
    "decimal": decimal128,
}


class ColumnBuilder:
    """A column of one kind built a value at a time (`push`, `push_null`), like the Rust
    `ColumnBuilder`; `finish` builds it in bulk. Prefer the functions above when the values
    are already a list."""

    def __init__(self, name, kind):
        self.name = name
        self.kind = kind
        self.values = []

    def push(self, value):
        self.values.append(value)

    def push_null(self):
        self.values.append(None)

    def __len__(self):
        return len(self.values)

    def finish(self):
        return column(self.name, self.kind, self.values)


def batch(row_numbers, columns):
    """A batch of `len(row_numbers)` rows (1-based rows of the source object)."""
    row_numbers = list(row_numbers)
    columns = list(columns)
    at = 0
    while at < len(columns):
        top = columns[at]
        n = _length(top)
        if n is not None and n != len(row_numbers):
            raise ValueError(
                f"column `{top.name}` has {n} values for a batch of {len(row_numbers)} rows"
            )
        at = _read_node(columns, at)[1]
    return types.Batch(num_rows=len(row_numbers), row_numbers=row_numbers, columns=columns)


def _length(c):
    v = c.values
    if isinstance(v, (types.ColumnValues_Utf8, types.ColumnValues_Binary)):
        return len(v.value.offsets) - 1
    if isinstance(v, types.ColumnValues_Timestamp):
        return len(v.value.values)
    if isinstance(v, types.ColumnValues_Decimal128):
        return len(v.value.values) // 16
    if isinstance(v, types.ColumnValues_List):
        return len(v.value) - 1
    if isinstance(v, (types.ColumnValues_FixedSizeList, types.ColumnValues_Struct)):
        return None
    return len(v.value)


# ---- nested columns --------------------------------------------------------------------


def list_column(name, offsets, items, valid=None):
    """A list column: row `i` holds items `offsets[i]:offsets[i+1]` of the child column(s)
    `items` (a column, or a list of a column and its descendants). `valid`: per-row flags,
    `None` for all valid. Returns the columns to put in a batch, parent first."""
    items = [items] if isinstance(items, types.Column) else list(items)
    bitmap = None if valid is None or all(valid) else pack_bits(bytes(map(bool, valid)))
    parent = types.Column(name=name, validity=bitmap, values=types.ColumnValues_List(list(offsets)))
    return [parent] + items


def struct_column(name, fields, valid=None):
    """A struct column with `fields` (each a column, or a column and its descendants)."""
    fields = [[f] if isinstance(f, types.Column) else list(f) for f in fields]
    bitmap = None if valid is None or all(valid) else pack_bits(bytes(map(bool, valid)))
    parent = types.Column(
        name=name, validity=bitmap, values=types.ColumnValues_Struct(len(fields))
    )
    return [parent] + [c for f in fields for c in f]


# ---- reading ---------------------------------------------------------------------------


def children(values):
    """How many child columns follow a column with `values` (each with its own)."""
    if isinstance(values, (types.ColumnValues_List, types.ColumnValues_FixedSizeList)):
        return 1
    if isinstance(values, types.ColumnValues_Struct):
        return values.value
    return 0


def _decode_buffer(buf, text):
    offsets, data = buf.offsets, buf.bytes
    if text:
        whole = data.decode("utf-8")
        if len(whole) == len(data):  # ASCII: byte offsets are char offsets
            return [whole[a:b] for a, b in zip(offsets, offsets[1:])]
        return [data[a:b].decode("utf-8") for a, b in zip(offsets, offsets[1:])]
    return [data[a:b] for a, b in zip(offsets, offsets[1:])]


def _scalar_values(values):
    v = values
    if isinstance(v, types.ColumnValues_Utf8):
        return _decode_buffer(v.value, text=True)
    if isinstance(v, types.ColumnValues_Binary):
        return _decode_buffer(v.value, text=False)
    if isinstance(v, types.ColumnValues_Timestamp):
        return list(v.value.values)
    if isinstance(v, types.ColumnValues_Decimal128):
        data = v.value.values
        return [int.from_bytes(data[i : i + 16], "little", signed=True) for i in range(0, len(data), 16)]
    return list(v.value)


def _with_nulls(values, bitmap):
    if bitmap is None:
        return values
    flags = valid_flags(bitmap, len(values))
    i = flags.find("0")
    while i != -1:
        values[i] = None
        i = flags.find("0", i + 1)
    return values


class _Node:
    __slots__ = ("column", "children")

    def __init__(self, column, kids):
        self.column = column
        self.children = kids


def _read_node(columns, at):
    if at >= len(columns):
        raise ValueError("a nested column's child is missing from the batch")
    column = columns[at]
    at += 1
    kids = []
    for _ in range(children(column.values)):
        node, at = _read_node(columns, at)
        kids.append(node)
    return _Node(column, kids), at


def _node_values(node, n):
    """The `n` values of a column (with its children), nulls as `None`, lists as lists and
    structs as dicts."""
    c = node.column
    v = c.values
    if isinstance(v, types.ColumnValues_List):
        offsets = v.value
        items = _node_values(node.children[0], offsets[-1] if offsets else 0)
        values = [items[a:b] for a, b in zip(offsets, offsets[1:])]
    elif isinstance(v, types.ColumnValues_FixedSizeList):
        size = v.value
        items = _node_values(node.children[0], n * size)
        values = [items[i * size : (i + 1) * size] for i in range(n)]
    elif isinstance(v, types.ColumnValues_Struct):
        fields = [(k.column.name, _node_values(k, n)) for k in node.children]
        values = [{name: vals[i] for name, vals in fields} for i in range(n)]
    else:
        values = _scalar_values(v)
    return _with_nulls(values, c.validity)


def top_level(batch):
    """The top-level columns of `batch` (a nested column's children follow it; they are not
    top-level)."""
    out, at, cols = [], 0, batch.columns
    while at < len(cols):
        out.append(cols[at])
        at = _read_node(cols, at)[1]
    return out


def read_columns(batch):
    """The top-level columns of `batch` as `{name: [values]}`, nulls as `None`: ints,
    floats, bools, strs, bytes; dates as days and timestamps as counts of their unit (ints);
    decimals as ints in units of 10^-scale; lists as lists and structs as dicts."""
    out = {}
    at = 0
    cols = batch.columns
    while at < len(cols):
        node, at = _read_node(cols, at)
        out[node.column.name] = _node_values(node, batch.num_rows)
    return out


def column_values(batch, name):
    """The values of top-level column `name` of `batch` (see `read_columns`); raises
    `KeyError` when there is none."""
    at = 0
    cols = batch.columns
    while at < len(cols):
        node, at = _read_node(cols, at)
        if node.column.name == name:
            return _node_values(node, batch.num_rows)
    raise KeyError(name)


def rows(batch):
    """The rows of `batch` as dicts of their top-level columns (for tests)."""
    columns = read_columns(batch)
    names = list(columns)
    return [dict(zip(names, values)) for values in zip(*columns.values())] if names else [
        {} for _ in range(batch.num_rows)
    ]


def kind_of(column):
    """The `typing.Kind` of a scalar column (`None` for nested and binary ones)."""
    v = column.values
    for cls, kind in (
        (types.ColumnValues_Boolean, Kind.BOOLEAN),
        (types.ColumnValues_Int32, Kind.INT32),
        (types.ColumnValues_Int64, Kind.INT64),
        (types.ColumnValues_Float32, Kind.FLOAT32),
        (types.ColumnValues_Float64, Kind.FLOAT64),
        (types.ColumnValues_Utf8, Kind.UTF8),
        (types.ColumnValues_Date32, Kind.DATE32),
        (types.ColumnValues_Timestamp, Kind.TIMESTAMP),
    ):
        if isinstance(v, cls):
            return kind
    if isinstance(v, types.ColumnValues_Decimal128):
        return Kind.decimal(v.value.precision, v.value.scale)
    return None


__all__ = [
    "batch", "boolean", "int32", "int64", "float32", "float64", "utf8", "binary", "date32",
    "timestamp", "decimal128", "column", "ColumnBuilder", "list_column", "struct_column",
    "read_columns", "column_values", "rows", "top_level", "children", "validity", "pack_bits", "valid_flags",
    "kind_of",
]
