//! `GET /health` (liveness and a store round trip) and `GET /metrics`
//! (Prometheus text, for allowed addresses only).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpMessage, HttpRequest, HttpResponse};

use super::metrics::Gauges;
use super::{ClientAddr, MethodLabel};
use crate::answer::FATAL_CONTENT_TYPE;
use crate::app::AppState;

/// 200 `{"status":"ok"}` when the store answers a query and the nonce writer
/// runs, else 503 `{"status":"unavailable"}`. Cheap, for probes: the
/// query-only connection never waits for a handler's transaction.
pub async fn health(state: &Arc<AppState>, req: &HttpRequest) -> HttpResponse {
    req.extensions_mut().insert(MethodLabel("health"));
    let store_ok = state
        .store
        .read(|c| {
            c.prepare_cached("SELECT 1")?
                .query_row([], |r| r.get::<_, i64>(0))
        })
        .is_ok();
    let store_ok = store_ok && state.nonces.is_running();
    let (mut b, body) = if store_ok {
        (HttpResponse::Ok(), r#"{"status":"ok"}"#)
    } else {
        (
            HttpResponse::ServiceUnavailable(),
            r#"{"status":"unavailable"}"#,
        )
    };
    b.insert_header((header::CONTENT_TYPE, "application/json"))
        .body(body)
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
