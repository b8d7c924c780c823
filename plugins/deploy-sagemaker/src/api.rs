//! SageMaker's control-plane API, which speaks the AWS JSON 1.1 protocol: every operation is a
//! `POST /` naming itself in `X-Amz-Target: SageMaker.<Op>`, with a JSON body both ways.
//! Errors are `{"__type": "...#Code", "message": "..."}` (moto writes `Message`), which become
//! the plugin's error with the cloud's code, and its message verbatim behind the operation's
//! name, so a user reads what SageMaker said.

use ferry_guest::error;
use ferry_guest::http::{self, Endpoint, Method, Request, Transport};
use ferry_guest::types::Error;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// The SageMaker API of one region (or a stand-in for it), over the plugin's transport.
pub struct Api<'a> {
    endpoint: &'a Endpoint,
    transport: &'a dyn Transport,
}

/// An error answer of SageMaker, before it becomes the plugin's [`Error`], so that callers can
/// tell the answers they expect ("does not exist") from real failures.
#[derive(Debug, Clone, PartialEq)]
pub struct CloudError {
    pub operation: String,
    pub status: u16,
    /// `ValidationException`, `ResourceLimitExceeded`, … (without the `…#` namespace).
    pub code: String,
    pub message: String,
}

/// The kinds of resources whose absence an operation may report.
#[derive(Debug, Clone, Copy)]
pub enum Resource {
    Endpoint,
    EndpointConfig,
    Model,
}

impl CloudError {
    /// Whether SageMaker said the resource does not exist. It has no NotFound code for these:
    /// it answers `ValidationException` "Could not find endpoint …" (or "endpoint
    /// configuration", or "model").
    pub fn is_missing(&self, resource: Resource) -> bool {
        let m = &self.message;
        self.code == "ValidationException"
            && match resource {
                Resource::Endpoint => {
                    m.contains("Could not find endpoint")
                        && !m.contains("Could not find endpoint configuration")
                }
                Resource::EndpointConfig => m.contains("Could not find endpoint configuration"),
                Resource::Model => m.contains("Could not find model"),
            }
    }

    /// Whether SageMaker refused to create something that exists ("Cannot create already
    /// existing model …"): left by an earlier call that failed after creating it.
    pub fn already_exists(&self) -> bool {
        self.code == "ValidationException" && self.message.contains("already existing")
    }

    pub fn into_error(self) -> Error {
        error(
            &self.code,
            format!(
                "SageMaker {} answered {} {}: {}",
                self.operation, self.status, self.code, self.message
            ),
        )
    }
}

impl<'a> Api<'a> {
    pub fn new(endpoint: &'a Endpoint, transport: &'a dyn Transport) -> Self {
        Api {
            endpoint,
            transport,
        }
    }

    /// One operation: its answer, or SageMaker's error as the plugin's.
    pub fn call(&self, operation: &str, body: &Value) -> Result<Value, Error> {
        self.send(operation, body)?.map_err(CloudError::into_error)
    }

    /// One operation whose error answers `expected` accepts: those give `None`.
    pub fn call_unless(
        &self,
        operation: &str,
        body: &Value,
        expected: impl Fn(&CloudError) -> bool,
    ) -> Result<Option<Value>, Error> {
        match self.send(operation, body)? {
            Ok(answer) => Ok(Some(answer)),
            Err(e) if expected(&e) => Ok(None),
            Err(e) => Err(e.into_error()),
        }
    }

    /// DescribeEndpoint: `None` when there is no such endpoint.
    pub fn describe_endpoint(&self, name: &str) -> Result<Option<Described>, Error> {
        let answer =
            self.call_unless("DescribeEndpoint", &json!({ "EndpointName": name }), |e| {
                e.is_missing(Resource::Endpoint)
            })?;
        Ok(answer.map(|a| Described::from_answer(&a)))
    }

    /// The outer error is the transport's (no answer after the retries), the inner one the
    /// cloud's.
    fn send(&self, operation: &str, body: &Value) -> Result<Result<Value, CloudError>, Error> {
        let request = request(self.endpoint, operation, body);
        let response = self.transport.send(&request)?;
        if !response.is_success() {
            return Ok(Err(cloud_error(
                operation,
                response.status,
                response.header("x-amzn-errortype"),
                &response.body,
            )));
        }
        if response.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Ok(json!({})));
        }
        response.json(&request).map(Ok)
    }
}

/// The request for one operation.
pub fn request(endpoint: &Endpoint, operation: &str, body: &Value) -> Request {
    let bytes = serde_json::to_vec(body).expect("a JSON value serializes");
    Request::new(Method::Post, endpoint, "/".into())
        .header("x-amz-target", format!("SageMaker.{operation}"))
        .body(CONTENT_TYPE, bytes)
}

