//! Vertex AI's long-running operations: every create, deploy, undeploy and delete answers one,
//! which may already be `done` (the mock always is) or must be polled by name until it is.
//! A done operation carries either `error` (a `google.rpc.Status`) or `response` — except
//! that drongo's operation GET answers `done` with neither, so a missing `response` is normal
//! and callers read the result from the resources instead.

use ferry_guest::error;
use ferry_guest::google::rpc_code_name;
use ferry_guest::types::Error;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct Lro {
    /// `projects/…/operations/…`, polled as `GET /v1/{name}`.
    pub name: String,
    pub done: bool,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Not done, or done without saying what came of it.
    Nothing,
    Response(Value),
    Failed {
        code: i64,
        message: String,
    },
}

impl Lro {
    pub fn parse(body: &Value) -> Result<Lro, String> {
        let name = body["name"]
            .as_str()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| format!("not an operation (no `name`): {body}"))?;
        let outcome = if let Some(e) = body.get("error").filter(|e| !e.is_null()) {
            Outcome::Failed {
                code: e["code"].as_i64().unwrap_or(2),
                message: e["message"].as_str().unwrap_or_default().to_owned(),
            }
        } else if let Some(r) = body.get("response").filter(|r| !r.is_null()) {
            Outcome::Response(r.clone())
        } else {
            Outcome::Nothing
        };
        Ok(Lro {
            name: name.to_owned(),
            // An absent `done` means false (proto3 leaves out default values).
            done: body["done"].as_bool().unwrap_or(false),
            outcome,
        })
    }

    /// The response of a done operation (`None`: done without one), or its failure as the
    /// call's error: code the `google.rpc.Code` name (`RESOURCE_EXHAUSTED`, else
    /// `operation_failed`), message the cloud's verbatim.
    pub fn result(self, what: &str) -> Result<Option<Value>, Error> {
        match self.outcome {
            Outcome::Nothing => Ok(None),
            Outcome::Response(r) => Ok(Some(r)),
            Outcome::Failed { code, message } => {
                let name = rpc_code_name(code);
                Err(error(
                    name.unwrap_or("operation_failed"),
                    format!(
                        "{what} failed (operation {}): {} {message}",
                        self.name,
                        name.map_or_else(|| format!("code {code}:"), |n| format!("{n}:")),
                    ),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn done_pending_and_drongos_bare_done() {
        let done = Lro::parse(&json!({"name": "projects/p/locations/l/operations/2", "done": true, "response": {"model": "m/1"}})).unwrap();
        assert!(done.done);
        assert_eq!(done.result("x").unwrap().unwrap()["model"], "m/1");
        let pending = Lro::parse(&json!({"name": "o/3", "metadata": {}})).unwrap();
        assert!(!pending.done);
        let bare = Lro::parse(&json!({"name": "o/2", "done": true})).unwrap();
        assert_eq!(bare.result("x").unwrap(), None);
        assert!(Lro::parse(&json!({"done": true})).is_err());
    }

    #[test]
    fn failures_carry_the_clouds_code_and_message() {
        let quota = "The following quota metrics exceed quota limits: aiplatform.googleapis.com/custom_model_serving_cpus_per_machine_type (RESOURCE_EXHAUSTED)";
        let failed = Lro::parse(
            &json!({"name": "o/8", "done": true, "error": {"code": 8, "message": quota}}),
        )
        .unwrap();
        let err = failed.result("deploying v2").unwrap_err();
        assert_eq!(err.code, "RESOURCE_EXHAUSTED");
        assert_eq!(
            err.message,
            format!("deploying v2 failed (operation o/8): RESOURCE_EXHAUSTED: {quota}")
        );
        let odd = Lro::parse(
            &json!({"name": "o/9", "done": true, "error": {"code": 99, "message": "?"}}),
        )
        .unwrap();
        let err = odd.result("x").unwrap_err();
        assert_eq!(
            (err.code.as_str(), err.message.as_str()),
            ("operation_failed", "x failed (operation o/9): code 99: ?")
        );
    }
}
