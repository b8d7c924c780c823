import unittest

from ferry_guest import Lines, types


def split(data, size, text=True):
    lines, out, diags = Lines(text=text), [], []
    for i in range(0, len(data), size):
        out.extend(lines.push(data[i : i + size], diags))
    out.extend(lines.finish(diags))
    return out, diags


class LinesTest(unittest.TestCase):
    def test_chunks_split_anywhere_give_the_same_lines(self):
        data = 'a=1\r\n\n  \r\nb="é"\nlast'.encode()
        expected = [(1, 1, "a=1"), (2, 4, 'b="é"'), (3, 5, "last")]
        for size in range(1, len(data) + 1):
            self.assertEqual(split(data, size), (expected, []), f"chunks of {size}")
        as_bytes = [(r, l, t.encode()) for r, l, t in expected]
        self.assertEqual(split(data, 4, text=False), (as_bytes, []))

    def test_a_trailing_newline_makes_no_extra_line(self):
        self.assertEqual(split(b"x\n", 1)[0], [(1, 1, "x")])
        self.assertEqual(split(b"", 1)[0], [])
        self.assertEqual(split(b"\n\n", 1)[0], [])
        self.assertEqual(split(b"a\r\r\nb\r", 100)[0], [(1, 1, "a\r"), (2, 2, "b")])
        self.assertEqual(split(b"\x0b\n", 100)[0], [(1, 1, "\x0b")], "a vertical tab is no blank")

    def test_invalid_utf8_skips_the_row(self):
        for size in (1, 3, 100):
            out, diags = split(b"ok\n\nab\xffc\nfine\n", size)
            self.assertEqual(out, [(1, 1, "ok"), (3, 4, "fine")], size)
            d = diags[0]
            self.assertEqual((d.row, d.line, d.code, d.effect), (2, 3, "invalid_utf8", types.Effect.ROW_SKIPPED))
            self.assertEqual(d.message, "invalid UTF-8 at byte 3 of the line")

    def test_many_lines_at_once(self):
        data = b"".join(b"row%d\n" % i for i in range(10_000))
        out, _ = split(data, 65536)
        self.assertEqual(len(out), 10_000)
        self.assertEqual(out[-1], (10_000, 10_000, "row9999"))


if __name__ == "__main__":
    unittest.main()