/// The error of a failed answer: code from `__type` (or the `X-Amzn-Errortype` header),
/// message from `message`/`Message`, or the start of whatever else came back (moto answers
/// operations it lacks with a 500 HTML page).
pub fn cloud_error(
    operation: &str,
    status: u16,
    error_type: Option<&str>,
    body: &[u8],
) -> CloudError {
    let parsed: Value = serde_json::from_slice(body).unwrap_or_default();
    let short = |t: &str| {
        // `com.amazonaws.sagemaker#ValidationException`; the header may add `:http://…`.
        let t = t.rsplit('#').next().unwrap_or(t);
        t.split(':').next().unwrap_or(t).to_owned()
    };
    let code = parsed["__type"]
        .as_str()
        .or(error_type)
        .map(short)
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| format!("http_{status}"));
    let message = parsed["message"]
        .as_str()
        .or(parsed["Message"].as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| http::excerpt(String::from_utf8_lossy(body).trim()));
    CloudError {
        operation: operation.to_owned(),
        status,
        code,
        message,
    }
}

/// One production variant of an endpoint config: one version's model and its share of the
/// traffic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    /// The package version it serves.
    pub version: String,
    /// `VariantName`: the version, in the characters SageMaker allows.
    pub name: String,
    pub model: String,
    pub percent: u8,
    pub instance_type: String,
    pub instance_count: u32,
}

