import unittest

from ferry_guest import PluginError, Setting, Settings, describe, types
from ferry_guest.settings import edit_distance
from ferry_guest.testing import fake_host

KNOWN = [
    Setting("delimiter", "character", default=",", doc="between fields"),
    Setting("header", "boolean", default=True, doc="a header line"),
    Setting("batch_size", "integer", default=8192, doc="rows per batch"),
    Setting("input_schema", "table", doc="declared types"),
]


def settings(pairs):
    return Settings.from_pairs(KNOWN, pairs)


class SettingsTest(unittest.TestCase):
    def error(self, pairs, known=KNOWN):
        with self.assertRaises(PluginError) as e:
            Settings.from_pairs(known, pairs)
        self.assertEqual(e.exception.code, "invalid_setting")
        return e.exception.message

    def test_edit_distance_counts_single_edits(self):
        self.assertEqual(edit_distance("delimter", "delimiter"), 1)
        self.assertEqual(edit_distance("header", "header"), 0)
        self.assertEqual(edit_distance("", "abc"), 3)
        self.assertEqual(edit_distance("headr", "hader"), 2)

    def test_unknown_names_are_refused_with_a_suggestion(self):
        self.assertEqual(
            self.error({"delimter": ";", "header": "true"}),
            "unknown setting `delimter` (did you mean `delimiter`?); "
            "this plugin takes: delimiter, header, batch_size, input_schema",
        )
        self.assertTrue(
            self.error({"colour": "red", "batchsize": "9"}).startswith(
                "unknown settings `batchsize` (did you mean `batch_size`?), `colour`;"
            )
        )
        self.assertEqual(self.error({"x": "1"}, known=[]), "unknown setting `x`; this plugin takes no settings")

    def test_defaults_hold_when_not_given(self):
        s = settings({})
        self.assertEqual(s["delimiter"], ",")
        self.assertIs(s["header"], True)
        self.assertEqual(s["batch_size"], 8192)
        self.assertIsNone(s["input_schema"])
        self.assertEqual(s.get("input_schema", {}), {})
        self.assertFalse(s.given("delimiter"))
        self.assertEqual(s.schema("input_schema"), [])

    def test_values_are_typed(self):
        s = settings({"header": "FALSE", "batch_size": "100", "delimiter": "\\t"})
        self.assertIs(s["header"], False)
        self.assertEqual(s["batch_size"], 100)
        self.assertEqual(s.positive("batch_size"), 100)
        self.assertEqual(s["delimiter"], "\t")
        self.assertTrue(s.given("delimiter"))
        self.assertEqual(s.text("delimiter"), "\\t")
        self.assertEqual(settings({"delimiter": "\t"})["delimiter"], "\t")
        self.assertEqual(settings({"header": False})["header"], False)

    def test_bad_values_name_the_setting_and_the_value(self):
        self.assertEqual(self.error({"header": "yes"}), "setting `header` = `yes`: expected true or false")
        self.assertEqual(self.error({"batch_size": "ten"}), "setting `batch_size` = `ten`: expected a whole number")
        self.assertTrue(self.error({"delimiter": ";;"}).startswith("setting `delimiter` = `;;`: expected a single ASCII character"))
        self.assertTrue(self.error({"delimiter": "é"}).startswith("setting `delimiter` = `é`"))
        self.assertEqual(self.error({"input_schema": "[1]"}), "setting `input_schema` = `[1]`: expected a table")
        with self.assertRaises(PluginError) as e:
            settings({"batch_size": "0"}).positive("batch_size")
        self.assertEqual(e.exception.message, "setting `batch_size` = `0`: expected a whole number of at least 1")

    def test_required_settings_must_be_given(self):
        known = [Setting("root", "string", required=True, doc="where the files are")]
        self.assertEqual(self.error({}, known=known), "the `root` setting is required (where the files are)")
        self.assertEqual(self.error({"root": "  "}, known=known), "the `root` setting is required (where the files are)")
        self.assertEqual(Settings.from_pairs(known, {"root": "/data"})["root"], "/data")

    def test_numbers_take_integers_and_floats(self):
        known = [Setting("rate", "number", default=0.5)]
        self.assertEqual(Settings.from_pairs(known, {})["rate"], 0.5)
        self.assertEqual(Settings.from_pairs(known, {"rate": "2"})["rate"], 2.0)
        self.assertEqual(Settings.from_pairs(known, {"rate": "-1e3"})["rate"], -1000.0)
        self.assertEqual(self.error({"rate": "fast"}, known=known), "setting `rate` = `fast`: expected a number")

    def test_reading_an_undeclared_setting_is_a_bug(self):
        with self.assertRaisesRegex(KeyError, "setting `colour` is read but not in the plugin's settings table"):
            settings({})["colour"]

    def test_schemas_arrive_as_json(self):
        s = settings({"input_schema": '{"score":"float64","id":"string","price":"decimal(10,2)"}'})
        self.assertEqual(
            [(c, str(k)) for c, k in s.schema("input_schema")],
            [("score", "float64"), ("id", "utf8"), ("price", "decimal(10,2)")],
        )
        with self.assertRaises(PluginError) as e:
            settings({"input_schema": '{"score":"float"}'}).schema("input_schema")
        self.assertEqual(
            e.exception.message,
            'setting `input_schema`: column `score` has type "float", expected one of utf8, '
            "string, boolean, int32, int64, float32, float64, date, date32, timestamp, "
            "decimal(p,s) (p 1 to 38, s 0 to p)",
        )

    def test_load_reads_the_host(self):
        with fake_host({"delimiter": ";", "batch_size": "10"}):
            s = Settings.load(KNOWN)
        self.assertEqual((s["delimiter"], s["batch_size"]), (";", 10))
        with fake_host({"delimitr": ";"}):
            with self.assertRaises(PluginError):
                Settings.load(KNOWN)

    def test_a_table_refuses_what_it_cannot_mean(self):
        with self.assertRaises(ValueError):
            Setting("x", "colour")
        with self.assertRaises(ValueError):
            Setting("x", "table", default="{}")
        with self.assertRaises(ValueError):
            Setting("x", "string", default="a", required=True)


