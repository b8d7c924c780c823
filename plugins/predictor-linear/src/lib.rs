//! `predictor-linear`: scores rows with a linear or logistic model learned elsewhere. The model
//! is the package artifact `model.json`, mounted read-only at `/model`:
//!
//! ```json
//! { "kind": "logistic", "intercept": -1.2, "weights": { "tenure": -0.05, "monthly": 0.03 },
//!   "threshold": 0.5, "labels": ["stay", "churn"] }
//! ```
//!
//! Output columns: `score` (float64: `w·x + b`, through the logistic function for
//! `"logistic"`), and `label` (utf8) when `labels` are given. A row with a null feature gets
//! null outputs; a missing feature column is an error naming it.

mod model;

use ferry_guest::types::{Batch, Error};

wit_bindgen::generate!({
    world: "predictor-plugin",
    path: "../../wit",
    with: {
        "ferry:plugin/types@0.1.0": ferry_guest::types,
        "ferry:plugin/host@0.1.0": ferry_guest::host,
    },
});

use exports::ferry::plugin::predictor::Guest;

thread_local! {
    static MODEL: std::cell::OnceCell<Result<model::Model, Error>> = const { std::cell::OnceCell::new() };
}

struct Linear;

impl Guest for Linear {
    fn predict(input: Batch) -> Result<Batch, Error> {
        MODEL.with(|cell| {
            let model = cell
                .get_or_init(|| model::Model::load(std::path::Path::new("/model/model.json")))
                .as_ref()
                .map_err(Clone::clone)?;
            model.predict(&input)
        })
    }
}

export!(Linear);
