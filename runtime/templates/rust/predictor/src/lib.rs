//! `{{name}}`: a ferry predictor. It scores rows with a linear or logistic model learned
//! elsewhere, as the built-in predictor-linear does. The model is the package artifact
//! `model.json`, mounted read-only at `/model` (here: `model/model.json`):
//!
//! ```json
//! { "kind": "logistic", "intercept": -1.5,
//!   "weights": { "tenure_months": -0.06, "monthly_charges": 0.035 },
//!   "threshold": 0.5, "labels": ["stay", "churn"] }
//! ```
//!
//! Output columns: `score` (float64: `intercept + Σ weight·feature`, through the logistic
//! function `1 / (1 + e^-s)` for `"logistic"`) and `label` (utf8: `labels[0]` below the
//! threshold, `labels[1]` at or above it) when `labels` are given. Features are top-level
//! columns of int32, int64, float32, float64 or boolean (true is 1). A row with a null feature
//! gets null outputs; a missing feature column is a `missing_feature` error naming it. No
//! settings.
//!
//! Build and try it: `ferry plugin build`, then
//! `ferry plugin test build/{{module}}.wasm --input sample/predict.json --model model`.

use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::path::Path;

use ferry_guest::about::Setting;
use ferry_guest::columns::is_valid;
use ferry_guest::types::{Batch, Column, ColumnValues, Description, Error};
use ferry_guest::{ColumnBuilder, Kind, Settings, batch, error, nested};
use serde::Deserialize;

// Bindings for the world this component implements (`wit/` holds the WIT package). The shared
// types and host functions come from ferry-guest, so its helpers build them directly.
wit_bindgen::generate!({
    world: "predictor-plugin",
    path: "wit",
    with: {
        "ferry:plugin/types@{{wit_version}}": ferry_guest::types,
        "ferry:plugin/host@{{wit_version}}": ferry_guest::host,
    },
});

use exports::ferry::plugin::{about, predictor};

/// Every setting the plugin takes: none, the model is the package's.
const SETTINGS: &[Setting] = &[];

/// Where the host mounts the endpoint's artifacts.
const MODEL_PATH: &str = "/model/model.json";

thread_local! {
    // Loaded by the instance's first `predict`, and kept for its next calls.
    static MODEL: OnceCell<Result<Model, Error>> = const { OnceCell::new() };
}

struct Plugin;

impl about::Guest for Plugin {
    fn describe() -> Description {
        ferry_guest::describe!(
            Predictor,
            "a linear or logistic model whose coefficients are a package artifact (model.json)",
            SETTINGS
        )
    }
}

impl predictor::Guest for Plugin {
    fn predict(input: Batch) -> Result<Batch, Error> {
        MODEL.with(|cell| {
            let model = cell.get_or_init(|| {
                Settings::load(SETTINGS)?; // none: any setting is refused
                Model::load(Path::new(MODEL_PATH))
            });
            model.as_ref().map_err(Clone::clone)?.predict(&input)
        })
    }
}

export!(Plugin);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Link {
    Linear,
    Logistic,
}

/// `model.json`: any other field is refused, so a misspelt one is not silently ignored.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Model {
    kind: Link,
    #[serde(default)]
    intercept: f64,
    /// Feature column → weight; in name order, which is the order of the sum.
    weights: BTreeMap<String, f64>,
    #[serde(default = "half")]
    threshold: f64,
    /// `[below, at or above]` the threshold.
    labels: Option<[String; 2]>,
}

fn half() -> f64 {
    0.5
}

