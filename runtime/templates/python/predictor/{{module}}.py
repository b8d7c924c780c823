"""{{name}}: scores rows with a linear or logistic model learned elsewhere, as the built-in
predictor-linear does. The model is the package artifact `model.json`, mounted read-only at
`/model`:

    {"kind": "logistic", "intercept": -1.5,
     "weights": {"tenure_months": -0.06, "monthly_charges": 0.035},
     "threshold": 0.5, "labels": ["stay", "churn"]}

Output columns: `score` (float64: `intercept + Σ weight·feature`, through the logistic
function `1 / (1 + e^-s)` for `"logistic"`) and `label` (utf8: `labels[0]` below the
threshold, `labels[1]` at or above it) when `labels` are given. Features are top-level columns
of int32, int64, float32, float64 or boolean (true is 1). A row with a null feature gets null
outputs; a missing feature column is a `missing_feature` error naming it. No settings.

The plugin's own logic, free of WIT calls: `test_{{module}}.py` runs it on plain CPython.
"""

import json
import math

from ferry_guest import PluginError, columns, describe as description

NAME = "{{name}}"
VERSION = "0.1.0"
MODEL_PATH = "/model/model.json"

# Every setting the plugin takes: none, the model is the package's.
SETTINGS = []

NUMERIC = {"int32", "int64", "float32", "float64", "boolean"}
FIELDS = {"kind", "intercept", "weights", "threshold", "labels"}


def describe():
    return description(
        "predictor",
        NAME,
        VERSION,
        "a linear or logistic model whose coefficients are a package artifact (model.json)",
        SETTINGS,
    )


class Model:
    def __init__(self, kind, weights, intercept=0.0, threshold=0.5, labels=None):
        self.kind = kind
        self.weights = dict(weights)
        self.intercept = float(intercept)
        self.threshold = float(threshold)
        self.labels = labels

    @staticmethod
    def load(path=MODEL_PATH):
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            raise PluginError("model_missing", f"cannot read the model artifact {path}: {e}") from None
        return Model.parse(text)

    @staticmethod
    def parse(text):
        def bad(message):
            return PluginError("invalid_model", f"model.json: {message}")

        try:
            spec = json.loads(text)
        except ValueError as e:
            raise bad(str(e)) from None
        if not isinstance(spec, dict):
            raise bad("expected an object")
        unknown = sorted(set(spec) - FIELDS)
        if unknown:
            raise bad(f"unknown field `{unknown[0]}`, expected one of {', '.join(sorted(FIELDS))}")
        if spec.get("kind") not in ("linear", "logistic"):
            raise bad('`kind` must be "linear" or "logistic"')
        weights = spec.get("weights")
        if not isinstance(weights, dict) or not all(
            isinstance(w, (int, float)) and not isinstance(w, bool) for w in weights.values()
        ):
            raise bad("`weights` must be an object of column → number")
        for field in ("intercept", "threshold"):
            value = spec.get(field, 0)
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise bad(f"`{field}` must be a number")
        labels = spec.get("labels")
        if labels is not None and (
            not isinstance(labels, list) or len(labels) != 2 or not all(isinstance(l, str) for l in labels)
        ):
            raise bad("`labels` must be two strings: [below the threshold, at or above it]")
        return Model(
            spec["kind"],
            weights,
            spec.get("intercept", 0.0),
            spec.get("threshold", 0.5),
            labels,
        )

    def scores(self, features, rows):
        """The score of each of `rows` rows from `features` (column name → list of values,
        `None` for null): `None` where a feature is null. The sum runs over the weights in
        name order, as predictor-linear's does, so both give the very same floats."""
        sums = [self.intercept] * rows
        for name in sorted(self.weights):
            weight = self.weights[name]
            sums = [
                None if s is None or x is None else s + weight * float(x)
                for s, x in zip(sums, features[name])
            ]
        if self.kind == "logistic":
            return [None if s is None else logistic(s) for s in sums]
        return sums

    def predict(self, batch):
        """The output batch for an input batch, row for row."""
        top = {c.name: c for c in columns.top_level(batch)}
        for name in self.weights:
            if name not in top:
                raise PluginError("missing_feature", f"input has no column `{name}`")
            kind = columns.kind_of(top[name])
            if kind is None or kind.name not in NUMERIC:
                raise PluginError("invalid_feature", f"feature `{name}` must be numeric or boolean")
        features = {name: columns.column_values(batch, name) for name in self.weights}
        scores = self.scores(features, batch.num_rows)
        out = [columns.float64("score", scores)]
        if self.labels is not None:
            below, above = self.labels
            labels = [None if s is None else above if s >= self.threshold else below for s in scores]
            out.append(columns.utf8("label", labels))
        return columns.batch(batch.row_numbers, out)


def logistic(s):
    """`1 / (1 + e^-s)`, as predictor-linear computes it (0 where e^-s overflows)."""
    try:
        return 1.0 / (1.0 + math.exp(-s))
    except OverflowError:
        return 0.0
