//! The order worker: a background thread that moves download orders along
//! (queued → processing → ready) and notifies their `callback_url`, retrying
//! failed notifications with exponential backoff. It never holds the store
//! while it waits on the network.

use std::sync::Arc;
use std::time::Duration;

use crate::app::AppState;
use crate::store::orders::{self, CallbackOutcome, Order};

/// Starts the worker thread.
pub fn spawn(state: Arc<AppState>) {
    let interval = Duration::from_millis(state.config.media.worker_interval_ms.max(10));
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(5))
        .redirects(0)
        .build();
    std::thread::Builder::new()
        .name("media-orders".into())
        .spawn(move || loop {
            std::thread::sleep(interval);
            tick(&state, &agent);
        })
        .map(|_| ())
        .unwrap_or_else(|e| tracing::warn!(error = %e, "cannot start the order worker"));
}

/// How long a worker holds the callbacks it took: longer than the 20
/// deliveries of one round can take, so no other instance sends them too.
const CALLBACK_LEASE_SECS: i64 = 300;

/// One round: advance the orders, then deliver the callbacks that are due.
pub fn tick(state: &AppState, agent: &ureq::Agent) {
    let now = state.clock.now();
    if let Err(e) = state.store.orders().advance(now) {
        tracing::warn!(error = %e, "advancing orders failed");
        return;
    }
    let due = match state
        .store
        .orders()
        .claim_due_callbacks(now, now + CALLBACK_LEASE_SECS, 20)
    {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "reading due callbacks failed");
            return;
        }
    };
    for (order, attempts) in due {
        let delivered = notify(state, agent, &order);
        let outcome = if delivered {
            CallbackOutcome::Delivered
        } else if attempts + 1 >= i64::from(state.config.media.callback_max_attempts) {
            tracing::warn!(id_download = order.id, "callback given up");
            CallbackOutcome::GaveUp
        } else {
            CallbackOutcome::RetryAt(now + backoff(attempts))
        };
        if let Err(e) = state.store.orders().callback_attempted(order.id, outcome) {
            tracing::warn!(error = %e, "recording a callback attempt failed");
        }
    }
}

/// Seconds before retry number `attempts + 1`: 1, 2, 4, … capped at 512.
pub fn backoff(attempts: i64) -> i64 {
    1i64 << attempts.clamp(0, 9)
}

/// POSTs the order's state to its callback URL; true on a 2xx answer.
fn notify(state: &AppState, agent: &ureq::Agent, order: &Order) -> bool {
    let Some(url) = order.callback_url.as_deref() else {
        return true;
    };
    let download_url = match crate::methods::downloads::download_url(state, order.id) {
        Ok(u) => u,
        Err(e) => {
            tracing::warn!(error = %e, "cannot sign a download link");
            return false;
        }
    };
    let result = agent
        .post(url)
        .set(
            "User-Agent",
            concat!("panthera/", env!("CARGO_PKG_VERSION")),
        )
        .send_form(&[
            ("id_download", &order.id.to_string()),
            ("id_media", &order.media_id.to_string()),
            ("queue_hash", &order.queue_hash),
            ("status", orders::Status::Ready.as_str()),
            ("download_url", &download_url),
        ]);
    match result {
        Ok(r) => (200..300).contains(&r.status()),
        Err(e) => {
            tracing::info!(id_download = order.id, error = %e, "callback failed, will retry");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(
            (0..4).map(super::backoff).collect::<Vec<_>>(),
            vec![1, 2, 4, 8]
        );
        assert_eq!(super::backoff(50), 512);
    }
}
