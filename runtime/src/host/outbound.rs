//! Outbound HTTP for plugins: the step's allow-list and credentials, applied by the host to
//! every request a plugin sends through `wasi:http`.
//!
//! A request to a host the step does not grant is refused before any connection is made, and
//! the refusal is remembered so the plugin's failure can name the host and the step. A request
//! to a host a credential is granted for is authenticated here, on its way out: the plugin
//! never sees the secret, the signature or the token.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderValue;
use http_body::Body as _;
use http_body_util::{BodyExt, Full};
use wasmtime_wasi_http::p2::bindings::http::types::ErrorCode;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

use super::grants::HostGrants;
use super::pattern::{HostPattern, default_port};
use std::collections::BTreeMap;

use crate::credentials::{Credential, CredentialError, Declaration, Payload, SecretSource};

/// Largest request body hashed for a signature; larger bodies must go unsigned (S3) or fail.
const MAX_SIGNED_BODY: usize = 64 << 20;

/// Timeouts for requests that set none: a peer that stops answering becomes an error the
/// plugin can retry, not a call that hangs until the plugin's time limit.
const DEFAULT_TIMEOUTS: RequestOptions = RequestOptions {
    connect_timeout: Some(Duration::from_secs(10)),
    first_byte_timeout: Some(Duration::from_secs(60)),
    between_bytes_timeout: Some(Duration::from_secs(30)),
};

/// What a step's plugins may reach, and with which credential.
#[derive(Debug, Default)]
pub struct OutboundPolicy {
    pub allowed: Vec<HostPattern>,
    pub credentials: Vec<CredentialUse>,
}

/// A credential granted for some hosts. Its hosts are allowed too.
#[derive(Debug)]
pub struct CredentialUse {
    pub name: String,
    pub hosts: Vec<HostPattern>,
    pub credential: Arc<Credential>,
}

/// Why a grant could not be turned into policy.
#[derive(Debug, thiserror::Error)]
pub enum GrantProblem {
    #[error("{0}")]
    Pattern(String),
    #[error("credential `{0}` is not declared in [credentials]")]
    Undeclared(String),
    #[error(transparent)]
    Credential(#[from] CredentialError),
    #[error(
        "credentials `{first}` and `{second}` are both granted for {}: a request there could be signed with either. Grant each host to one credential (AWS services behind one endpoint, as an emulator such as moto serves them, take one `aws` credential with `services = [\"s3\", \"sagemaker\"]`)",
        shared_hosts(first, first_host, second, second_host)
    )]
    Overlap {
        first: String,
        first_host: String,
        second: String,
        second_host: String,
    },
    #[error(
        "setting `{setting}` = `{url}`: host {host} is not granted (neither in `hosts` nor in a credential's `hosts`), so every request to it would be refused; grant it"
    )]
    Endpoint {
        setting: String,
        url: String,
        host: String,
    },
}

/// `http://h:1` when both grants say the same, else what each says.
fn shared_hosts(first: &str, first_host: &str, second: &str, second_host: &str) -> String {
    if first_host == second_host {
        first_host.to_owned()
    } else {
        format!("the same hosts (`{first}` for {first_host}, `{second}` for {second_host})")
    }
}

impl GrantProblem {
    /// The key of the grants the problem is about.
    pub fn key(&self) -> &'static str {
        match self {
            GrantProblem::Pattern(_) => "hosts",
            GrantProblem::Undeclared(_)
            | GrantProblem::Credential(_)
            | GrantProblem::Overlap { .. } => "credentials",
            GrantProblem::Endpoint { .. } => "settings",
        }
    }
}

impl OutboundPolicy {
    /// Grants as written (host patterns, credential names with their hosts) turned into
    /// policy, each credential resolved from its declaration and its secrets. Every problem is
    /// returned, with the policy built from what was fine.
    pub fn from_grants(
        hosts: &[String],
        grants: &[(&str, &[String])],
        declared: &BTreeMap<String, Declaration>,
        secrets: &SecretSource,
    ) -> (OutboundPolicy, Vec<GrantProblem>) {
        let (parsed, mut problems) = HostGrants::parse(hosts, grants);
        let mut credentials = Vec::new();
        for (name, hosts) in parsed.credentials {
            let Some(spec) = declared.get(&name) else {
                problems.push(GrantProblem::Undeclared(name));
                continue;
            };
            match Credential::resolve(&name, spec, secrets) {
                Ok(credential) => credentials.push(CredentialUse {
                    name,
                    hosts,
                    credential: Arc::new(credential),
                }),
                Err(e) => problems.push(e.into()),
            }
        }
        let allowed = parsed.allowed;
        (
            OutboundPolicy {
                allowed,
                credentials,
            },
            problems,
        )
    }

    pub fn allows(&self, scheme: &str, host: &str, port: u16) -> bool {
        self.allowed
            .iter()
            .chain(self.credentials.iter().flat_map(|c| &c.hosts))
            .any(|p| p.matches(scheme, host, port))
    }

