"""Unit tests of {{name}}'s logic on plain CPython, on a temporary directory:

    PYTHONPATH=<dir holding ferry_guest> python3 -m unittest -v test_{{module}}

(`ferry_guest.testing.bindings` generates the WIT bindings from `wit/` once, with
componentize-py, so `wit_world` imports here as it does in the component.)
"""

import os
import tempfile
import unittest

from ferry_guest import testing

HERE = os.path.dirname(os.path.abspath(__file__))
testing.bindings(os.path.join(HERE, "wit"), "source-plugin")

import {{module}} as plugin  # noqa: E402
from ferry_guest import PluginError, Settings, types  # noqa: E402


class Files:
    """A temporary directory holding `files` (key → text)."""

    def __init__(self, files):
        self.dir = tempfile.TemporaryDirectory()
        for key, text in files.items():
            path = os.path.join(self.dir.name, key)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)

    def config(self, **settings):
        return plugin.from_settings(Settings.from_pairs(plugin.SETTINGS, {"root": self.dir.name, **settings}))


FILES = {"b.csv": "bb", "a/2.csv": "2", "a/1.csv": "1", "a/sub/x.txt": "x", ".git/config": "", "a/.tmp": ""}


def all_keys(config, prefix=""):
    keys, cursor = [], None
    while True:
        objects, cursor = plugin.list_page(config, prefix, cursor)
        keys.extend(o.key for o in objects)
        if cursor is None:
            return keys


class ListTest(unittest.TestCase):
    def setUp(self):
        self.files = Files(FILES)

    def tearDown(self):
        self.files.dir.cleanup()

    def test_keys_are_sorted_paths_without_hidden_names(self):
        self.assertEqual(all_keys(self.files.config()), ["a/1.csv", "a/2.csv", "a/sub/x.txt", "b.csv"])
        hidden = all_keys(self.files.config(include_hidden=True))
        self.assertEqual(hidden, [".git/config", "a/.tmp", "a/1.csv", "a/2.csv", "a/sub/x.txt", "b.csv"])

    def test_pages_follow_the_cursor(self):
        config = self.files.config(page_size=3)
        first, cursor = plugin.list_page(config, "", None)
        self.assertEqual(([o.key for o in first], cursor), (["a/1.csv", "a/2.csv", "a/sub/x.txt"], "a/sub/x.txt"))
        second, cursor = plugin.list_page(config, "", cursor)
        self.assertEqual(([o.key for o in second], cursor), (["b.csv"], None))

    def test_a_prefix_narrows_the_walk(self):
        self.assertEqual(all_keys(self.files.config(), "a/s"), ["a/sub/x.txt"])
        self.assertEqual(all_keys(self.files.config(), "a/"), ["a/1.csv", "a/2.csv", "a/sub/x.txt"])
        self.assertEqual(all_keys(self.files.config(), "zzz"), [])

    def test_objects_carry_size_etag_and_time(self):
        objects, _ = plugin.list_page(self.files.config(), "b", None)
        (b,) = objects
        self.assertIsInstance(b, types.ObjectInfo)
        self.assertEqual((b.key, b.size), ("b.csv", 2))
        self.assertTrue(b.etag.startswith("2-"))
        self.assertRegex(b.last_modified, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

    def test_a_root_that_is_not_granted_is_named(self):
        config = plugin.Config(root=os.path.join(self.files.dir.name, "nope"))
        with self.assertRaises(PluginError) as e:
            plugin.list_page(config, "", None)
        self.assertEqual(e.exception.code, "not_found")
        self.assertIn("grant it to the step with `[steps.grants] dirs`", e.exception.message)


class ReadTest(unittest.TestCase):
    def setUp(self):
        self.files = Files({"a/data.bin": "0123456789"})
        self.config = self.files.config()

    def tearDown(self):
        self.files.dir.cleanup()

    def test_reads_ranges_and_stops_at_the_end(self):
        self.assertEqual(plugin.read(self.config, "a/data.bin", 0, 4), b"0123")
        self.assertEqual(plugin.read(self.config, "a/data.bin", 7, 100), b"789")
        self.assertEqual(plugin.read(self.config, "a/data.bin", 10, 5), b"")
        self.assertEqual(plugin.read(self.config, "a/data.bin", 50, 5), b"")

    def test_keys_stay_under_the_root(self):
        for key in ["../etc/passwd", "a/../a/data.bin", "/a/data.bin", "a//data.bin", "./a"]:
            with self.assertRaises(PluginError) as e:
                plugin.read(self.config, key, 0, 1)
            self.assertEqual(e.exception.code, "invalid_key", key)
        with self.assertRaises(PluginError) as e:
            plugin.read(self.config, "a/none.bin", 0, 1)
        self.assertEqual(e.exception.code, "not_found")


class AboutTest(unittest.TestCase):
    def test_describes_a_source_and_its_settings(self):
        d = plugin.describe()
        self.assertEqual((d.name, d.kind), ("{{name}}", types.PluginKind.SOURCE))
        self.assertEqual(
            [(s.name, s.default) for s in d.settings],
            [("root", '"/data"'), ("page_size", "1000"), ("include_hidden", "false")],
        )

    def test_bad_settings_are_refused(self):
        for pairs, message in [
            ({"page_size": "0"}, "setting `page_size` = `0`: expected a whole number of at least 1"),
            ({"root": "data"}, "setting `root` = `data`: expected an absolute path (the mount of a granted directory)"),
            ({"rooot": "/x"}, "unknown setting `rooot` (did you mean `root`?); this plugin takes: root, page_size, include_hidden"),
        ]:
            with self.assertRaises(PluginError) as e:
                plugin.from_settings(Settings.from_pairs(plugin.SETTINGS, pairs))
            self.assertEqual(e.exception.message, message)


if __name__ == "__main__":
    unittest.main()
