//! AWS Signature Version 4, done by the host with the `aws-sigv4` crate: the plugin's request
//! leaves the sandbox unsigned and is signed on its way out.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

use super::{CredentialError, Secret};

/// What the signature says about the request body.
#[derive(Debug, Clone, Copy)]
pub enum Payload<'a> {
    /// The exact bytes (hashed into the signature; an empty body is `Bytes(&[])`).
    Bytes(&'a [u8]),
    /// `UNSIGNED-PAYLOAD`: S3 accepts it for bodies streamed without hashing first.
    Unsigned,
}

/// Signs requests for one AWS service in one region with one set of keys — or for one of
/// several services, chosen per request (see [`AwsSigner::service_for`]).
pub struct AwsSigner {
    name: String,
    region: String,
    /// Never empty; the first is the one a request that names no service is signed for.
    services: Vec<String>,
    identity: Identity,
}

impl std::fmt::Debug for AwsSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsSigner")
            .field("name", &self.name)
            .field("region", &self.region)
            .field("services", &self.services)
            .finish_non_exhaustive()
    }
}

impl AwsSigner {
    /// `services` must not be empty.
    pub fn new(
        name: &str,
        region: &str,
        services: Vec<String>,
        access_key_id: Secret,
        secret_access_key: Secret,
        session_token: Option<Secret>,
    ) -> Self {
        assert!(!services.is_empty(), "an AWS signer needs a service");
        let credentials = Credentials::new(
            access_key_id.expose(),
            secret_access_key.expose(),
            session_token.map(|t| t.expose().to_owned()),
            None,
            "ferry",
        );
        AwsSigner {
            name: name.to_owned(),
            region: region.to_owned(),
            services,
            identity: credentials.into(),
        }
    }

    /// The credential's name, for messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The service `request` is signed for: the signature's scope, which is also how an
    /// emulator serving several services on one port (moto) routes the request.
    ///
    /// With one service, that one. With several, the first of them the request names:
    /// 1. in `X-Amz-Target` (`SageMaker.CreateModel`: the JSON-protocol APIs name their
    ///    service there), case aside and without a `_20120810`-style version;
    /// 2. else as a label of its host, read from the right
    ///    (`api.sagemaker.us-east-1.amazonaws.com`, `logs.s3.eu-west-1.amazonaws.com` — so a
    ///    bucket named like a service does not count);
    /// 3. else the first service listed: S3's REST requests to an emulator name none.
    pub fn service_for<B>(&self, request: &http::Request<B>) -> &str {
        let first = self.services[0].as_str();
        if self.services.len() == 1 {
            return first;
        }
        let listed = |name: &str| {
            self.services
                .iter()
                .find(|s| s.eq_ignore_ascii_case(name))
                .map(String::as_str)
        };
        let target = request
            .headers()
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .and_then(|t| t.split_once('.'))
            .map(|(prefix, _)| prefix.split('_').next().unwrap_or(prefix));
        if let Some(service) = target.and_then(listed) {
            return service;
        }
        let host = request.uri().host().unwrap_or_default();
        host.rsplit('.').find_map(listed).unwrap_or(first)
    }

