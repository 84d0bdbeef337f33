//! Files only the service's user may read (private keys, the token key).

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to a new file with mode 0600 (on Unix); an existing file is
/// replaced.
pub fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}
