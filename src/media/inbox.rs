//! The contributors' upload inbox (methods.md §F, `get-user-ftp-list`): a
//! folder per user, `<inbox dir>/<user id>/`, that an operator's FTP/SFTP
//! server or `panthera media inbox` fills. Processing imports each valid
//! JPEG as the user's new item (state `yellow`) in its own transaction and
//! moves the file to `<originals_dir>/<id>.jpg` only after the commit;
//! a bad file stays where it is and is reported with the reason.

use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::media::body::MAX_TITLE;
use crate::store::media::NewMedia;
use crate::store::users::User;
use crate::store::Store;

/// Longest file name accepted, in bytes (as most file systems).
pub const MAX_NAME_BYTES: usize = 255;

/// The folder holding every user's inbox.
pub fn root(config: &Config) -> PathBuf {
    if config.media.inbox_dir.as_os_str().is_empty() {
        config.data_dir.join("inbox")
    } else {
        config.media.inbox_dir.clone()
    }
}

/// The inbox of one user; `None` for an id that is not a plain name.
pub fn user_dir(config: &Config, user_id: &str) -> Option<PathBuf> {
    let plain = !user_id.is_empty()
        && user_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    plain.then(|| root(config).join(user_id))
}

/// Where imported originals are kept.
pub fn originals_dir(config: &Config) -> PathBuf {
    if config.media.originals_dir.as_os_str().is_empty() {
        config.data_dir.join("originals")
    } else {
        config.media.originals_dir.clone()
    }
}

/// One file waiting in an inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The name as shown (lossy for names that are not UTF-8).
    pub name: String,
    raw: OsString,
}

/// The regular files of a user's inbox, sorted by name. Hidden files (an
/// FTP server's partial uploads, `panthera media inbox`'s copies in
/// progress), folders and symbolic links are not listed. A missing inbox
/// is an empty one.
pub fn list(dir: &Path) -> io::Result<Vec<Entry>> {
    let read = match fs::read_dir(dir) {
        Ok(r) => r,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for entry in read {
        let entry = entry?;
        let raw = entry.file_name();
        let name = raw.to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        // symlink_metadata: a link is never followed out of the inbox
        match fs::symlink_metadata(entry.path()) {
            Ok(m) if m.file_type().is_file() => out.push(Entry { name, raw }),
            _ => continue,
        }
    }
    out.sort_by(|a, b| a.raw.cmp(&b.raw));
    Ok(out)
}

/// The outcome of processing one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Imported as this item.
    Imported(i64),
    /// Left in the inbox, for this reason.
    Failed(String),
}

/// The pixel size of a baseline or progressive JPEG, read from its frame
/// header; `None` when `bytes` is not a JPEG.
pub fn jpeg_size(bytes: &[u8]) -> Option<(i64, i64)> {
    if bytes.len() < 4 || bytes[0] != 0xFF || bytes[1] != 0xD8 {
        return None;
    }
    let mut i = 2;
    loop {
        // markers may be preceded by fill bytes 0xFF
        if *bytes.get(i)? != 0xFF {
            return None;
        }
        while *bytes.get(i)? == 0xFF {
            i += 1;
        }
        let marker = *bytes.get(i)?;
        i += 1;
        match marker {
            0x01 | 0xD0..=0xD7 => continue,
            0xD8..=0xDA => return None,
            _ => {}
        }
        let len = usize::from(u16::from_be_bytes([*bytes.get(i)?, *bytes.get(i + 1)?]));
        if len < 2 {
            return None;
        }
        let is_frame = matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC);
        if is_frame {
            let h = u16::from_be_bytes([*bytes.get(i + 3)?, *bytes.get(i + 4)?]);
            let w = u16::from_be_bytes([*bytes.get(i + 5)?, *bytes.get(i + 6)?]);
            return (w > 0 && h > 0).then_some((i64::from(w), i64::from(h)));
        }
        i += len;
    }
}

/// A title from a file name: its stem with `_` and `-` as spaces.
fn title_of(name: &str) -> String {
    let stem = Path::new(name)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or(name);
    let t: String = stem
        .chars()
        .map(|c| if c == '_' || c == '-' { ' ' } else { c })
        .filter(|c| !c.is_control())
        .take(MAX_TITLE)
        .collect();
    let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.is_empty() {
        "Untitled".into()
    } else {
        t
    }
}

