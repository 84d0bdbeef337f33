//! Configuration reload without a restart. SIGHUP, or `panthera reload`
//! (which finds the server through the pid file in the data directory),
//! swaps the version table and the rate-limit policies and re-reads the
//! master key. Connections stay open; requests in flight finish under the
//! table they started with. Other settings need a restart (logged).
//! Here: finding the running server; applying a configuration to the
//! running state is wiring (`app::reload`).

use std::path::{Path, PathBuf};

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

#[cfg(test)]
mod tests {
    use super::*;

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
