//! The path of one request, walked once, forward (architecture.md):
//! verb → route + version → docs or params → method → SSL → failed-auth
//! throttle → app auth (form or OAuth) → replay → rate limit → user auth →
//! role → validation → idempotency → handler → encoding.
//!
//! App auth and the replay claim run on the HTTP worker without holding a
//! thread (`authenticate.rs`); user auth and the handler then run on the
//! blocking pool, except for `inline` methods, which read only memory.

use std::sync::Arc;

use actix_web::http::{header, Method as HttpMethod};
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;

use super::authenticate;
use super::headers::RequestId;
use super::respond;
use super::route::{parse_path, resolve_version, Resolved, Target};
use crate::answer::tree::Answer;
use crate::answer::{Format, Wanted};
use crate::error::ApiError;
use crate::methods::run::{run_method, Principal};
use crate::methods::AppState;
use crate::methods::{Lookup, Method, Verb};
use crate::ops::forwarded;
use crate::ops::gate::Gate;
use crate::ops::ratelimit::{self, Quota};
use crate::protocol::caller::{self, OAuthRequest};
use crate::protocol::oauth1;
use crate::protocol::params::{self, Params, RAW_BODY};
use crate::protocol::user_auth;
use crate::protocol::version::Version;

/// The one handler behind every path.
pub async fn handle(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let state: Arc<AppState> = state.into_inner();
    let (result, version) = run(&req, payload, &state, &request_id).await;
    let mut resp = match result {
        Ok(resp) => resp,
        Err((err, format)) => respond::error(&err, format, &request_id),
    };
    if let Some(v) = version {
        resp.headers_mut().insert(
            header::HeaderName::from_static(respond::API_VERSION_HEADER),
            respond::version_value(v),
        );
    }
    resp
}

type Failure = (ApiError, Format);

fn fatal(e: ApiError) -> Failure {
    (e, Format::Xml)
}

async fn run(
    req: &HttpRequest,
    payload: web::Payload,
    state: &Arc<AppState>,
    request_id: &str,
) -> (Result<HttpResponse, Failure>, Option<Version>) {
    let verb = req.method();
    if verb != HttpMethod::GET && verb != HttpMethod::POST && verb != HttpMethod::PUT {
        let e = ApiError::VerbNotImplemented(verb.as_str().chars().take(20).collect());
        return (Err(fatal(e)), None);
    }
    let route = match parse_path(req.path()) {
        Ok(r) => r,
        Err(e) => return (Err(fatal(e)), None),
    };
    match route.target {
        Target::Health => return (Ok(super::endpoints::health(state, req).await), None),
        Target::Metrics => return (Ok(super::endpoints::metrics(state, req).await), None),
        _ => {}
    }
    let accept = req
        .headers()
        .get("accept-version")
        .and_then(|v| v.to_str().ok());
    let version = match resolve_version(route.version, accept, &state.versions.load()) {
        Ok(Resolved::Serve(v)) => v,
        Ok(Resolved::Redirect(to, code)) => {
            let rest = match route.target {
                Target::Index => String::new(),
                Target::Method(m) => m.to_string(),
                Target::Guide(g) => format!("guide/{g}"),
                Target::OpenApi => "openapi.json".into(),
                Target::Postman => "postman.json".into(),
                Target::Asset(a) => format!("assets/{a}"),
                Target::Health => "health".into(),
                Target::Metrics => "metrics".into(),
                Target::Media(k, f) => format!("media/{k}/{f}"),
            };
            let mut location = format!("/v{to}/{rest}");
            if !req.query_string().is_empty() {
                location.push('?');
                location.push_str(req.query_string());
            }
            return (Ok(respond::redirect(code, &location)), None);
        }
        Err(e) => return (Err(fatal(e)), None),
    };
    let with_version = |r| (r, Some(version));

    // Catalogue files are plain GETs (signed links carry their own proof).
    if let Target::Media(kind, file) = route.target {
        if verb != HttpMethod::GET {
            let e = ApiError::VerbNotImplemented(verb.as_str().chars().take(20).collect());
            return with_version(Err(fatal(e)));
        }
        let resp =
            super::files::serve(Arc::clone(state), req, kind.into(), file.into(), request_id).await;
        return with_version(Ok(resp));
    }
    // GET without app credentials reads the documentation.
    if verb == HttpMethod::GET
        && !query_has_credentials(req.query_string())
        && oauth_header(req).is_none()
    {
        let base = state.base_url_for(&forwarded::origin(req, &state.ops.trusted_proxies));
        // The sample answers run the methods, which may wait for a render:
        // never on the HTTP worker (a request may come before the warm-up).
        if state.docs_samples.get().is_none() {
            let st = Arc::clone(state);
            let _ = web::block(move || {
                crate::docs::samples(&st);
            })
            .await;
        }
        return with_version(Ok(super::docs::serve_get(
            state,
            version,
            &route.target,
            &base,
        )));
    }
    let name = match route.target {
        Target::Method(m) => m,
        _ => {
            let path = req.path().trim_start_matches('/');
            return with_version(Err(fatal(ApiError::UnknownMethod(
                path.chars().take(64).collect(),
            ))));
        }
    };
    with_version(execute(req, payload, state, request_id, version, name).await)
}

