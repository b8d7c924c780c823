"""One set of rules for giving text values a type, the same as the Rust
`ferry_guest::typing`, so a Python parser types a value the way parser-csv and parser-logfmt
do:

- An empty string is null, whatever the type.
- A run of values is int64 if every non-empty one is an i64, else float64 if every one is a
  float, else boolean if every one is `true` or `false` (any case), else utf8. A run with no
  non-empty value is utf8. The other kinds are never inferred, only declared.
- Numbers, booleans, dates, timestamps and decimals may be padded with ASCII whitespace
  (`1, 2` in a CSV); strings are kept as written. Only ASCII digits count (`１` is text), and
  `1_000` is text (Python's `int` would take both).
- A declared kind reads its values strictly: int32/int64 whole numbers in range, float32 and
  float64 (`NaN`, `inf`, `1e3` included; a float32 past its range is refused), `date` an ISO
  `YYYY-MM-DD`, `timestamp` an RFC 3339 date-time with its offset, `decimal(p,s)` the exact
  digits.

Values are converted a whole run at a time (`convert_all`): the loop over a run's values is a
list comprehension over Python's own `int`/`float`, checked afterwards on the run's joined
text, which is what keeps a Python parser's typing affordable.
"""

import re
import struct
from dataclasses import dataclass
from typing import Optional

# What Rust's `trim_ascii` strips; Python's `strip()` would strip more.
ASCII_WS = " \t\n\r\x0c"

# Characters Python's int()/float() accept that Rust's parsers refuse, besides non-ASCII
# digits and spaces: `_` between digits, and the ASCII separators Python counts as whitespace.
_NOT_RUST_ASCII = ("_", "\x0b", "\x1c", "\x1d", "\x1e", "\x1f")

I32 = (-(2**31), 2**31 - 1)
I64 = (-(2**63), 2**63 - 1)
MAX_PRECISION = 38


@dataclass(frozen=True)
class Kind:
    """A type text values are given. `Kind.INT64`... or `Kind.decimal(10, 2)`."""

    name: str
    precision: Optional[int] = None
    scale: Optional[int] = None

    def __str__(self):
        if self.name == "decimal":
            return f"decimal({self.precision},{self.scale})"
        return self.name

    @staticmethod
    def decimal(precision, scale=0):
        if not (1 <= precision <= MAX_PRECISION and 0 <= scale <= precision):
            raise ValueError(f"decimal({precision},{scale}): precision 1 to 38, scale 0 to it")
        return Kind("decimal", precision, scale)

    @staticmethod
    def from_name(name):
        """A declared type name (`NAMES`, or `decimal(p,s)`), `None` if it is none."""
        simple = _BY_NAME.get(name)
        if simple is not None:
            return simple
        m = re.fullmatch(r"decimal\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)", name)
        if not m:
            return None
        precision, scale = int(m.group(1)), int(m.group(2) or 0)
        if not (1 <= precision <= MAX_PRECISION and scale <= precision):
            return None
        return Kind("decimal", precision, scale)


Kind.UTF8 = Kind("utf8")
Kind.BOOLEAN = Kind("boolean")
Kind.INT32 = Kind("int32")
Kind.INT64 = Kind("int64")
Kind.FLOAT32 = Kind("float32")
Kind.FLOAT64 = Kind("float64")
Kind.DATE32 = Kind("date32")
Kind.TIMESTAMP = Kind("timestamp")

NAMES = [
    "utf8", "string", "boolean", "int32", "int64", "float32", "float64", "date", "date32",
    "timestamp",
]
DECLARABLE = (
    "utf8, string, boolean, int32, int64, float32, float64, date, date32, timestamp, "
    "decimal(p,s) (p 1 to 38, s 0 to p)"
)
_BY_NAME = {
    "utf8": Kind.UTF8,
    "string": Kind.UTF8,
    "boolean": Kind.BOOLEAN,
    "int32": Kind.INT32,
    "int64": Kind.INT64,
    "float32": Kind.FLOAT32,
    "float64": Kind.FLOAT64,
    "date": Kind.DATE32,
    "date32": Kind.DATE32,
    "timestamp": Kind.TIMESTAMP,
}

