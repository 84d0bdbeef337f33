//! Applying a reloaded configuration to the running state (SIGHUP, or
//! `panthera reload` through `ops::reload`'s pid file): the version table and
//! the rate-limit policies swap, the master key is re-read; other settings
//! need a restart (logged).

use std::sync::Arc;

use super::AppState;
use crate::config::Config;
use crate::protocol::version::VersionTable;

/// Applies what can change at run time; returns the sections that changed
/// but need a restart.
pub fn apply(state: &AppState, new: &Config) -> Result<Vec<&'static str>, String> {
    let table = VersionTable::from_config(&new.versions).map_err(|e| e.to_string())?;
    state.versions.store(table);
    state.ops.limiter.set_policies(&new.rate_limits);
    let ring = state.store.keyring();
    if let Ok(key) = ring.source().load(false) {
        if key.id() != ring.id() && !ring.refresh_to(&key.id()) {
            tracing::warn!("the master key source changed; keeping the key in use");
        }
    }
    let old = &state.config;
    let sections: [(&'static str, bool); 10] = [
        ("data_dir", old.data_dir == new.data_dir),
        (
            "rate_limits.share_every_ms",
            old.rate_limits.share_every_ms == new.rate_limits.share_every_ms,
        ),
        ("server", old.server == new.server),
        ("auth", old.auth == new.auth),
        ("limits", old.limits == new.limits),
        ("log", old.log == new.log),
        ("metrics", old.metrics == new.metrics),
        ("testing", old.testing == new.testing),
        ("media", old.media == new.media),
        ("store", old.store == new.store),
    ];
    Ok(sections
        .into_iter()
        .filter(|(_, same)| !same)
        .map(|(name, _)| name)
        .collect())
}

/// Loads the configuration again and applies it, logging the outcome.
pub fn reload_now(state: &AppState, load: &dyn Fn() -> Result<Config, String>) {
    let outcome = load().and_then(|c| apply(state, &c));
    state.ops.metrics.reloaded(outcome.is_ok());
    match outcome {
        Ok(restart) if restart.is_empty() => tracing::info!("configuration reloaded"),
        Ok(restart) => tracing::warn!(
            needs_restart = %restart.join(", "),
            "configuration reloaded; changed settings in these sections apply after a restart"
        ),
        Err(e) => tracing::error!(error = %e, "configuration reload failed; nothing changed"),
    }
}

/// Reloads on every SIGHUP. Call inside the server's runtime, before the
/// server announces itself: until then SIGHUP would end the process.
#[cfg(unix)]
pub fn listen(
    state: Arc<AppState>,
    load: Box<dyn Fn() -> Result<Config, String>>,
) -> Result<(), String> {
    use actix_web::rt::signal::unix::{signal, SignalKind};
    let mut hangups =
        signal(SignalKind::hangup()).map_err(|e| format!("cannot watch SIGHUP: {e}"))?;
    actix_web::rt::spawn(async move {
        while hangups.recv().await.is_some() {
            reload_now(&state, &*load);
        }
    });
    Ok(())
}

#[cfg(not(unix))]
pub fn listen(
    _state: Arc<AppState>,
    _load: Box<dyn Fn() -> Result<Config, String>>,
) -> Result<(), String> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::version::{Version, VersionState};

    #[test]
    fn reload_swaps_versions_and_names_what_needs_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            data_dir: dir.path().to_path_buf(),
            ..Config::default()
        };
        let state = AppState::with_system_clock(config.clone()).unwrap();
        let held = state.versions.load();
        let mut new = config.clone();
        new.versions
            .states
            .insert("1.1".into(), VersionState::Deprecated);
        new.server.workers = 3;
        new.rate_limits.share_every_ms = 100;
        new.media.originals_dir = "/elsewhere".into();
        let restart = apply(&state, &new).unwrap();
        assert_eq!(
            restart,
            vec!["rate_limits.share_every_ms", "server", "media"]
        );
        let v11 = Version::new(1, 1);
        assert_eq!(
            state.versions.load().state(v11),
            Some(VersionState::Deprecated)
        );
        assert_eq!(
            held.state(v11),
            Some(VersionState::Current),
            "held tables stay"
        );
    }
}
