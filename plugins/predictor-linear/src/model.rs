//! The model file and the arithmetic, plain Rust so it is tested natively.

use std::collections::BTreeMap;
use std::path::Path;

use ferry_guest::columns::is_valid;
use ferry_guest::types::{Batch, ColumnValues, Error};
use ferry_guest::{ColumnBuilder, Kind, batch, error, nested};
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
            // Only a top-level column is a feature: a struct's field of the same name is not.
            let column = nested::top_level(&input.columns)
                .map(|(column, _)| column)
                .find(|c| &c.name == feature)
                .ok_or_else(|| {
                    error(
                        "missing_feature",
                        format!("input has no column `{feature}`"),
                    )
                })?;
            for (i, sum) in sums.iter_mut().enumerate() {
                let value = match &column.values {
                    ColumnValues::Float64(v) => v.get(i).copied(),
                    ColumnValues::Float32(v) => v.get(i).map(|x| f64::from(*x)),
                    ColumnValues::Int64(v) => v.get(i).map(|x| *x as f64),
                    ColumnValues::Int32(v) => v.get(i).map(|x| f64::from(*x)),
                    ColumnValues::Boolean(v) => v.get(i).map(|b| f64::from(u8::from(*b))),
                    _ => {
                        return Err(error(
                            "invalid_feature",
                            format!("feature `{feature}` must be numeric or boolean"),
                        ));
                    }
                };
                *sum = match (*sum, value, is_valid(column, i)) {
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
    fn narrow_numbers_are_features_too() {
        let mut tenure = ColumnBuilder::new("tenure", Kind::Int32);
        tenure.push_i32(10);
        tenure.push_null();
        let mut monthly = ColumnBuilder::new("monthly", Kind::Float32);
        monthly.push_f32(0.5);
        monthly.push_f32(2.0);
        let input = batch(vec![4, 9], vec![tenure.finish(), monthly.finish()]);
        let model =
            Model::parse(r#"{"kind":"linear","intercept":1,"weights":{"tenure":2,"monthly":4}}"#)
                .unwrap();
        let out = model.predict(&input).unwrap();
        assert_eq!(out.row_numbers, [4, 9]);
        assert_eq!(
            out.columns[0].values,
            ColumnValues::Float64(vec![23.0, 0.0])
        );
        assert_eq!(out.columns[0].validity, Some(vec![0b01]));
    }

    #[test]
    fn a_struct_field_is_no_feature() {
        let mut field = ColumnBuilder::new("age", Kind::Int64);
        field.push_i64(40);
        let mut valid = ferry_guest::columns::Validity::default();
        valid.push(true);
        let mut columns = nested::structure("profile", valid, vec![vec![field.finish()]]);
        let mut age = ColumnBuilder::new("age_years", Kind::Int64);
        age.push_i64(3);
        columns.push(age.finish());
        let input = batch(vec![1], columns);
        let model = Model::parse(r#"{"kind":"linear","weights":{"age":1}}"#).unwrap();
        assert_eq!(model.predict(&input).unwrap_err().code, "missing_feature");
        let model = Model::parse(r#"{"kind":"linear","weights":{"profile":1}}"#).unwrap();
        let e = model.predict(&input).unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            (
                "invalid_feature",
                "feature `profile` must be numeric or boolean"
            )
        );
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
