//! `predictor-linear`: scores rows with a linear or logistic model learned elsewhere. The model
//! is the package artifact `model.json`, mounted read-only at `/model`:
//!
//! ```json
//! { "kind": "logistic", "intercept": -1.2, "weights": { "tenure": -0.05, "monthly": 0.03 },
//!   "threshold": 0.5, "labels": ["stay", "churn"] }
//! ```
//!
//! Output columns: `score` (float64: `w·x + b`, through the logistic function for
//! `"logistic"`), and `label` (utf8) when `labels` are given. Features are top-level
//! columns of int32, int64, float32, float64 or boolean. A row with a null feature gets null
//! outputs; a missing feature column is an error naming it. No settings.

mod model;

use ferry_guest::Settings;
use ferry_guest::about::Setting;
use ferry_guest::types::{Batch, Description, Error};

wit_bindgen::generate!({
    world: "predictor-plugin",
    path: "../../wit",
    with: {
        "ferry:plugin/types@0.2.0": ferry_guest::types,
        "ferry:plugin/host@0.2.0": ferry_guest::host,
    },
});

use exports::ferry::plugin::{about, predictor};

/// Every setting the plugin takes: none, the model is the package's.
const SETTINGS: &[Setting] = &[];

thread_local! {
    static MODEL: std::cell::OnceCell<Result<model::Model, Error>> = const { std::cell::OnceCell::new() };
}

struct Linear;

impl about::Guest for Linear {
    fn describe() -> Description {
        ferry_guest::describe!(
            Predictor,
            "a linear or logistic model whose coefficients are a package artifact (model.json)",
            SETTINGS
        )
    }
}

impl predictor::Guest for Linear {
    fn predict(input: Batch) -> Result<Batch, Error> {
        MODEL.with(|cell| {
            let model = cell
                .get_or_init(|| {
                    Settings::load(SETTINGS)?;
                    model::Model::load(std::path::Path::new("/model/model.json"))
                })
                .as_ref()
                .map_err(Clone::clone)?;
            model.predict(&input)
        })
    }
}

export!(Linear);

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_guest::types::PluginKind;

    #[test]
    fn describes_a_predictor_with_no_settings() {
        let d = <Linear as about::Guest>::describe();
        assert_eq!(
            (d.name.as_str(), d.kind),
            ("predictor-linear", PluginKind::Predictor)
        );
        assert!(d.settings.is_empty());
        assert!(Settings::from_pairs(SETTINGS, &[("threshold", "0.7")]).is_err());
    }
}
