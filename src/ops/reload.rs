//! Configuration reload without a restart. SIGHUP, or `panthera reload`
//! (which finds the server through the pid file in the data directory),
//! swaps the version table and the rate-limit policies and re-reads the
//! master key. Connections stay open; requests in flight finish under the
//! table they started with. Other settings need a restart (logged).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::app::AppState;
use crate::config::Config;
use crate::protocol::version::VersionTable;

/// The pid file's name inside the data directory.
pub const PID_FILE: &str = "panthera.pid";

/// The running server's pid file; removed when dropped (clean shutdown).
pub struct PidFile {
    path: PathBuf,
}

impl PidFile {
    pub fn create(data_dir: &Path) -> std::io::Result<PidFile> {
        let path = data_dir.join(PID_FILE);
        std::fs::write(&path, format!("{}\n", std::process::id()))?;
        Ok(PidFile { path })
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        // Only our own: a second server may have replaced it meanwhile.
        if read_pid(&self.path) == Some(std::process::id()) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn read_pid(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The pid of the server running on `data_dir`, if its pid file names a
/// live process.
pub fn running_server(data_dir: &Path) -> Option<u32> {
    let pid = read_pid(&data_dir.join(PID_FILE))?;
    alive(pid).then_some(pid)
}

#[cfg(unix)]
fn alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill with signal 0 only checks that the process exists.
    unsafe { libc::kill(pid, 0) == 0 }
}

#[cfg(not(unix))]
fn alive(_pid: u32) -> bool {
    false
}

/// Sends SIGHUP to the server running on `data_dir`; its pid on success.
pub fn signal_reload(data_dir: &Path) -> Result<u32, String> {
    let file = data_dir.join(PID_FILE);
    let pid = read_pid(&file).ok_or_else(|| {
        format!(
            "no server is running on {} (no pid file {})",
            data_dir.display(),
            file.display()
        )
    })?;
    if !alive(pid) {
        return Err(format!(
            "the pid file {} names process {pid}, which is not running",
            file.display()
        ));
    }
    send_hangup(pid)?;
    Ok(pid)
}

#[cfg(unix)]
fn send_hangup(pid: u32) -> Result<(), String> {
    let p = libc::pid_t::try_from(pid).map_err(|_| format!("bad pid {pid}"))?;
    // SAFETY: sends a signal to a process; no memory is involved.
    if unsafe { libc::kill(p, libc::SIGHUP) } == 0 {
        Ok(())
    } else {
        Err(format!(
            "cannot signal process {pid}: {}",
            std::io::Error::last_os_error()
        ))
    }
}

#[cfg(not(unix))]
fn send_hangup(_pid: u32) -> Result<(), String> {
    Err("reload needs a Unix system".into())
}

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
    let sections: [(&'static str, bool); 7] = [
        ("data_dir", old.data_dir == new.data_dir),
        ("server", old.server == new.server),
        ("auth", old.auth == new.auth),
        ("limits", old.limits == new.limits),
        ("log", old.log == new.log),
        ("metrics", old.metrics == new.metrics),
        ("testing", old.testing == new.testing),
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
        let restart = apply(&state, &new).unwrap();
        assert_eq!(restart, vec!["server"]);
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

    #[test]
    fn the_pid_file_names_this_process_and_goes_away() {
        let dir = tempfile::tempdir().unwrap();
        assert!(signal_reload(dir.path()).is_err());
        let pid = PidFile::create(dir.path()).unwrap();
        assert_eq!(running_server(dir.path()), Some(std::process::id()));
        drop(pid);
        assert!(!dir.path().join(PID_FILE).exists());
    }
}