/// The `Authorization` header when it uses the OAuth scheme.
fn oauth_header(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .filter(|v| oauth1::is_oauth(v))
}

fn query_has_credentials(query: &str) -> bool {
    query.split('&').any(|pair| {
        let name = pair.split('=').next().unwrap_or("");
        name == "api_key" || name == "consumer_key"
    })
}

async fn execute(
    req: &HttpRequest,
    payload: web::Payload,
    state: &Arc<AppState>,
    request_id: &str,
    version: Version,
    name: &str,
) -> Result<HttpResponse, Failure> {
    let method = match state.registry.lookup(name, version) {
        Lookup::Found(m) => m,
        Lookup::OtherVersions(decls) => {
            let exists_in = decls
                .iter()
                .map(|d| match d.until {
                    Some(u) => format!("{} to before {}", d.since, u),
                    None => format!("{} and later", d.since),
                })
                .collect::<Vec<_>>()
                .join("; ");
            return Err(fatal(ApiError::MethodNotInVersion {
                name: name.to_string(),
                version,
                exists_in,
            }));
        }
        Lookup::Unknown => {
            return Err(fatal(ApiError::UnknownMethod(
                name.chars().take(64).collect(),
            )))
        }
    };
    if req.method() == HttpMethod::PUT && !method.verbs.contains(&Verb::Put) {
        return Err(fatal(ApiError::VerbNotImplemented("PUT".into())));
    }
    let body_timeout = state.config.limits.body_timeout_secs;
    let body = actix_web::rt::time::timeout(
        std::time::Duration::from_secs(body_timeout),
        read_body(req, payload, state.config.limits.max_body_bytes),
    )
    .await
    .unwrap_or(Err(ApiError::BodyTimeout(body_timeout)))
    .map_err(fatal)?;
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    // A PUT body that is not a form (XML, JSON) reaches the handler whole.
    let raw_put = req.method() == HttpMethod::PUT && !is_form(content_type);
    let form_body: &[u8] = if raw_put { &[] } else { &body };
    let mut params = params::parse(
        req.query_string(),
        content_type,
        form_body,
        &state.param_limits,
    )
    .map_err(|e| fatal(e.into()))?;
    if raw_put && !body.is_empty() {
        let text = String::from_utf8(body.to_vec()).map_err(|_| {
            fatal(ApiError::BadParams(params::ParamError::InvalidUtf8 {
                name: RAW_BODY.into(),
            }))
        })?;
        params
            .insert(RAW_BODY.into(), params::ParamValue::One(text))
            .map_err(|e| fatal(e.into()))?;
    }
    let origin = forwarded::origin(req, &state.ops.trusted_proxies);
    if method.ssl && !origin.https {
        return Err(fatal(ApiError::SslRequired));
    }
    let base_url = state.base_url_for(&origin);
    let oauth = match oauth_header(req) {
        None => None,
        Some(h) => Some(OAuthRequest {
            header: oauth1::parse_header(h).map_err(|e| fatal(e.into()))?,
            http_method: req.method().as_str().to_string(),
            base_uri: format!("{base_url}{}", req.path()),
            query: req.query_string().to_string(),
            urlencoded_body: params::is_urlencoded_body(content_type, &body)
                .then(|| String::from_utf8_lossy(&body).into_owned()),
        }),
    };
    // A bad content_type is reported (in XML) once the caller is known.
    let (format, binary, bad_format) = match Wanted::parse(params.get("content_type")) {
        Ok(w) => (w.format, w.binary, None),
        Err(e) => (Format::Xml, false, Some(e)),
    };
    let consumer_key = oauth
        .as_ref()
        .and_then(|o| o.header.get("oauth_consumer_key"));
    let gate = Gate::enter(
        &state.ops,
        &*state.clock,
        req,
        method.name,
        &params,
        consumer_key,
    )
    .map_err(fatal)?;
    let incoming = Incoming {
        params,
        oauth,
        base_url,
        bad_format,
    };
    let mut quota = None;
    let outcome =
        authenticate_and_run(state, method, version, incoming, request_id, &mut quota).await;
    gate.leave(&state.ops, &*state.clock, &outcome);
    if let Some(q) = quota {
        req.extensions_mut().insert(q);
    }
    match outcome {
        Ok(answer) => match (&answer.binary, binary) {
            (Some(file), true) => Ok(respond::binary(file)),
            _ => Ok(respond::ok(&answer, format)),
        },
        Err(e) => Err((e, format)),
    }
}

