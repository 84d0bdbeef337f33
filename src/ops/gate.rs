//! The throttle on failed app authentications around one call: refused at
//! once (fatal `429`) while the address or the key named has failed too
//! often, so guessing secrets is hopeless; every failure is counted.

use std::net::IpAddr;

use actix_web::{HttpMessage, HttpRequest};

use super::metrics::{AuthFailure, Rejection};
use super::{ClientAddr, MethodLabel, Ops};
use crate::clock::Clock;
use crate::error::ApiError;
use crate::protocol::params::Params;

/// One call between its parameters and its outcome.
pub struct Gate {
    address: Option<IpAddr>,
    api_key: Option<String>,
}

impl Gate {
    /// Labels the call for the metrics and checks the throttle, before the
    /// key is looked up or the signature computed.
    /// `oauth_consumer_key` is the key named by an OAuth header, if any:
    /// both schemes are throttled alike.
    pub fn enter(
        ops: &Ops,
        clock: &dyn Clock,
        req: &HttpRequest,
        method: &'static str,
        params: &Params,
        oauth_consumer_key: Option<&str>,
    ) -> Result<Gate, ApiError> {
        req.extensions_mut().insert(MethodLabel(method));
        let address = req.extensions().get::<ClientAddr>().map(|c| c.0);
        let api_key = oauth_consumer_key
            .or_else(|| params.get("api_key"))
            .or_else(|| params.get("consumer_key"))
            .map(str::to_string);
        let blocked = ops
            .limiter
            .auth_blocked(address, api_key.as_deref(), clock.now_millis());
        if let Some(retry_after) = blocked {
            tracing::warn!(
                client = ?address,
                retry_after,
                "too many failed authentications: refused before verifying"
            );
            ops.metrics.rejected(Rejection::FailedAuth);
            return Err(ApiError::TooManyFailures { retry_after });
        }
        Ok(Gate { address, api_key })
    }

    /// Counts the outcome: authentication failures feed the throttle and the
    /// metrics. A wrong signature counts against the key too (it exists).
    pub fn leave<T>(&self, ops: &Ops, clock: &dyn Clock, outcome: &Result<T, ApiError>) {
        let Err(e) = outcome else { return };
        let Some(why) = AuthFailure::of(e) else {
            return;
        };
        ops.metrics.auth_failed(why);
        let now = clock.now_millis();
        let limiter = &ops.limiter;
        match why {
            AuthFailure::UnknownKey | AuthFailure::RevokedKey => {
                limiter.auth_failed(self.address, None, now)
            }
            AuthFailure::BadSignature => {
                limiter.auth_failed(self.address, self.api_key.as_deref(), now)
            }
            _ => {}
        }
    }
}