    pub fn credential_for(&self, scheme: &str, host: &str, port: u16) -> Option<&CredentialUse> {
        self.credentials
            .iter()
            .find(|c| c.hosts.iter().any(|p| p.matches(scheme, host, port)))
    }
}

/// The per-instance side of the policy: which step and plugin, and the last refusal.
pub(crate) struct OutboundHooks {
    pub policy: Arc<OutboundPolicy>,
    pub step: Arc<str>,
    pub plugin: Arc<str>,
    pub denied: Option<String>,
}

type ResponseFuture = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                ),
                HttpError,
            >,
        > + Send,
>;

impl WasiHttpHooks for OutboundHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> ResponseFuture {
        let uri = request.uri();
        let scheme = uri.scheme_str().unwrap_or("https").to_owned();
        let host = uri.host().unwrap_or_default().to_owned();
        let port = uri.port_u16().or(default_port(&scheme)).unwrap_or(0);
        if !self.policy.allows(&scheme, &host, port) {
            let target = format!("{scheme}://{host}:{port}");
            tracing::warn!(step = %self.step, plugin = %self.plugin, host = %target, "outbound request denied: the step does not grant this host");
            self.denied = Some(target);
            return Box::new(async { Err(HttpError::HttpRequestDenied) });
        }
        let credential = self
            .policy
            .credential_for(&scheme, &host, port)
            .map(|c| (c.name.clone(), c.credential.clone()));
        let (step, plugin) = (self.step.clone(), self.plugin.clone());
        let options = Some(fill_timeouts(options));
        Box::new(async move {
            let request = match credential {
                None => request,
                Some((name, credential)) => {
                    authorize(&credential, request).await.map_err(|e| {
                        tracing::warn!(%step, %plugin, credential = %name, "cannot authenticate an outbound request: {e}");
                        HttpError::InternalError(Some(e.to_string()))
                    })?
                }
            };
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = _> + Send>,
            ))
        })
    }

    fn p2_error_from_hyper(&mut self, err: &hyper::Error) -> ErrorCode {
        self.quiet("protocol", err);
        ErrorCode::HttpProtocolError
    }

    fn p2_error_from_connect(&mut self, err: &std::io::Error) -> ErrorCode {
        self.quiet("connect", err);
        ErrorCode::ConnectionRefused
    }

    fn p2_error_from_tls(&mut self, err: &std::io::Error) -> ErrorCode {
        self.quiet("TLS", err);
        ErrorCode::TlsProtocolError
    }
}

impl OutboundHooks {
    fn quiet(&self, what: &str, error: &dyn std::fmt::Display) {
        // The plugin sees the error and retries or reports it; one line per attempt at debug
        // level is enough here.
        tracing::debug!(step = %self.step, plugin = %self.plugin, "outbound {what} error: {error}");
    }
}

fn fill_timeouts(options: Option<RequestOptions>) -> RequestOptions {
    let o = options.unwrap_or_default();
    RequestOptions {
        connect_timeout: o.connect_timeout.or(DEFAULT_TIMEOUTS.connect_timeout),
        first_byte_timeout: o.first_byte_timeout.or(DEFAULT_TIMEOUTS.first_byte_timeout),
        between_bytes_timeout: o
            .between_bytes_timeout
            .or(DEFAULT_TIMEOUTS.between_bytes_timeout),
    }
}

async fn authorize(
    credential: &Credential,
    request: http::Request<WasiBody>,
) -> Result<http::Request<WasiBody>, CredentialError> {
    match credential {
        Credential::Gcp(auth) => bearer(request, &auth.token().await?),
        Credential::Bearer(token) => bearer(request, token),
        Credential::Aws(signer) => {
            let (parts, body) = request.into_parts();
            let mut head = http::Request::from_parts(parts, ());
            let body = if body.is_end_stream() {
                signer.sign(&mut head, Payload::Bytes(&[]))?;
                body
            } else if signer.service_for(&head) == "s3" {
                signer.sign(&mut head, Payload::Unsigned)?;
                body
            } else {
                let bytes = http_body_util::Limited::new(body, MAX_SIGNED_BODY)
                    .collect()
                    .await
                    .map_err(|e| CredentialError::Sign {
                        name: signer.name().to_owned(),
                        message: format!("cannot read the request body to sign it: {e}"),
                    })?
                    .to_bytes();
                signer.sign(&mut head, Payload::Bytes(&bytes))?;
                Full::new(bytes)
                    .map_err(|never| match never {})
                    .boxed_unsync()
            };
            let (parts, ()) = head.into_parts();
            Ok(http::Request::from_parts(parts, body))
        }
    }
}

/// `Authorization: Bearer <token>`, marked sensitive so no layer logs it.
fn bearer(
    mut request: http::Request<WasiBody>,
    token: &crate::credentials::Secret,
) -> Result<http::Request<WasiBody>, CredentialError> {
    let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
        CredentialError::Invalid {
            name: "bearer".into(),
            message: "the token is not a valid header value".into(),
        }
    })?;
    value.set_sensitive(true);
    request
        .headers_mut()
        .insert(http::header::AUTHORIZATION, value);
    Ok(request)
}