/// A `VariantName` for a version: SageMaker allows letters, digits and `-`, the package
/// registry also `.` and `_`.
pub fn variant_name(version: &str) -> String {
    version
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

pub fn create_model(name: &str, image: &str, model_data_url: &str, role_arn: &str) -> Value {
    json!({
        "ModelName": name,
        "PrimaryContainer": { "Image": image, "ModelDataUrl": model_data_url },
        "ExecutionRoleArn": role_arn,
    })
}

pub fn create_endpoint_config(name: &str, variants: &[Variant]) -> Value {
    let variants: Vec<Value> = variants
        .iter()
        .map(|v| {
            json!({
                "VariantName": v.name,
                "ModelName": v.model,
                "InitialInstanceCount": v.instance_count,
                "InstanceType": v.instance_type,
                "InitialVariantWeight": f64::from(v.percent),
            })
        })
        .collect();
    json!({ "EndpointConfigName": name, "ProductionVariants": variants })
}

/// The body of CreateEndpoint and of UpdateEndpoint alike.
pub fn endpoint_on_config(endpoint: &str, config: &str) -> Value {
    json!({ "EndpointName": endpoint, "EndpointConfigName": config })
}

/// What DescribeEndpoint says, as far as the plugin reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Described {
    /// `Creating`, `Updating`, `SystemUpdating`, `RollingBack`, `InService`, `Deleting`,
    /// `Failed`, `OutOfService`.
    pub status: String,
    /// The config the endpoint serves (during an update: still the old one).
    pub config: String,
    pub variants: Vec<LiveVariant>,
    pub failure_reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LiveVariant {
    pub name: String,
    /// Relative weight; 0 when absent (moto leaves out falsy values).
    pub weight: f64,
    pub instances: u64,
}

impl Described {
    pub fn from_answer(answer: &Value) -> Described {
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        let variants = answer["ProductionVariants"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| LiveVariant {
                name: text(&v["VariantName"]),
                weight: v["CurrentWeight"].as_f64().unwrap_or(0.0),
                instances: v["CurrentInstanceCount"].as_u64().unwrap_or(0),
            })
            .collect();
        Described {
            status: text(&answer["EndpointStatus"]),
            config: text(&answer["EndpointConfigName"]),
            variants,
            failure_reason: answer["FailureReason"]
                .as_str()
                .filter(|r| !r.is_empty())
                .map(str::to_owned),
        }
    }

    /// Still on its way to a settled state.
    pub fn in_progress(&self) -> bool {
        matches!(
            self.status.as_str(),
            "Creating" | "Updating" | "SystemUpdating" | "RollingBack" | "UpdateRollbackFailed"
        )
    }

    /// The config that answers requests: none while the endpoint is `Failed`, `Deleting` or
    /// `OutOfService` (during an update, the old one).
    pub fn live_config(&self) -> Option<&str> {
        let down = matches!(self.status.as_str(), "Failed" | "Deleting" | "OutOfService");
        (!down).then_some(self.config.as_str())
    }

    /// The variants that get traffic (none when the endpoint does not answer).
    pub fn serving(&self) -> impl Iterator<Item = &LiveVariant> {
        let live = self.live_config().is_some();
        self.variants.iter().filter(move |v| live && v.weight > 0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_name_the_operation_and_the_protocol() {
        let e = Endpoint::parse("http://127.0.0.1:5000").unwrap();
        let r = request(&e, "DescribeEndpoint", &json!({"EndpointName": "d"}));
        assert_eq!(r.method, Method::Post);
        assert_eq!(r.path_and_query, "/");
        assert!(
            r.headers
                .contains(&("x-amz-target".into(), "SageMaker.DescribeEndpoint".into()))
        );
        assert!(
            r.headers
                .contains(&("content-type".into(), "application/x-amz-json-1.1".into()))
        );
        assert_eq!(r.body, br#"{"EndpointName":"d"}"#);
    }

    #[test]
    fn errors_carry_the_cloud_code_and_message() {
        let moto = br#"{"__type": "ValidationException", "Message": "Could not find endpoint 'arn:aws:sagemaker:us-east-1:123456789012:endpoint/missing'."}"#;
        let e = cloud_error("DescribeEndpoint", 400, Some("ValidationException"), moto);
        assert_eq!(e.code, "ValidationException");
        assert!(e.is_missing(Resource::Endpoint));
        assert!(!e.is_missing(Resource::Model));
        let plugin = e.into_error();
        assert_eq!(plugin.code, "ValidationException");
        assert_eq!(
            plugin.message,
            "SageMaker DescribeEndpoint answered 400 ValidationException: Could not find endpoint \
             'arn:aws:sagemaker:us-east-1:123456789012:endpoint/missing'."
        );

        let aws = br#"{"__type":"com.amazonaws.sagemaker#ResourceLimitExceeded","message":"The account-level service limit 'ml.m5.large for endpoint usage' is 0 Instances"}"#;
        let e = cloud_error("CreateEndpoint", 400, None, aws);
        assert_eq!(e.code, "ResourceLimitExceeded");
        assert!(e.message.starts_with("The account-level service limit"));

        let config = cloud_error(
            "DeleteEndpointConfig",
            400,
            None,
            br#"{"__type": "ValidationException", "Message": "Could not find endpoint configuration 'arn:x'."}"#,
        );
        assert!(config.is_missing(Resource::EndpointConfig));
        assert!(!config.is_missing(Resource::Endpoint));

        let exists = cloud_error(
            "CreateModel",
            400,
            None,
            br#"{"__type":"ValidationException","message":"Cannot create already existing model \"arn:aws:sagemaker:us-east-1:1:model/d-v1\"."}"#,
        );
        assert!(exists.already_exists());
    }

    #[test]
    fn answers_that_are_not_json_keep_their_start() {
        let e = cloud_error(
            "UpdateEndpoint",
            500,
            Some("InternalFailure:http://internal.amazon.com/"),
            b"<!doctype html>\n<title>500 Internal Server Error</title>",
        );
        assert_eq!(e.code, "InternalFailure");
        assert!(e.message.starts_with("<!doctype html>"));
        assert_eq!(cloud_error("X", 502, None, b"").code, "http_502");
    }

    #[test]
    fn bodies() {
        assert_eq!(
            create_model("d-v1", "img:1", "s3://b/k/model.tar.gz", "arn:role"),
            json!({"ModelName": "d-v1", "PrimaryContainer": {"Image": "img:1", "ModelDataUrl": "s3://b/k/model.tar.gz"}, "ExecutionRoleArn": "arn:role"})
        );
        let v = Variant {
            version: "1.0_a".into(),
            name: variant_name("1.0_a"),
            model: "d-1-0-a".into(),
            percent: 30,
            instance_type: "ml.m5.large".into(),
            instance_count: 2,
        };
        assert_eq!(v.name, "1-0-a");
        assert_eq!(
            create_endpoint_config("d-c1", &[v]),
            json!({"EndpointConfigName": "d-c1", "ProductionVariants": [{"VariantName": "1-0-a", "ModelName": "d-1-0-a", "InitialInstanceCount": 2, "InstanceType": "ml.m5.large", "InitialVariantWeight": 30.0}]})
        );
        assert_eq!(
            endpoint_on_config("d", "d-c1"),
            json!({"EndpointName": "d", "EndpointConfigName": "d-c1"})
        );
    }

    #[test]
    fn describe_answers() {
        let answer: Value = serde_json::from_str(
            r#"{"EndpointName": "d", "EndpointConfigName": "d-c2", "ProductionVariants": [
                {"VariantName": "v1", "CurrentWeight": 0.7, "DesiredWeight": 0.7, "CurrentInstanceCount": 1, "DesiredInstanceCount": 1},
                {"VariantName": "v2", "CurrentInstanceCount": 1, "DesiredInstanceCount": 1}],
                "EndpointStatus": "InService", "FailureReason": "The image 'x' does not exist."}"#,
        )
        .unwrap();
        let d = Described::from_answer(&answer);
        assert_eq!(d.status, "InService");
        assert_eq!(d.config, "d-c2");
        assert_eq!(d.variants.len(), 2);
        assert_eq!(d.variants[1].weight, 0.0);
        assert_eq!(
            d.serving().map(|v| v.name.as_str()).collect::<Vec<_>>(),
            ["v1"]
        );
        assert_eq!(
            d.failure_reason.as_deref(),
            Some("The image 'x' does not exist.")
        );
        assert!(!d.in_progress());
    }
}
