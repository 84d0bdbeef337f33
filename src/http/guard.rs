//! The operations middleware: answers TLS connections refused by a
//! connection cap, resolves the client address, caps requests in
//! flight per address (`421`), writes the rate-limit headers a call earned,
//! and counts every answer for the metrics.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::ConnectionType;
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage};

use super::headers::RequestId;
use super::respond;
use crate::answer::Format;
use crate::error::ApiError;
use crate::methods::AppState;
use crate::ops::conns::Refused;
use crate::ops::metrics::Rejection;
use crate::ops::ratelimit::Quota;
use crate::ops::{ClientAddr, MethodLabel};

/// Middleware; sits inside the standard-headers one so its answers get them too.
pub async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    };
    let started = Instant::now();
    // A TLS connection over a connection cap (ops/conns.rs): answer, close.
    if let Some(refused) = req.conn_data::<Refused>().cloned() {
        let rid = req
            .extensions()
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default();
        let mut answer = respond::error(&refused.0, Format::Xml, &rid);
        answer.head_mut().set_connection_type(ConnectionType::Close);
        let res = req.into_response(answer);
        observe(&state, &res, started.elapsed());
        return Ok(res.map_into_right_body());
    }
    let peer = req
        .peer_addr()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok());
    let client = crate::ops::net::client_address(peer, forwarded, &state.ops.trusted_proxies);
    req.extensions_mut().insert(ClientAddr(client));
    let max = state.config.limits.max_in_flight_per_address;
    let Some(_slot) = state.ops.in_flight.enter(client, max) else {
        state.ops.metrics.rejected(Rejection::InFlight);
        let rid = req
            .extensions()
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default();
        let err = ApiError::TooManyConnections {
            address: client.to_string(),
            max,
            retry_after: state.config.limits.in_flight_retry_after_secs,
        };
        let res = req.into_response(respond::error(&err, Format::Xml, &rid));
        observe(&state, &res, started.elapsed());
        return Ok(res.map_into_right_body());
    };
    let mut res = next.call(req).await?;
    let quota = res.request().extensions_mut().remove::<Quota>();
    if let Some(q) = quota {
        q.write_headers(res.headers_mut());
    }
    observe(&state, &res, started.elapsed());
    Ok(res.map_into_left_body())
}

fn observe<B>(state: &AppState, res: &ServiceResponse<B>, took: Duration) {
    let method = res
        .request()
        .extensions()
        .get::<MethodLabel>()
        .map_or("-", |m| m.0);
    let version = res
        .headers()
        .get(respond::API_VERSION_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    state
        .ops
        .metrics
        .observe(method, res.status().as_u16(), version, took);
}
