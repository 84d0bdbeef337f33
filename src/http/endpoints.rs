//! `GET /health` (liveness, a store round trip and its write state) and `GET /metrics`
//! (Prometheus text, for allowed addresses only).

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest, HttpResponse};

use crate::answer::FATAL_CONTENT_TYPE;
use crate::methods::AppState;
use crate::ops::metrics::Gauges;
use crate::ops::{ClientAddr, MethodLabel};

/// How long the outcome of the nonce writer's latest commit stands for the
/// store's write state before `/health` commits a probe of its own.
const WRITE_STATE_FRESH: Duration = Duration::from_secs(1);

/// 200 `{"status":"ok"}` when the store answers a query, the nonce writer
/// runs and the store takes writes; else 503 `{"status":"unavailable"}`,
/// with `"writes":"failing"` when only writes fail (a full disk: every
/// signed call would be `503`). Cheap, for probes: the query-only connection
/// never waits for a handler's transaction, and the write state is the
/// outcome of the nonce writer's latest commit when it is under a second
/// old, else a small commit through the writer (joining its group commit).
/// On PostgreSQL the query is a ping shared by concurrent calls and reused
/// for a second (`Store::ping_async`): one query a second, not one per call.
pub async fn health(state: &Arc<AppState>, req: &HttpRequest) -> HttpResponse {
    req.extensions_mut().insert(MethodLabel("health"));
    let store_ok = state.store.ping_async().await.is_ok();
    let store_ok = store_ok && state.nonces.is_running();
    let writes_ok = store_ok && writable(state).await;
    let (mut b, body) = if writes_ok {
        (HttpResponse::Ok(), r#"{"status":"ok"}"#)
    } else if store_ok {
        (
            HttpResponse::ServiceUnavailable(),
            r#"{"status":"unavailable","writes":"failing"}"#,
        )
    } else {
        (
            HttpResponse::ServiceUnavailable(),
            r#"{"status":"unavailable"}"#,
        )
    };
    b.insert_header((header::CONTENT_TYPE, "application/json"))
        .body(body)
}

/// Whether the store takes writes now (see [`health`]).
async fn writable(state: &AppState) -> bool {
    match state.nonces.last_write() {
        Some(w) if w.at.elapsed() < WRITE_STATE_FRESH => w.error.is_none(),
        _ => state.nonces.probe_async().await.is_ok(),
    }
}

/// The metrics, or 403 for addresses outside `metrics.allow` (404 when off).
pub async fn metrics(state: &Arc<AppState>, req: &HttpRequest) -> HttpResponse {
    req.extensions_mut().insert(MethodLabel("metrics"));
    if !state.config.metrics.enabled {
        return plain(404, "404 Not Found (metrics are switched off)");
    }
    let client = req.extensions().get::<ClientAddr>().map(|c| c.0);
    let allowed = client.is_some_and(|ip| state.ops.metrics_allow.iter().any(|c| c.contains(ip)));
    if !allowed {
        return plain(
            403,
            "403 Forbidden (metrics are not served to your address)",
        );
    }
    let live = state.nonces.stats().live.load(Ordering::Relaxed);
    let nonces = i64::try_from(live).ok();
    let gauges = Gauges {
        in_flight: state.ops.in_flight.total(),
        connections: state.ops.connections.total(),
        nonces,
        rate_limit_buckets: state.ops.limiter.buckets(),
        start_time: state.ops.started,
    };
    HttpResponse::Ok()
        .insert_header((
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        ))
        .body(state.ops.metrics.render(&gauges))
}

fn plain(code: u16, body: &'static str) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(code)
        .unwrap_or(actix_web::http::StatusCode::FORBIDDEN);
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, FATAL_CONTENT_TYPE))
        .body(body)
}
