//! The model file and the arithmetic, plain Rust so it is tested natively.

use std::collections::BTreeMap;
use std::path::Path;

use ferry_guest::types::{Batch, ColumnValues, Error};
use ferry_guest::{ColumnBuilder, Kind, batch, error};
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Link {
    Linear,
    Logistic,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Model {
    pub kind: Link,
    #[serde(default)]
    pub intercept: f64,
    pub weights: BTreeMap<String, f64>,
    #[serde(default = "half")]
    pub threshold: f64,
    /// `[below, at or above]` the threshold.
    pub labels: Option<[String; 2]>,
}

fn half() -> f64 {
    0.5
}

impl Model {
    pub fn load(path: &Path) -> Result<Model, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            error(
                "model_missing",
                format!("cannot read the model artifact {}: {e}", path.display()),
            )
        })?;
        Model::parse(&text)
    }

    pub fn parse(text: &str) -> Result<Model, Error> {
        serde_json::from_str(text).map_err(|e| error("invalid_model", format!("model.json: {e}")))
    }

    pub fn predict(&self, input: &Batch) -> Result<Batch, Error> {
        let rows = input.num_rows as usize;
        let mut sums: Vec<Option<f64>> = vec![Some(self.intercept); rows];
        for (feature, weight) in &self.weights {
            let column = input
                .columns
                .iter()
                .find(|c| &c.name == feature)
                .ok_or_else(|| {
                    error(
                        "missing_feature",
                        format!("input has no column `{feature}`"),
                    )
                })?;
            let valid = |i: usize| {
                column
                    .validity
                    .as_ref()
                    .is_none_or(|bits| bits.get(i / 8).is_some_and(|b| b & (1 << (i % 8)) != 0))
            };
            for (i, sum) in sums.iter_mut().enumerate() {
                let value = match &column.values {
                    ColumnValues::Float64(v) => v.get(i).copied(),
                    ColumnValues::Int64(v) => v.get(i).map(|x| *x as f64),
                    ColumnValues::Boolean(v) => v.get(i).map(|b| f64::from(u8::from(*b))),
                    _ => {
                        return Err(error(
                            "invalid_feature",
                            format!("feature `{feature}` must be numeric or boolean"),
                        ));
                    }
                };
                *sum = match (*sum, value, valid(i)) {
                    (Some(s), Some(x), true) => Some(s + weight * x),
                    _ => None,
                };
            }
        }
        let mut score = ColumnBuilder::with_capacity("score", Kind::Float64, rows);
        let mut label = self
            .labels
            .as_ref()
            .map(|_| ColumnBuilder::with_capacity("label", Kind::Utf8, rows));
        for sum in sums {
            match sum {
                None => {
                    score.push_null();
                    if let Some(l) = label.as_mut() {
                        l.push_null();
                    }
                }
                Some(s) => {
                    let value = match self.kind {
                        Link::Linear => s,
                        Link::Logistic => 1.0 / (1.0 + (-s).exp()),
                    };
                    score.push_f64(value);
                    if let (Some(l), Some(labels)) = (label.as_mut(), &self.labels) {
                        l.push_str(&labels[usize::from(value >= self.threshold)]);
                    }
                }
            }
        }
        let mut columns = vec![score.finish()];
        columns.extend(label.map(ColumnBuilder::finish));
        Ok(batch(input.row_numbers.clone(), columns))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> Batch {
        let mut tenure = ColumnBuilder::new("tenure", Kind::Int64);
        tenure.push_i64(1);
        tenure.push_null();
        tenure.push_i64(60);
        let mut monthly = ColumnBuilder::new("monthly", Kind::Float64);
        for v in [100.0, 50.0, 20.0] {
            monthly.push_f64(v);
        }
        batch(vec![1, 2, 3], vec![tenure.finish(), monthly.finish()])
    }

    #[test]
    fn logistic_scores_and_labels() {
        let model = Model::parse(
            r#"{"kind":"logistic","intercept":-1,"weights":{"tenure":-0.1,"monthly":0.02},"labels":["stay","churn"]}"#,
        )
        .unwrap();
        let out = model.predict(&input()).unwrap();
        assert_eq!(out.num_rows, 3);
        let ColumnValues::Float64(scores) = &out.columns[0].values else {
            panic!()
        };
        let expected = 1.0 / (1.0 + (-(-1.0 - 0.1 + 2.0_f64)).exp());
        assert!((scores[0] - expected).abs() < 1e-12);
        assert_eq!(out.columns[0].validity.as_deref(), Some(&[0b101u8][..]));
        let ColumnValues::Utf8(labels) = &out.columns[1].values else {
            panic!()
        };
        let text = String::from_utf8(labels.bytes.clone()).unwrap();
        assert_eq!(text, "churnstay");
    }

    #[test]
    fn a_missing_feature_is_named() {
        let model = Model::parse(r#"{"kind":"linear","weights":{"age":1}}"#).unwrap();
        let e = model.predict(&input()).unwrap_err();
        assert_eq!(e.code, "missing_feature");
        assert!(e.message.contains("age"));
        assert!(Model::parse(r#"{"kind":"cubic","weights":{}}"#).is_err());
    }
}