impl Model {
    fn load(path: &Path) -> Result<Model, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            let message = format!("cannot read the model artifact {}: {e}", path.display());
            error("model_missing", message)
        })?;
        Model::parse(&text)
    }

    fn parse(text: &str) -> Result<Model, Error> {
        serde_json::from_str(text).map_err(|e| error("invalid_model", format!("model.json: {e}")))
    }

    /// The outputs for `input`, row for row (its row numbers echoed).
    fn predict(&self, input: &Batch) -> Result<Batch, Error> {
        let rows = input.num_rows as usize;
        let mut sums = vec![Some(self.intercept); rows];
        for (name, weight) in &self.weights {
            // Only a top-level column is a feature: a struct's field of the same name is not.
            let column = nested::top_level(&input.columns)
                .map(|(column, _)| column)
                .find(|c| &c.name == name)
                .ok_or_else(|| error("missing_feature", format!("input has no column `{name}`")))?;
            for (sum, x) in sums.iter_mut().zip(feature(column, rows)?) {
                *sum = sum.zip(x).map(|(s, x)| s + weight * x);
            }
        }
        let mut score = ColumnBuilder::with_capacity("score", Kind::Float64, rows);
        let mut label = self
            .labels
            .as_ref()
            .map(|labels| (labels, ColumnBuilder::with_capacity("label", Kind::Utf8, rows)));
        for sum in sums {
            let value = sum.map(|s| match self.kind {
                Link::Linear => s,
                Link::Logistic => 1.0 / (1.0 + (-s).exp()),
            });
            match value {
                Some(value) => score.push_f64(value),
                None => score.push_null(),
            }
            if let Some((labels, column)) = label.as_mut() {
                match value {
                    Some(value) => column.push_str(&labels[usize::from(value >= self.threshold)]),
                    None => column.push_null(),
                }
            }
        }
        let mut columns = vec![score.finish()];
        columns.extend(label.map(|(_, column)| column.finish()));
        Ok(batch(input.row_numbers.clone(), columns))
    }
}

/// The values of a feature column as numbers, `None` where null.
fn feature(column: &Column, rows: usize) -> Result<Vec<Option<f64>>, Error> {
    let values: Vec<f64> = match &column.values {
        ColumnValues::Float64(v) => v.clone(),
        ColumnValues::Float32(v) => v.iter().map(|x| f64::from(*x)).collect(),
        ColumnValues::Int64(v) => v.iter().map(|x| *x as f64).collect(),
        ColumnValues::Int32(v) => v.iter().map(|x| f64::from(*x)).collect(),
        ColumnValues::Boolean(v) => v.iter().map(|b| f64::from(u8::from(*b))).collect(),
        _ => {
            let message = format!("feature `{}` must be numeric or boolean", column.name);
            return Err(error("invalid_feature", message));
        }
    };
    Ok((0..rows).map(|i| values.get(i).copied().filter(|_| is_valid(column, i))).collect())
}

// Unit tests of the model and the arithmetic run natively: `cargo test`.
#[cfg(test)]
mod tests {
    use super::*;
    use ferry_guest::batch_json;
    use ferry_guest::types::PluginKind;
    use serde_json::{Value, json};