# The kinds a run may be inferred as, narrowest first.
NARROWEST_FIRST = [Kind.INT64, Kind.FLOAT64, Kind.BOOLEAN, Kind.UTF8]


class ConvertError(ValueError):
    """A value that is not of the kind asked for."""

    def __init__(self, value, kind, reason=None):
        self.value = value
        self.kind = kind
        self.reason = reason
        super().__init__(str(self))

    def __str__(self):
        text = f"`{self.value}` is not a valid {self.kind}"
        return f"{text}: {self.reason}" if self.reason else text


# ---- one value -------------------------------------------------------------------------


def convert(kind, text):
    """`text` converted to `kind`: `None` for the empty string, `int` for integers, dates
    (days since the epoch), timestamps (microseconds since the epoch, UTC) and decimals
    (units of 10^-scale), `float`, `bool` or `str`. Raises `ConvertError`."""
    if text == "":
        return None
    name = kind.name
    if name == "utf8":
        return text
    padded = text.strip(ASCII_WS)
    if name in ("int32", "int64"):
        lo, hi = I32 if name == "int32" else I64
        if padded.isascii() and "_" not in padded:
            try:
                value = int(padded)
            except ValueError:
                value = None
            if value is not None and padded == padded.strip() and lo <= value <= hi:
                return value
        raise ConvertError(text, kind)
    if name in ("float32", "float64"):
        if padded.isascii() and "_" not in padded and padded == padded.strip():
            try:
                value = float(padded)
            except ValueError:
                value = None
            if value is not None:
                if name == "float64":
                    return value
                return _float32(text, padded, value)
        raise ConvertError(text, kind)
    if name == "boolean":
        lowered = padded.lower() if padded.isascii() else ""
        if lowered == "true":
            return True
        if lowered == "false":
            return False
        raise ConvertError(text, kind)
    if name == "date32":
        days = parse_date(padded)
        if days is None:
            raise ConvertError(text, kind, "expected a date such as 2024-08-19")
        return days
    if name == "timestamp":
        micros = parse_timestamp(padded)
        if micros is None:
            raise ConvertError(
                text, kind, "expected an RFC 3339 date-time such as 2024-08-19T10:11:12Z"
            )
        return micros
    if name == "decimal":
        try:
            return parse_decimal(kind, padded)
        except ValueError as e:
            raise ConvertError(text, kind, str(e)) from None
    raise ValueError(f"unknown kind {kind}")


def _float32(text, padded, value):
    try:
        return struct.unpack("<f", struct.pack("<f", value))[0]
    except OverflowError:
        spelt_infinite = padded.lstrip("+-").lower().startswith("inf")
        if spelt_infinite:
            return value
        raise ConvertError(text, Kind.FLOAT32, "out of float32's range") from None


# ---- whole runs ------------------------------------------------------------------------


def _checked_numbers(values):
    """Whether Python's own parse of `values` (which succeeded) is what Rust would parse:
    a few substring searches over the joined text, far cheaper than a regex."""
    joined = "".join(values)
    return joined.isascii() and not any(c in joined for c in _NOT_RUST_ASCII)


def _ints(values, lo, hi):
    try:
        out = [int(v) if v else None for v in values]
    except ValueError:
        return None
    if not _checked_numbers(values):
        return None
    present = [x for x in out if x is not None] if None in out else out
    if present and (min(present) < lo or max(present) > hi):
        return None
    return out


def _floats(values):
    try:
        out = [float(v) if v else None for v in values]
    except ValueError:
        return None
    if not _checked_numbers(values):
        return None
    return out


_BOOLS = {"true": True, "false": False}


def _bools(values):
    try:
        return [_BOOLS[v.strip(ASCII_WS).lower()] if v else None for v in values]
    except KeyError:
        return None


