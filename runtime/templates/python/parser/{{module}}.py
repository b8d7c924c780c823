"""{{name}}: lines of `name,score` into rows of `name` (utf8) and `score` (float64).

The plugin's own logic, free of WIT calls, so `test_{{module}}.py` runs it on plain CPython:
`Rows` is what one `decoder` resource does to one object (`parser.py` wraps it), `describe`
what `about.describe` answers (`app.py`).

- The `delimiter` setting (one character, `,` when not given) splits a line once; one that
  can be part of a score (a letter, a digit, `.`, `+`, `-`) is refused when the decoder opens.
- A line without the delimiter, or with an empty name, is skipped with a `bad_line`
  diagnostic; a score that is not a number, with `invalid_value` (naming the column).
- Blank lines are no rows; `\\r\\n` line ends are fine; a line that is not UTF-8 is skipped
  (`invalid_utf8`).
"""

from ferry_guest import Kind, Lines, Setting, TextBatch, describe as description, output, skip
from ferry_guest.settings import invalid

NAME = "{{name}}"
VERSION = "0.1.0"

# Every setting the plugin takes: `ferry validate` and `Settings.load` refuse any other.
SETTINGS = [
    Setting("delimiter", "character", default=",", doc="between the name and the score"),
]

COLUMNS = ["name", "score"]
# `score` is declared, so every batch has the same schema (a batch of whole numbers would
# otherwise be inferred int64).
DECLARED = {"name": Kind.UTF8, "score": Kind.FLOAT64}
BATCH_SIZE = 8192


def describe():
    return description("parser", NAME, VERSION, "name,score lines into typed rows", SETTINGS)


def from_settings(settings):
    """The decoder of one object for the step's `settings` (a checked `Settings`)."""
    delimiter = settings["delimiter"]
    if delimiter.isalnum() or delimiter in ".+-":
        raise invalid("delimiter", delimiter, "a character that cannot be part of a score")
    return Rows(delimiter)


class Rows:
    """Decodes one object: the unfinished last line, and the batch being gathered."""

    def __init__(self, delimiter=",", batch_size=BATCH_SIZE):
        self.delimiter = delimiter
        self.lines = Lines()
        self.batch = TextBatch(batch_size, declared=DECLARED, columns=COLUMNS)

    def push(self, chunk):
        out = output()
        self._add(self.lines.push(chunk, out.diagnostics), out)
        return out

    def finish(self):
        out = output()
        self._add(self.lines.finish(out.diagnostics), out)
        last = self.batch.take()
        if last is not None:
            out.batches.append(last)
        return out

    def _add(self, lines, out):
        """Adds each `(row, line, text)` as a row, or its diagnostic; hands over full batches.

        The good rows of the call are pushed at once (`push_rows`): their scores are then
        checked a column at a time, several times faster in Python than row by row."""
        delimiter = self.delimiter
        numbers, values, line_of = [], [], []
        for row, line, text in lines:
            name, found, score = text.partition(delimiter)
            name = name.strip()
            if found and name:
                numbers.append(row)
                values.append((name, score))
                line_of.append(line)
            else:
                out.diagnostics.append(
                    skip(row, "bad_line", f"`{text}` is not name{delimiter}score", line=line)
                )
        for j, invalid_value in self.batch.push_rows(numbers, values):
            out.diagnostics.append(invalid_value.diagnostic(numbers[j], line_of[j]))
        if len(out.diagnostics) > 1:  # the bad lines, then the bad scores: back in row order
            out.diagnostics.sort(key=lambda d: d.row)
        while self.batch.is_full():
            out.batches.append(self.batch.take())