    /// Adds `Authorization`, `X-Amz-Date`, `X-Amz-Content-Sha256` (S3) and
    /// `X-Amz-Security-Token` (with a session token) to `request`.
    pub fn sign<B>(
        &self,
        request: &mut http::Request<B>,
        payload: Payload<'_>,
    ) -> Result<(), CredentialError> {
        let service = self.service_for(request).to_owned();
        let mut settings = SigningSettings::default();
        if service == "s3" {
            // S3 wants the payload hash as a header, keys encoded once, and paths as given.
            settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
            settings.percent_encoding_mode = PercentEncodingMode::Single;
            settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        }
        let params = v4::SigningParams::builder()
            .identity(&self.identity)
            .region(&self.region)
            .name(&service)
            .time(SystemTime::now())
            .settings(settings)
            .build()
            .map_err(|e| self.error(e.to_string()))?
            .into();
        let headers: Vec<(&str, &str)> = request
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)))
            .collect();
        let body = match payload {
            Payload::Bytes(b) => SignableBody::Bytes(b),
            Payload::Unsigned => SignableBody::UnsignedPayload,
        };
        let uri = request.uri().to_string();
        let signable =
            SignableRequest::new(request.method().as_str(), uri, headers.into_iter(), body)
                .map_err(|e| self.error(e.to_string()))?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| self.error(e.to_string()))?
            .into_parts();
        instructions.apply_to_request_http1x(request);
        // The signature names the access key id and may carry a session token: no layer that
        // logs headers may show them.
        for name in ["authorization", "x-amz-security-token"] {
            if let Some(value) = request.headers_mut().get_mut(name) {
                value.set_sensitive(true);
            }
        }
        Ok(())
    }

    fn error(&self, message: String) -> CredentialError {
        CredentialError::Sign {
            name: self.name.clone(),
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_with_the_headers_s3_checks_and_never_the_secret() {
        let signer = AwsSigner::new(
            "s3",
            "us-east-1",
            vec!["s3".into()],
            Secret::new("AKIDEXAMPLE"),
            Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            Some(Secret::new("session-token-value")),
        );
        let mut req = http::Request::get("http://127.0.0.1:9000/bucket/a%20b.csv?x-id=GetObject")
            .header("host", "127.0.0.1:9000")
            .header("range", "bytes=0-9")
            .body(())
            .unwrap();
        signer.sign(&mut req, Payload::Bytes(b"")).unwrap();
        let h = req.headers();
        let auth = h["authorization"].to_str().unwrap();
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"),
            "{auth}"
        );
        assert!(auth.contains("/us-east-1/s3/aws4_request"), "{auth}");
        assert!(
            auth.contains(
                "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date;x-amz-security-token"
            ),
            "{auth}"
        );
        assert!(!auth.contains("wJalr"));
        assert_eq!(
            h["x-amz-content-sha256"],
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(h["x-amz-security-token"], "session-token-value");
        assert!(!format!("{signer:?}").contains("wJalr"));
    }

    fn scope(request: &http::Request<()>) -> String {
        let auth = request.headers()["authorization"].to_str().unwrap();
        auth.split('/').nth(3).unwrap().to_owned()
    }

    #[test]
    fn one_credential_signs_each_request_for_the_service_it_is_for() {
        let signer = AwsSigner::new(
            "aws",
            "us-east-1",
            vec!["s3".into(), "sagemaker".into()],
            Secret::new("AKIDEXAMPLE"),
            Secret::new("secret"),
            None,
        );
        let signed = |mut req: http::Request<()>, body: &[u8]| {
            signer.sign(&mut req, Payload::Bytes(body)).unwrap();
            req
        };
        // Both behind one emulator port: SageMaker's calls name it in X-Amz-Target.
        let sagemaker = signed(
            http::Request::post("http://127.0.0.1:5000/")
                .header("host", "127.0.0.1:5000")
                .header("x-amz-target", "SageMaker.CreateModel")
                .body(())
                .unwrap(),
            b"{}",
        );
        assert_eq!(scope(&sagemaker), "sagemaker");
        assert!(!sagemaker.headers().contains_key("x-amz-content-sha256"));
        let s3 = signed(
            http::Request::put("http://127.0.0.1:5000/models/ferry/model.tar.gz")
                .header("host", "127.0.0.1:5000")
                .body(())
                .unwrap(),
            b"",
        );
        assert_eq!(scope(&s3), "s3");
        assert!(s3.headers().contains_key("x-amz-content-sha256"));
        // On AWS the host says it; a bucket named like a service does not.
        let api = |host: &str| {
            http::Request::get(format!("https://{host}/"))
                .header("host", host)
                .body(())
                .unwrap()
        };
        assert_eq!(
            scope(&signed(api("api.sagemaker.eu-west-1.amazonaws.com"), b"")),
            "sagemaker"
        );
        assert_eq!(
            scope(&signed(api("sagemaker.s3.eu-west-1.amazonaws.com"), b"")),
            "s3"
        );
    }
}