def try_all(kind, values):
    """Every value of `values` (text, `""` for null) converted to `kind`, or `None` if one
    does not convert."""
    name = kind.name
    if name == "utf8":
        return [v if v else None for v in values]
    if name == "int64":
        return _ints(values, *I64)
    if name == "float64":
        return _floats(values)
    if name == "boolean":
        return _bools(values)
    if name == "int32":
        return _ints(values, *I32)
    try:
        return [convert(kind, v) for v in values]
    except ConvertError:
        return None


def convert_all(kind, values):
    """Every value converted to `kind`; raises the `ConvertError` of the first that does not
    convert (its index in `.index`)."""
    out = try_all(kind, values)
    if out is not None:
        return out
    for i, v in enumerate(values):
        try:
            convert(kind, v)
        except ConvertError as e:
            e.index = i
            raise
    raise AssertionError("a run that does not convert has a value that does not")


def infer(values):
    """The narrowest kind every value of the run converts to (the module's rules)."""
    return infer_all(values)[0]


def infer_all(values):
    """`(kind, converted values)` for the narrowest kind every value converts to."""
    if not any(values):
        return Kind.UTF8, [None] * len(values)
    for kind in NARROWEST_FIRST:
        out = try_all(kind, values)
        if out is not None:
            return kind, out
    raise AssertionError("utf8 takes every value")


# ---- dates, timestamps, decimals (as the Rust `typing::time` and `typing::decimal`) ----

_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_TIMESTAMP = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]+))?(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))"
)


def days_from_civil(year, month, day):
    """Days from 1970-01-01 to `year-month-day` (proleptic Gregorian), negative before it."""
    year = year - 1 if month <= 2 else year
    era = year // 400
    year_of_era = year % 400
    shifted_month = (month + 9) % 12
    day_of_year = (153 * shifted_month + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146_097 + day_of_era - 719_468


def days_in_month(year, month):
    if month in (1, 3, 5, 7, 8, 10, 12):
        return 31
    if month in (4, 6, 9, 11):
        return 30
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 0


def _date(text):
    m = _DATE.fullmatch(text)
    if not m:
        return None
    year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if day == 0 or day > days_in_month(year, month):
        return None
    return days_from_civil(year, month, day)


def parse_date(text):
    """Days since 1970-01-01 of an ISO `YYYY-MM-DD` date, `None` if it is not one."""
    return _date(text)


def parse_timestamp(text):
    """Microseconds since the Unix epoch (UTC) of an RFC 3339 date-time with its offset."""
    m = _TIMESTAMP.fullmatch(text)
    if not m:
        return None
    days = _date(m.group(1))
    hour, minute, second = int(m.group(2)), int(m.group(3)), int(m.group(4))
    if days is None or hour > 23 or minute > 59 or second > 59:
        return None
    micros = 0
    fraction = m.group(5)
    if fraction is not None:
        if len(fraction) > 9:
            return None
        kept = fraction[:6]
        micros = int(kept) * 10 ** (6 - len(kept))
    offset = 0
    if m.group(6) is None:
        hours, minutes = int(m.group(8)), int(m.group(9))
        if hours > 23 or minutes > 59:
            return None
        offset = hours * 3600 + minutes * 60
        if m.group(7) == "-":
            offset = -offset
    seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
    return seconds * 1_000_000 + micros


def parse_decimal(kind, text):
    """The value of `text` in units of 10^-scale of `kind` (a decimal kind); raises
    ValueError with why it is not one."""
    negative = text.startswith("-")
    unsigned = text[1:] if text[:1] in ("-", "+") else text
    whole, _, fraction = unsigned.partition(".")
    digits = re.compile(r"[0-9]*")
    if (
        len(whole) + len(fraction) == 0
        or not digits.fullmatch(whole)
        or not digits.fullmatch(fraction)
    ):
        raise ValueError("not a decimal number")
    whole = whole.lstrip("0")
    before = kind.precision - kind.scale
    if len(whole) > before:
        raise ValueError(f"more than {before} digits before the point")
    kept, dropped = fraction[: kind.scale], fraction[kind.scale :]
    if dropped.strip("0"):
        raise ValueError(f"more than {kind.scale} digits after the point")
    magnitude = int((whole + kept).ljust(len(whole) + kind.scale, "0") or "0")
    return -magnitude if negative else magnitude
