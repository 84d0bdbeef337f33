//! The path of one request, walked once, forward (architecture.md):
//! verb → route + version → docs or params → method → SSL → failed-auth
//! throttle → app auth → replay → rate limit → validation → handler → encoding.

use std::sync::Arc;

use actix_web::http::{header, Method as HttpMethod};
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;

use super::headers::RequestId;
use super::respond;
use super::route::{parse_path, resolve_version, Resolved, Target};
use crate::answer::tree::Answer;
use crate::answer::{Format, Wanted};
use crate::app::AppState;
use crate::error::ApiError;
use crate::methods::{Args, Ctx, Lookup, Method, Verb};
use crate::ops::gate::Gate;
use crate::ops::ratelimit::{self, Quota};
use crate::protocol::auth::{check_window, replay_digest, verify_app, Credentials};
use crate::protocol::params::{self, Params};
use crate::protocol::version::Version;
use crate::store::keys::{self, ApiKey};
use crate::store::nonces;

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
        Target::Health => return (Ok(crate::ops::endpoints::health(state, req).await), None),
        Target::Metrics => return (Ok(crate::ops::endpoints::metrics(state, req).await), None),
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
                Target::Asset(a) => format!("assets/{a}"),
                Target::Health => "health".into(),
                Target::Metrics => "metrics".into(),
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

    // GET without app credentials reads the documentation.
    if verb == HttpMethod::GET && !query_has_credentials(req.query_string()) {
        return with_version(Ok(crate::docs::serve_get(state, version, &route.target)));
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
    let params = params::parse(req.query_string(), content_type, &body, &state.param_limits)
        .map_err(|e| fatal(e.into()))?;
    if method.ssl && !req.app_config().secure() {
        return Err(fatal(ApiError::SslRequired));
    }
    // A bad content_type is reported (in XML) once the caller is known.
    let (format, bad_format) = match Wanted::parse(params.get("content_type")) {
        Ok(w) => (w.format, None),
        Err(e) => (Format::Xml, Some(e)),
    };
    let gate = Gate::enter(state, req, method.name, &params).map_err(fatal)?;
    let st = Arc::clone(state);
    let rid = request_id.to_string();
    let span = tracing::Span::current();
    let (outcome, quota) = web::block(move || {
        let _request = span.enter();
        let mut quota = None;
        let r = authenticate_and_run(&st, method, version, params, bad_format, &rid, &mut quota);
        (r, quota)
    })
    .await
    .unwrap_or((Err(ApiError::Unavailable), None));
    gate.leave(state, &outcome);
    if let Some(q) = quota {
        req.extensions_mut().insert(q);
    }
    match outcome {
        Ok(answer) => Ok(respond::ok(&answer, format)),
        Err(e) => Err((e, format)),
    }
}

/// The blocking part: key lookup, signature, replay claim, rate limit,
/// validation, handler. `quota` receives the rate-limit state for the headers.
fn authenticate_and_run(
    state: &Arc<AppState>,
    method: &'static Method,
    version: Version,
    params: Params,
    bad_format: Option<ApiError>,
    request_id: &str,
    quota: &mut Option<Quota>,
) -> Result<Answer, ApiError> {
    let creds = Credentials::from_params(&params)?;
    check_window(
        creds.timestamp,
        state.clock.now(),
        state.config.auth.timestamp_tolerance_secs,
    )?;
    let key = state
        .store
        .with(|c| keys::find(c, state.store.keyring(), creds.api_key, state.clock.now()))
        .map_err(|e| {
            tracing::error!(request_id, error = %e, "key lookup failed");
            ApiError::Unavailable
        })?;
    verify_app(key.as_ref(), &creds)?;
    let key = key.ok_or(ApiError::UnknownApiKey)?;
    let digest = replay_digest(key.replay, method.name, &params);
    let expires = creds.timestamp.unix()
        + i64::try_from(state.config.auth.timestamp_tolerance_secs).unwrap_or(i64::MAX / 2)
        + 1;
    let fresh = state
        .store
        .with(|c| {
            nonces::claim(
                c,
                &key.api_key,
                creds.timestamp.unix(),
                creds.nonce,
                &digest,
                expires,
            )
        })
        .map_err(|e| {
            tracing::error!(request_id, error = %e, "nonce claim failed");
            ApiError::Unavailable
        })?;
    if !fresh {
        return Err(ApiError::Replay);
    }
    ratelimit::charge_api_key(state, &key.api_key, method.name, quota)?;
    // From here on the caller is known: errors are normal answers.
    if let Some(e) = bad_format {
        return Err(e);
    }
    run_method(state, method, version, &key, params, request_id)
}

/// Runs a method for an authenticated caller: validation, then the handler.
/// The docs' sample answers come through here too.
pub fn run_method(
    state: &Arc<AppState>,
    method: &'static Method,
    version: Version,
    key: &ApiKey,
    params: Params,
    request_id: &str,
) -> Result<Answer, ApiError> {
    let args = Args::validate(method, params)?;
    let ctx = Ctx {
        state,
        method,
        version,
        key,
        request_id,
        args: &args,
    };
    (method.handler)(&ctx)
}

/// Reads the body up to `max` bytes; more is `413` (early, from Content-Length
/// when the client announced it).
async fn read_body(
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
