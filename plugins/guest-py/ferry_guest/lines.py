"""Lines of a byte stream that arrives in chunks split anywhere, numbered the way every
diagnostic counts them (as the Rust `ferry_guest::lines`):

- `line` is the 1-based physical line, blank ones included;
- `row` is the 1-based count of non-blank lines, the data rows;
- a line ends at `\\n`; a `\\r` before it is dropped; a last line without `\\n` still counts;
- a blank line (empty, or only ASCII whitespace) is skipped and is no row.

`Lines.push(chunk, diagnostics)` returns the lines the chunk completes as `(row, line, text)`
tuples — tuples, not objects, and the chunk decoded and split at once, so the splitting costs
next to nothing next to the parsing. A line that is not UTF-8 is no tuple: an `invalid_utf8`
diagnostic that skips its row goes to `diagnostics` (a list, `out.diagnostics` say) instead.
With `Lines(text=False)` the lines are `bytes` and never skipped.
"""

import re

from .diagnostics import skip

_WS = b" \t\n\r\x0c"
_BLANK = re.compile(r"^[ \t\r\x0c]*$", re.M)
_BLANK_BYTES = re.compile(rb"^[ \t\r\x0c]*$", re.M)


class Lines:
    """Splits chunks into lines, keeping an unfinished line until the chunk that ends it."""

    def __init__(self, text=True):
        self.text = text
        self.partial = b""
        self.line = 0
        self.row = 0

    def push(self, chunk, diagnostics=None):
        """The lines `chunk` completes."""
        if b"\n" not in chunk:
            self.partial += chunk
            return []
        data = self.partial + chunk if self.partial else chunk
        end = data.rindex(b"\n")
        self.partial = data[end + 1 :]
        return self._emit(data[:end], diagnostics)

    def finish(self, diagnostics=None):
        """The last line, when it had no `\\n`."""
        data, self.partial = self.partial, b""
        if not data:
            return []
        return self._emit(data, diagnostics)

    def _emit(self, data, diagnostics):
        """The lines of `data` (lines joined by `\\n`, no `\\n` at its end)."""
        if self.text:
            try:
                body = data.decode("utf-8")
            except UnicodeDecodeError:
                return self._emit_checked(data.split(b"\n"), diagnostics)
            body = body.replace("\r\n", "\n")
            pieces = body.split("\n")
            if pieces[-1].endswith("\r"):
                pieces[-1] = pieces[-1][:-1]
            blank = _BLANK.search(body) is not None or not pieces[-1].strip(" \t\r\x0c")
        else:
            body = data.replace(b"\r\n", b"\n")
            pieces = body.split(b"\n")
            if pieces[-1].endswith(b"\r"):
                pieces[-1] = pieces[-1][:-1]
            blank = _BLANK_BYTES.search(body) is not None or not pieces[-1].strip(_WS)
        first_line, first_row = self.line + 1, self.row + 1
        self.line += len(pieces)
        if not blank:
            self.row += len(pieces)
            return list(zip(range(first_row, self.row + 1), range(first_line, self.line + 1), pieces))
        out = []
        row = self.row
        ws = " \t\n\r\x0c" if self.text else _WS
        for line, piece in enumerate(pieces, first_line):
            if piece.strip(ws):
                row += 1
                out.append((row, line, piece))
        self.row = row
        return out

    def _emit_checked(self, pieces, diagnostics):
        """Lines decoded one by one: some are not UTF-8."""
        out = []
        for piece in pieces:
            self.line += 1
            if piece.endswith(b"\r"):
                piece = piece[:-1]
            if not piece.strip(_WS):
                continue
            self.row += 1
            try:
                out.append((self.row, self.line, piece.decode("utf-8")))
            except UnicodeDecodeError as e:
                if diagnostics is not None:
                    diagnostics.append(
                        skip(
                            self.row,
                            "invalid_utf8",
                            f"invalid UTF-8 at byte {e.start + 1} of the line",
                            line=self.line,
                        )
                    )
        return out