fn is_form(content_type: Option<&str>) -> bool {
    let essence = content_type
        .and_then(|ct| ct.split(';').next())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/x-www-form-urlencoded" || essence == "multipart/form-data"
}

/// A parsed request on its way to authentication.
struct Incoming {
    params: Params,
    oauth: Option<OAuthRequest>,
    /// `scheme://host` the client used (or the configured public URL).
    base_url: String,
    /// A bad `content_type`, reported once the caller is known.
    bad_format: Option<ApiError>,
}

/// App auth and the replay claim on the HTTP worker ([`authenticate`]),
/// the api key's rate limit, then user auth and the handler: on the worker
/// too for `inline` methods, else on the blocking pool. `quota` receives
/// the rate-limit state for the headers.
async fn authenticate_and_run(
    state: &Arc<AppState>,
    method: &'static Method,
    version: Version,
    incoming: Incoming,
    request_id: &str,
    quota: &mut Option<Quota>,
) -> Result<Answer, ApiError> {
    let Incoming {
        params,
        oauth,
        base_url,
        bad_format,
    } = incoming;
    let caller = authenticate::app(state, method, &params, oauth.as_ref(), request_id).await?;
    ratelimit::charge_api_key(
        &state.ops,
        &*state.clock,
        &caller.key.api_key,
        method.name,
        quota,
    )?;
    // From here on the caller is known: errors are normal answers.
    if let Some(e) = bad_format {
        return Err(e);
    }
    if method.inline {
        let caller = Principal {
            key: &caller.key,
            account: None,
            base_url: &base_url,
        };
        return run_method(state, method, version, &caller, params, request_id);
    }
    let st = Arc::clone(state);
    let rid = request_id.to_string();
    let span = tracing::Span::current();
    let mut slot = quota.take();
    let (outcome, slot) = web::block(move || {
        let _request = span.enter();
        let r = user_and_run(
            &st, method, version, caller, params, &base_url, &rid, &mut slot,
        );
        (r, slot)
    })
    .await
    .unwrap_or((Err(ApiError::Unavailable), None));
    *quota = slot;
    outcome
}

/// The blocking part: user auth (tokens live in the store), the user
/// token's rate limit, then [`run_method`].
#[allow(clippy::too_many_arguments)]
fn user_and_run(
    state: &Arc<AppState>,
    method: &'static Method,
    version: Version,
    caller: caller::AuthenticatedApp,
    params: Params,
    base_url: &str,
    request_id: &str,
    quota: &mut Option<Quota>,
) -> Result<Answer, ApiError> {
    let now = state.clock.now();
    let key = &caller.key;
    let account = user_auth::account_for(&state.store, now, method.user_auth, key, caller.proof)?;
    if let Some(token) = account.as_ref().and_then(|a| a.token.as_ref()) {
        ratelimit::charge_user_token(&state.ops, &*state.clock, &token.token, method.name, quota)?;
    }
    let caller = Principal {
        key,
        account: account.as_ref(),
        base_url,
    };
    run_method(state, method, version, &caller, params, request_id)
}

/// Reads the body up to `max` bytes; more is `413` (early, from Content-Length
/// when the client announced it).
pub(crate) async fn read_body(
    req: &HttpRequest,
    mut payload: web::Payload,
    max: usize,
) -> Result<Bytes, ApiError> {
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > max as u64) {
        return Err(ApiError::BodyTooLarge(max));
    }
    let mut buf = BytesMut::with_capacity(announced.unwrap_or(0).min(max as u64) as usize);
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::BadParams(params::ParamError::Malformed(format!("body: {e}")))
        })?;
        if buf.len() + chunk.len() > max {
            return Err(ApiError::BodyTooLarge(max));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}