/// Imports one inbox file as `user`'s new item, or says why not. The item
/// is inserted in one transaction; the file leaves the inbox only after
/// that committed (and when it cannot be moved, the item is removed again),
/// so a file is either imported and gone or still there and not imported.
pub fn process(
    store: &Store,
    config: &Config,
    user: &User,
    dir: &Path,
    entry: &Entry,
    now: i64,
) -> Outcome {
    let fail = |why: String| Outcome::Failed(why);
    let Some(name) = entry.raw.to_str() else {
        return fail("the file name is not valid UTF-8".into());
    };
    if name.len() > MAX_NAME_BYTES {
        return fail(format!(
            "the file name is longer than {MAX_NAME_BYTES} bytes"
        ));
    }
    let path = dir.join(&entry.raw);
    let max = config.media.inbox_max_file_bytes;
    let size = match fs::symlink_metadata(&path) {
        Ok(m) if m.file_type().is_file() => m.len(),
        Ok(_) => return fail("not a regular file".into()),
        Err(e) => return fail(format!("cannot read the file: {e}")),
    };
    if size > max {
        return fail(format!(
            "max. allowed upload size exceeded ({size} bytes, at most {max})"
        ));
    }
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) => return fail(format!("cannot read the file: {e}")),
    };
    if bytes.len() as u64 > max {
        return fail(format!(
            "max. allowed upload size exceeded ({} bytes, at most {max})",
            bytes.len()
        ));
    }
    let Some((width, height)) = jpeg_size(&bytes) else {
        return fail("not a JPEG image".into());
    };
    let realname = format!("{} {}", user.firstname, user.surname);
    let item = NewMedia {
        title: title_of(name),
        author_username: user.username.clone(),
        author_realname: realname.trim().to_string(),
        width,
        height,
        mime_type: "image/jpeg".into(),
        color: "grey".into(),
        state: "yellow".into(),
        filename: name.to_string(),
        created_at: now,
        ..NewMedia::default()
    };
    let inserted = store.media_items().add_upload(user, &item);
    let id = match inserted {
        Ok(Ok(id)) => id,
        Ok(Err(taken)) => {
            return fail(format!(
                "duplicate file name: your media {taken} already has this name"
            ))
        }
        Err(e) => {
            tracing::error!(error = %e, "inbox import failed");
            return fail("the store could not take the file, try again later".into());
        }
    };
    let target = originals_dir(config).join(format!("{id}.jpg"));
    if let Err(e) = move_file(&path, &target) {
        tracing::error!(error = %e, file = %path.display(), "moving an imported inbox file failed");
        // take the item back: the file stays in the inbox, not imported
        if let Err(e) = store.media_items().remove(id) {
            tracing::error!(error = %e, id, "removing the item of an unmovable inbox file failed");
        }
        return fail("the file could not be moved out of the inbox, try again later".into());
    }
    Outcome::Imported(id)
}

/// Moves `from` to `to` (creating its folder): a rename, or across file
/// systems a copy to a hidden temporary name, a rename and a removal.
fn move_file(from: &Path, to: &Path) -> io::Result<()> {
    let dir = to
        .parent()
        .ok_or_else(|| io::Error::other("no target folder"))?;
    fs::create_dir_all(dir)?;
    if fs::rename(from, to).is_ok() {
        return Ok(());
    }
    let tmp = dir.join(format!(
        ".{}.part",
        to.file_name().and_then(|n| n.to_str()).unwrap_or("file")
    ));
    fs::copy(from, &tmp)?;
    fs::rename(&tmp, to)?;
    fs::remove_file(from)
}

/// Copies `file` into the inbox `dir` under its own name (as an FTP upload
/// would): first to a hidden name, then renamed, so processing never sees
/// half a file. A name already waiting there is refused.
pub fn put(dir: &Path, file: &Path) -> Result<String, String> {
    let name = file
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("{}: not a file name", file.display()))?;
    if name.starts_with('.') {
        return Err(format!("{name}: hidden files are not processed"));
    }
    fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let target = dir.join(name);
    if target.exists() {
        return Err(format!("{name}: already waiting in the inbox"));
    }
    let tmp = dir.join(format!(".{name}.part"));
    fs::copy(file, &tmp).map_err(|e| format!("{}: {e}", file.display()))?;
    fs::rename(&tmp, &target).map_err(|e| format!("{name}: {e}"))?;
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpeg_sizes_come_from_the_frame_header() {
        let jpeg = crate::media::image::render(1, "red", 40, 30, false);
        assert_eq!(jpeg_size(&jpeg), Some((40, 30)));
        assert_eq!(jpeg_size(b"\x89PNG\r\n\x1a\n"), None);
        assert_eq!(jpeg_size(b""), None);
        assert_eq!(jpeg_size(&jpeg[..20]), None, "cut before the frame");
        assert_eq!(jpeg_size(b"\xff\xd8\xff\xc0\x00\x01"), None);
    }

    #[test]
    fn titles_from_file_names() {
        assert_eq!(title_of("red_fox-in snow.jpg"), "red fox in snow");
        assert_eq!(title_of("a.b.jpg"), "a.b");
        assert_eq!(title_of("__.jpg"), "Untitled");
    }

    proptest::proptest! {
        #[test]
        fn jpeg_size_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let mut b = vec![0xFF, 0xD8];
            b.extend(bytes);
            let _ = jpeg_size(&b);
        }
    }
}