class DescribeTest(unittest.TestCase):
    def test_describes_every_setting_with_toml_defaults(self):
        d = describe(
            "parser",
            "parser-x",
            "1.2.3",
            "does x",
            [
                Setting("bucket", "string", required=True, doc="the bucket to read"),
                Setting("delimiter", "character", default="\t", doc="between fields"),
                Setting("region", "string", default="us-east-1", doc="the region"),
                Setting("header", "bool", default=True, doc="a header line"),
                Setting("input_schema", "table", doc="declared types"),
                Setting("retries", "int", default=5, doc="attempts"),
                Setting("rate", "float", default=0.25),
            ],
        )
        self.assertEqual(
            (d.name, d.version, d.kind, d.summary),
            ("parser-x", "1.2.3", types.PluginKind.PARSER, "does x"),
        )
        T = types.SettingType
        self.assertEqual(
            [(s.name, s.type, s.required, s.default) for s in d.settings],
            [
                ("bucket", T.STRING, True, None),
                ("delimiter", T.CHARACTER, False, '"\\t"'),
                ("region", T.STRING, False, '"us-east-1"'),
                ("header", T.BOOLEAN, False, "true"),
                ("input_schema", T.TABLE, False, None),
                ("retries", T.INTEGER, False, "5"),
                ("rate", T.NUMBER, False, "0.25"),
            ],
        )
        self.assertEqual(d.settings[0].doc, "the bucket to read")

    def test_quotes_and_backslashes_are_escaped(self):
        d = describe("source", "s", "0.1.0", "", [Setting("q", "char", default='"'), Setting("p", default="C:\\data")])
        self.assertEqual([s.default for s in d.settings], ['"\\""', '"C:\\\\data"'])
        self.assertEqual(d.kind, types.PluginKind.SOURCE)

    def test_unknown_kinds_are_refused(self):
        with self.assertRaises(ValueError):
            describe("scorer", "x", "0.1.0", "")


if __name__ == "__main__":
    unittest.main()
