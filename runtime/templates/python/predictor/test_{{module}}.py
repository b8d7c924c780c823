"""Unit tests of {{name}}'s logic on plain CPython, no component needed:

    PYTHONPATH=<dir holding ferry_guest> python3 -m unittest -v test_{{module}}

(`ferry_guest.testing.bindings` generates the WIT bindings from `wit/` once, with
componentize-py, so `wit_world` imports here as it does in the component.)
"""

import json
import math
import os
import unittest

from ferry_guest import testing

HERE = os.path.dirname(os.path.abspath(__file__))
testing.bindings(os.path.join(HERE, "wit"), "predictor-plugin")

import {{module}} as plugin  # noqa: E402
from ferry_guest import PluginError, Settings, columns, types  # noqa: E402

MODEL = os.path.join(HERE, "model", "model.json")


def expected_score(model, row):
    """The formula, written out: logistic(intercept + Σ weight × feature), the sum in
    weight-name order (as the plugin and predictor-linear add them)."""
    s = model["intercept"]
    for name, weight in sorted(model["weights"].items()):
        s += weight * row[name]
    return 1 / (1 + math.exp(-s)) if model["kind"] == "logistic" else s


def inputs(tenure, monthly):
    return columns.batch(
        range(1, len(tenure) + 1),
        [columns.int64("tenure_months", tenure), columns.float64("monthly_charges", monthly)],
    )


class PredictTest(unittest.TestCase):
    def setUp(self):
        with open(MODEL) as f:
            self.spec = json.load(f)
        self.model = plugin.Model.load(MODEL)

    def test_scores_and_labels_are_the_formula(self):
        with open(os.path.join(HERE, "sample", "predict.json")) as f:
            rows = json.load(f)["rows"]
        batch = inputs([r["tenure_months"] for r in rows], [r["monthly_charges"] for r in rows])
        out = columns.read_columns(self.model.predict(batch))
        want = [expected_score(self.spec, r) for r in rows]
        self.assertEqual(out["score"], want)
        self.assertEqual(out["label"], ["churn" if s >= self.spec["threshold"] else "stay" for s in want])
        self.assertEqual(out["label"][0], "churn")

    def test_a_null_feature_gives_null_outputs(self):
        out = self.model.predict(inputs([1, None, 60], [100.0, 50.0, None]))
        self.assertEqual(out.row_numbers, [1, 2, 3])
        self.assertEqual(out.columns[0].validity, bytes([0b001]))
        self.assertEqual(columns.read_columns(out)["label"][1:], [None, None])

    def test_narrow_numbers_and_booleans_are_features_too(self):
        model = plugin.Model.parse('{"kind": "linear", "intercept": 1, "weights": {"a": 2, "b": 4, "c": 8}}')
        batch = columns.batch(
            [4, 9],
            [columns.int32("a", [10, None]), columns.float32("b", [0.5, 2.0]), columns.boolean("c", [True, False])],
        )
        out = model.predict(batch)
        self.assertEqual(out.row_numbers, [4, 9])
        self.assertEqual(columns.read_columns(out), {"score": [31.0, None]})

    def test_missing_and_bad_features_are_named(self):
        with self.assertRaises(PluginError) as e:
            self.model.predict(columns.batch([1], [columns.int64("tenure_months", [1])]))
        self.assertEqual((e.exception.code, e.exception.message), ("missing_feature", "input has no column `monthly_charges`"))
        batch = columns.batch([1], [columns.int64("tenure_months", [1]), columns.utf8("monthly_charges", ["x"])])
        with self.assertRaises(PluginError) as e:
            self.model.predict(batch)
        self.assertEqual(e.exception.code, "invalid_feature")

    def test_bad_models_are_refused(self):
        for text, message in [
            ("{", "model.json: "),
            ('{"kind": "tree", "weights": {}}', 'model.json: `kind` must be "linear" or "logistic"'),
            ('{"kind": "linear", "weights": {}, "bias": 1}', "model.json: unknown field `bias`"),
            ('{"kind": "linear", "weights": {"a": "x"}}', "model.json: `weights` must be"),
            ('{"kind": "linear", "weights": {}, "labels": ["a"]}', "model.json: `labels` must be"),
        ]:
            with self.assertRaises(PluginError) as e:
                plugin.Model.parse(text)
            self.assertEqual(e.exception.code, "invalid_model")
            self.assertTrue(e.exception.message.startswith(message), e.exception.message)
        with self.assertRaises(PluginError) as e:
            plugin.Model.load(os.path.join(HERE, "no-such-model.json"))
        self.assertEqual(e.exception.code, "model_missing")


class AboutTest(unittest.TestCase):
    def test_describes_a_predictor_with_no_settings(self):
        d = plugin.describe()
        self.assertEqual((d.name, d.kind, d.settings), ("{{name}}", types.PluginKind.PREDICTOR, []))
        with self.assertRaises(PluginError):
            Settings.from_pairs(plugin.SETTINGS, {"threshold": "0.7"})


if __name__ == "__main__":
    unittest.main()
