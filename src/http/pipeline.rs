//! The path of one request, walked once, forward (architecture.md):
//! verb → route + version → docs or params → method → SSL → app auth →
//! replay → validation → handler → encoding.

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
    let accept = req
        .headers()
        .get("accept-version")
        .and_then(|v| v.to_str().ok());
    let version = match resolve_version(route.version, accept, &state.versions) {
        Ok(Resolved::Serve(v)) => v,
        Ok(Resolved::Redirect(to, code)) => {
            let rest = match route.target {
                Target::Index => String::new(),
                Target::Method(m) => m.to_string(),
                Target::Guide(g) => format!("guide/{g}"),
                Target::OpenApi => "openapi.json".into(),
                Target::Asset(a) => format!("assets/{a}"),
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
            crate::media::files::serve(Arc::clone(state), kind.into(), file.into(), request_id)
                .await;
        return with_version(Ok(resp));
    }
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
    let body = read_body(req, payload, state.config.limits.max_body_bytes)
        .await
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
    if method.ssl && !req.app_config().secure() {
        return Err(fatal(ApiError::SslRequired));
    }
    // A bad content_type is reported (in XML) once the caller is known.
    let (format, binary, bad_format) = match Wanted::parse(params.get("content_type")) {
        Ok(w) => (w.format, w.binary, None),
        Err(e) => (Format::Xml, false, Some(e)),
    };
    let state = Arc::clone(state);
    let rid = request_id.to_string();
    let outcome =
        web::block(move || authenticate_and_run(&state, method, version, params, bad_format, &rid))
            .await
            .unwrap_or(Err(ApiError::Unavailable));
    match outcome {
        Ok(answer) => match (&answer.binary, binary) {
            (Some(file), true) => Ok(respond::binary(file)),
            _ => Ok(respond::ok(&answer, format)),
        },
        Err(e) => Err((e, format)),
    }
}

/// The parameter name under which a raw (non-form) PUT body reaches the
/// handler; a client sending a parameter of that name gets a `400` for PUTs.
pub const RAW_BODY: &str = "__body";

fn is_form(content_type: Option<&str>) -> bool {
    let essence = content_type
        .and_then(|ct| ct.split(';').next())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/x-www-form-urlencoded" || essence == "multipart/form-data"
}

/// The blocking part: key lookup, signature, replay claim, validation, handler.
fn authenticate_and_run(
    state: &Arc<AppState>,
    method: &'static Method,
    version: Version,
    params: Params,
    bad_format: Option<ApiError>,
    request_id: &str,
) -> Result<Answer, ApiError> {
    let creds = Credentials::from_params(&params)?;
    check_window(
        creds.timestamp,
        state.clock.now(),
        state.config.auth.timestamp_tolerance_secs,
    )?;
    let key = state
        .store
        .with(|c| keys::find(c, creds.api_key))
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