    fn sample_model() -> Model {
        Model::load(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/model/model.json"))).unwrap()
    }

    /// A batch of `tenure_months` (int64) and `monthly_charges` (float64), `None` for null.
    fn customers(rows: &[(Option<i64>, Option<f64>)]) -> Batch {
        let mut tenure = ColumnBuilder::new("tenure_months", Kind::Int64);
        let mut monthly = ColumnBuilder::new("monthly_charges", Kind::Float64);
        for (t, m) in rows {
            match t {
                Some(t) => tenure.push_i64(*t),
                None => tenure.push_null(),
            }
            match m {
                Some(m) => monthly.push_f64(*m),
                None => monthly.push_null(),
            }
        }
        batch((1..=rows.len() as u64).collect(), vec![tenure.finish(), monthly.finish()])
    }

    #[test]
    fn scores_and_labels_are_the_formula() {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/sample/predict.json"));
        let body: Value = serde_json::from_str(&text.unwrap()).unwrap();
        let rows: Vec<(Option<i64>, Option<f64>)> = body["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["tenure_months"].as_i64(), r["monthly_charges"].as_f64()))
            .collect();
        let out = sample_model().predict(&customers(&rows)).unwrap();
        assert_eq!(out.row_numbers, [1, 2, 3]);
        // The formula written out, the sum in weight-name order as the model adds it.
        let expected: Vec<Value> = rows
            .iter()
            .map(|(t, m)| {
                let s = -1.5 + 0.035 * m.unwrap() + -0.06 * t.unwrap() as f64;
                let score = 1.0 / (1.0 + (-s).exp());
                json!({ "score": score, "label": if score >= 0.5 { "churn" } else { "stay" } })
            })
            .collect();
        assert_eq!(batch_json::rows(&out), expected);
        assert_eq!(expected[0]["label"], "churn", "2 months at 110.0 a month");
    }

    #[test]
    fn a_null_feature_gives_null_outputs() {
        let out = sample_model()
            .predict(&customers(&[(Some(1), Some(100.0)), (None, Some(50.0)), (Some(60), None)]))
            .unwrap();
        let rows = batch_json::rows(&out);
        assert_eq!(rows[0]["label"], "churn");
        assert_eq!(rows[1..], vec![json!({ "score": null, "label": null }); 2]);
    }

    #[test]
    fn narrow_numbers_and_booleans_are_features_too() {
        let model = Model::parse(
            r#"{"kind": "linear", "intercept": 1, "weights": {"a": 2, "b": 4, "c": 8}}"#,
        )
        .unwrap();
        let (mut a, mut b, mut c) = (
            ColumnBuilder::new("a", Kind::Int32),
            ColumnBuilder::new("b", Kind::Float32),
            ColumnBuilder::new("c", Kind::Boolean),
        );
        a.push_i32(10);
        a.push_null();
        b.push_f32(0.5);
        b.push_f32(2.0);
        c.push_bool(true);
        c.push_bool(false);
        let out = model.predict(&batch(vec![4, 9], vec![a.finish(), b.finish(), c.finish()]));
        let out = out.unwrap();
        assert_eq!(out.row_numbers, [4, 9]);
        assert_eq!(batch_json::rows(&out), [json!({ "score": 31.0 }), json!({ "score": null })]);
    }

    #[test]
    fn missing_and_bad_features_are_named() {
        let mut tenure = ColumnBuilder::new("tenure_months", Kind::Int64);
        tenure.push_i64(1);
        let e = sample_model().predict(&batch(vec![1], vec![tenure.clone().finish()])).unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("missing_feature", "input has no column `monthly_charges`")
        );
        let mut text = ColumnBuilder::new("monthly_charges", Kind::Utf8);
        text.push_str("x");
        let input = batch(vec![1], vec![tenure.finish(), text.finish()]);
        let e = sample_model().predict(&input).unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("invalid_feature", "feature `monthly_charges` must be numeric or boolean")
        );
    }

    #[test]
    fn bad_models_are_refused() {
        for (text, message) in [
            ("{", "model.json: EOF while parsing"),
            (r#"{"kind": "tree", "weights": {}}"#, "model.json: unknown variant `tree`"),
            (r#"{"kind": "linear", "weights": {}, "bias": 1}"#, "model.json: unknown field `bias`"),
            (r#"{"kind": "linear", "weights": {"a": "x"}}"#, "model.json: invalid type"),
            (
                r#"{"kind": "linear", "weights": {}, "labels": ["a"]}"#,
                "model.json: invalid length 1",
            ),
        ] {
            let e = Model::parse(text).unwrap_err();
            assert_eq!(e.code, "invalid_model");
            assert!(e.message.starts_with(message), "{}", e.message);
        }
        let e = Model::load(Path::new("/no/such/model.json")).unwrap_err();
        assert_eq!(e.code, "model_missing");
    }

    #[test]
    fn describes_a_predictor_with_no_settings() {
        let d = <Plugin as about::Guest>::describe();
        assert_eq!((d.name.as_str(), d.kind), ("{{name}}", PluginKind::Predictor));
        assert!(d.settings.is_empty());
        assert!(Settings::from_pairs(SETTINGS, &[("threshold", "0.7")]).is_err());
    }
}
