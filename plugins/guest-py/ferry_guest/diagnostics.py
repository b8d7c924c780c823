"""Problems with one row, and what each did to it (the WIT `diagnostic` and its `effect`).

- `skip(row, code, message, line=None)`: the row was left out (`row-skipped`); it counts as
  skipped by error, and the job record names its row and line.
- `null_value(row, column, code, message, line=None)`: the row was kept with that value stored
  as null (`value-nulled`); it counts as with warning.
- `warning(row, code, message, line=None)`: nothing was changed (on row 0, a header name made
  up).

`RowError` is the same as an exception, for parsing code that finds a bad row deep down:
`raise RowError("bad_score", "`x` is not a number", column="score")`, caught where the row
and line are known and turned into its diagnostic there.
"""

from .wit import types

Effect = types.Effect


def diagnostic(effect, row, code, message, line=None, column=None):
    """A diagnostic of row `row` (1-based; 0 is the object as a whole)."""
    return types.Diagnostic(
        row=row, line=line, column=column, code=code, message=message, effect=effect
    )


def skip(row, code, message, line=None, column=None):
    """The row was left out."""
    return diagnostic(Effect.ROW_SKIPPED, row, code, message, line, column)


def null_value(row, column, code, message, line=None):
    """The row was kept with the value of `column` stored as null."""
    return diagnostic(Effect.VALUE_NULLED, row, code, message, line, column)


def warning(row, code, message, line=None, column=None):
    """Nothing was changed; the row is kept as it was."""
    return diagnostic(Effect.WARNING, row, code, message, line, column)


def output(batches=None, diagnostics=None):
    """What one call of a parser decoded: batches, and diagnostics of the rows."""
    return types.Output(
        batches=[] if batches is None else batches,
        diagnostics=[] if diagnostics is None else diagnostics,
    )


class RowError(Exception):
    """A problem with one row, raised where the row is parsed and reported where its row and
    line are known (`.diagnostic(row, line)`). `effect` is `row-skipped` unless given."""

    def __init__(self, code, message, column=None, effect=Effect.ROW_SKIPPED):
        super().__init__(message)
        self.code = code
        self.message = message
        self.column = column
        self.effect = effect

    def diagnostic(self, row, line=None):
        return diagnostic(self.effect, row, self.code, self.message, line, self.column)
