"""Unit tests of {{name}}'s logic on plain CPython, no component needed:

    PYTHONPATH=<dir holding ferry_guest> python3 -m unittest -v test_{{module}}

(`ferry_guest.testing.bindings` generates the WIT bindings from `wit/` once, with
componentize-py, so `wit_world` imports here as it does in the component.)
"""

import os
import unittest

from ferry_guest import testing

HERE = os.path.dirname(os.path.abspath(__file__))
testing.bindings(os.path.join(HERE, "wit"), "parser-plugin")

import {{module}} as plugin  # noqa: E402
from ferry_guest import PluginError, Settings, types  # noqa: E402


def decode(data, delimiter=",", chunk_size=None, batch_size=plugin.BATCH_SIZE):
    rows = plugin.Rows(delimiter, batch_size)
    step = chunk_size or max(1, len(data))
    outputs = [rows.push(data[i : i + step]) for i in range(0, len(data), step)]
    outputs.append(rows.finish())
    return testing.collect(outputs)


class ParseTest(unittest.TestCase):
    def test_good_lines_become_rows_and_bad_ones_diagnostics(self):
        rows, diagnostics = decode(b"a,1.5\nbad\nb,2\n")
        self.assertEqual(rows, [{"_row": 1, "name": "a", "score": 1.5}, {"_row": 3, "name": "b", "score": 2.0}])
        self.assertEqual(diagnostics, [(2, 2, "bad_line", "ROW_SKIPPED")])

    def test_the_sample(self):
        with open(os.path.join(HERE, "sample", "scores.txt"), "rb") as f:
            rows, diagnostics = decode(f.read())
        self.assertEqual(
            [(r["name"], r["score"]) for r in rows],
            [("alice", 1.5), ("bob", 2.0), ("carol", 0.25), ("erin", -300.0)],
        )
        self.assertEqual(
            diagnostics,
            [(4, 5, "bad_line", "ROW_SKIPPED"), (5, 6, "invalid_value", "ROW_SKIPPED")],
        )

    def test_scores_are_float64_even_when_whole(self):
        rows = plugin.Rows()
        rows.push(b"a,1\nb,2\n")
        batch = rows.finish().batches[0]
        self.assertIsInstance(batch.columns[1].values, types.ColumnValues_Float64)

    def test_chunks_split_anywhere_decode_the_same(self):
        data = "a,1\r\n\nb;x,2.5\nbad\né,3\nlast,4".encode()
        whole = decode(data)
        self.assertEqual(len(whole[0]), 4)
        for size in range(1, len(data)):
            self.assertEqual(decode(data, chunk_size=size), whole, f"chunks of {size}")

    def test_full_batches_are_handed_over(self):
        rows, _ = decode(b"".join(b"n%d,%d\n" % (i, i) for i in range(25)), batch_size=10)
        self.assertEqual([r["_row"] for r in rows], list(range(1, 26)))

    def test_another_delimiter(self):
        rows, diagnostics = decode(b"a;1\nb,2\n", delimiter=";")
        self.assertEqual([r["name"] for r in rows], ["a"])
        self.assertEqual(diagnostics, [(2, 2, "bad_line", "ROW_SKIPPED")])


class AboutTest(unittest.TestCase):
    def test_describes_a_parser_and_its_settings(self):
        d = plugin.describe()
        self.assertEqual((d.name, d.kind), ("{{name}}", types.PluginKind.PARSER))
        self.assertEqual([(s.name, s.default) for s in d.settings], [("delimiter", '","')])

    def test_settings_are_checked_against_the_table(self):
        self.assertEqual(Settings.from_pairs(plugin.SETTINGS, {"delimiter": "\\t"})["delimiter"], "\t")
        with self.assertRaises(PluginError) as e:
            Settings.from_pairs(plugin.SETTINGS, {"delimter": ";"})
        self.assertEqual(
            e.exception.message,
            "unknown setting `delimter` (did you mean `delimiter`?); this plugin takes: delimiter",
        )
        with self.assertRaises(PluginError):
            Settings.from_pairs(plugin.SETTINGS, {"delimiter": ";;"})

    def test_a_delimiter_that_can_be_in_a_score_is_refused(self):
        self.assertEqual(plugin.from_settings(Settings.from_pairs(plugin.SETTINGS, {"delimiter": ";"})).delimiter, ";")
        for bad in [".", "-", "e", "1"]:
            with self.assertRaises(PluginError) as e:
                plugin.from_settings(Settings.from_pairs(plugin.SETTINGS, {"delimiter": bad}))
            self.assertEqual(
                (e.exception.code, e.exception.message),
                ("invalid_setting", f"setting `delimiter` = `{bad}`: expected a character that cannot be part of a score"),
            )


if __name__ == "__main__":
    unittest.main()
