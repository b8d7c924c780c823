"""Batches of text fields (CSV, logfmt, `name,score`), typed when taken, as the Rust
`ferry_guest::TextBatch`: a declared column is converted to its declared kind, every other
column gets the kind `typing.infer` picks from the batch's own values (int64, else float64,
else boolean, else utf8). An empty string is null, and so is a column a row does not set.

A value of a declared column that does not convert rejects its row when pushed
(`InvalidValue`, whose `.diagnostic(row, line)` skips it), so the parser reports that row with
its line; the batch is left as it was.

    rows = TextBatch(8192, declared=[("score", Kind.FLOAT64)])
    rows.push_named(row, {"name": "a", "score": "1.5"})    # or push_row(row, ["a", "1.5"])
    if rows.is_full():
        out.batches.append(rows.take())

`push_rows(row_numbers, rows)` adds many positional rows at once, checking declared columns a
whole column at a time: in Python that is several times faster than a `push_row` per row, so
a parser that can gather a chunk's rows first should (the batch then holds more than
`batch_size` rows until taken: `while rows.is_full(): out.batches.append(rows.take())`).
"""

from operator import methodcaller

from . import typing as kinds
from .columns import batch, column
from .diagnostics import RowError


class InvalidValue(RowError):
    """A value that does not convert to its column's declared kind."""

    def __init__(self, column_name, error):
        super().__init__("invalid_value", str(error), column=column_name)
        self.error = error


class TextBatch:
    """Rows of text values gathered until `batch_size`, then typed into a batch."""

    def __init__(self, batch_size=8192, declared=(), columns=()):
        """`declared`: `(name, Kind)` pairs or a dict; `columns`: names registered up
        front, in order (a header), for `push_row`."""
        self.batch_size = max(1, int(batch_size))
        self.declared = dict(declared)
        self._names = []
        self._index = {}
        self._kinds = []  # declared kind per column index, or None
        self._checks = []  # (index, kind) of declared columns
        self._row_numbers = []
        self._values = []  # a tuple/list per positional row, a dict per named row
        self._named = 0
        for name in columns:
            self.column(name)

    def column(self, name):
        """The index of column `name`, added after the others if it is new."""
        i = self._index.get(name)
        if i is None:
            i = len(self._names)
            self._names.append(name)
            self._index[name] = i
            kind = self.declared.get(name)
            self._kinds.append(kind)
            if kind is not None and kind != kinds.Kind.UTF8:
                self._checks.append((i, kind))
        return i

    @property
    def names(self):
        """Column names, in order of first appearance."""
        return list(self._names)

    def push_row(self, row, values):
        """Adds source row `row` with `values` in column order (columns registered with
        `column`, or given to the constructor); a shorter row is null in the columns past
        its end. Raises `InvalidValue` if a declared column's value does not convert."""
        if len(values) > len(self._names):
            raise ValueError(
                f"row {row} has {len(values)} values for {len(self._names)} columns"
            )
        for i, kind in self._checks:
            if i < len(values) and values[i]:
                self._check(i, kind, values[i])
        self._row_numbers.append(row)
        self._values.append(values)

    def push_rows(self, row_numbers, rows):
        """Adds positional rows (`rows[j]` is source row `row_numbers[j]`) at once. Returns
        the rows refused, as `[(j, InvalidValue)]` in order: for each, the first declared
        column (in column order) whose value does not convert. The others are added."""
        width = len(self._names)
        full = not rows or min(map(len, rows)) == width
        if rows and max(map(len, rows)) > width:
            raise ValueError(f"a row has more values than the {width} columns")
        if len(rows) != len(row_numbers):
            raise ValueError(f"{len(rows)} rows for {len(row_numbers)} row numbers")
        bad = {}
        for i, kind in self._checks:
            texts = [r[i] for r in rows] if full else [r[i] if i < len(r) else "" for r in rows]
            if kinds.try_all(kind, texts) is not None:
                continue
            for j, text in enumerate(texts):
                if text and j not in bad:
                    try:
                        kinds.convert(kind, text)
                    except kinds.ConvertError as e:
                        bad[j] = InvalidValue(self._names[i], e)
        if bad:
            keep = [j for j in range(len(rows)) if j not in bad]
            rows = [rows[j] for j in keep]
            row_numbers = [row_numbers[j] for j in keep]
        self._row_numbers.extend(row_numbers)
        self._values.extend(rows)
        return sorted(bad.items())

    def push_named(self, row, values):
        """Adds source row `row` with `values` by column name (a dict, or `(name, value)`
        pairs, the last of a name counting), adding columns seen for the first time."""
        if not isinstance(values, dict):
            values = dict(values)
        if not values.keys() <= self._index.keys():
            for name in values:
                self.column(name)
        for i, kind in self._checks:
            value = values.get(self._names[i])
            if value:
                self._check(i, kind, value)
        self._row_numbers.append(row)
        self._values.append(values)
        self._named += 1

    def _check(self, i, kind, value):
        try:
            kinds.convert(kind, value)
        except kinds.ConvertError as e:
            raise InvalidValue(self._names[i], e) from None

    def __len__(self):
        return len(self._row_numbers)

    def is_empty(self):
        return not self._row_numbers

    def is_full(self):
        """Whether the batch has reached its size and should be taken."""
        return len(self._row_numbers) >= self.batch_size

    def take(self):
        """The rows gathered so far (at most `batch_size` of them, the first) as a typed
        batch, `None` when there are none. Columns stay registered."""
        if not self._row_numbers:
            return None
        size = self.batch_size
        if len(self._row_numbers) <= size:
            row_numbers, values = self._row_numbers, self._values
            named = self._named
            self._row_numbers, self._values, self._named = [], [], 0
        else:
            row_numbers, values = self._row_numbers[:size], self._values[:size]
            del self._row_numbers[:size], self._values[:size]
            named = sum(type(v) is dict for v in values) if self._named else 0
            self._named -= named
        n, width = len(values), len(self._names)
        if named == 0:
            texts = _transpose(values, width)
        elif named == n:
            texts = [list(map(methodcaller("get", name, ""), values)) for name in self._names]
        else:
            texts = [
                [
                    (v.get(name, "") if type(v) is dict else (v[i] if i < len(v) else ""))
                    for v in values
                ]
                for i, name in enumerate(self._names)
            ]
        columns = [
            _typed_column(name, kind, text)
            for name, kind, text in zip(self._names, self._kinds, texts)
        ]
        return batch(row_numbers, columns)


def _transpose(rows, width):
    """Columns of positional rows, `""` past the end of a short row."""
    if min(map(len, rows)) == width:
        return [list(c) for c in zip(*rows)] if width else []
    padded = [r if len(r) == width else list(r) + [""] * (width - len(r)) for r in rows]
    return [list(c) for c in zip(*padded)]


def _typed_column(name, declared, texts):
    """The column for a run of values: of the declared kind (its values were checked on
    push), or of the narrowest kind that fits them all."""
    if declared is not None:
        return column(name, declared, kinds.convert_all(declared, texts))
    kind, values = kinds.infer_all(texts)
    return column(name, kind, values)
