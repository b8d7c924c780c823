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

/// Signs requests for one AWS service in one region with one set of keys.
pub struct AwsSigner {
    name: String,
    region: String,
    service: String,
    identity: Identity,
}

impl std::fmt::Debug for AwsSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsSigner")
            .field("name", &self.name)
            .field("region", &self.region)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

impl AwsSigner {
    pub fn new(
        name: &str,
        region: &str,
        service: &str,
        access_key_id: Secret,
        secret_access_key: Secret,
        session_token: Option<Secret>,
    ) -> Self {
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
            service: service.to_owned(),
            identity: credentials.into(),
        }
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    /// Adds `Authorization`, `X-Amz-Date`, `X-Amz-Content-Sha256` (S3) and
    /// `X-Amz-Security-Token` (with a session token) to `request`.
    pub fn sign<B>(
        &self,
        request: &mut http::Request<B>,
        payload: Payload<'_>,
    ) -> Result<(), CredentialError> {
        let mut settings = SigningSettings::default();
        if self.service == "s3" {
            // S3 wants the payload hash as a header, keys encoded once, and paths as given.
            settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
            settings.percent_encoding_mode = PercentEncodingMode::Single;
            settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        }
        let params = v4::SigningParams::builder()
            .identity(&self.identity)
            .region(&self.region)
            .name(&self.service)
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
            "s3",
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
}
