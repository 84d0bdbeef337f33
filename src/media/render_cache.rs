//! Rendered picture files, kept on disk under `<data_dir>/renders` so each is
//! rendered once and then streamed from the file (issue 12): previews and
//! purchased downloads alike. Renders are bounded: at most
//! `media.render_concurrency` at once, each on a thread of its own at a lower
//! CPU priority than the API; a few requests may wait for a slot
//! (`render_queue`, `render_wait_ms`), the others are told to come back
//! (`503` + `Retry-After`). Requests for a file being rendered wait for that
//! render instead of starting their own. The directory is bounded in bytes
//! (`render_cache_max_bytes`), the least recently used file going first.
//!
//! Also the per-address bucket of anonymous preview requests.

use std::collections::HashMap;
use std::io::Write as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::{watch, Semaphore};

use crate::config::{Config, RatePolicy};
use crate::ops::bucket::{Buckets, Decision};

/// Changes when `image::render` draws differently: old files are then
/// never asked for again and age out of the directory.
const RENDER_VERSION: u32 = 1;

/// Everything that decides the bytes of one rendered file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RenderKey {
    pub id: i64,
    pub color: String,
    pub width: u16,
    pub height: u16,
    pub watermark: bool,
}

impl RenderKey {
    /// The file's name: readable, and a digest of the whole key.
    pub fn file_name(&self) -> String {
        let mut h = Sha256::new();
        h.update(
            format!(
                "v{RENDER_VERSION}\0{}\0{}\0{}x{}\0{}",
                self.id, self.color, self.width, self.height, self.watermark
            )
            .as_bytes(),
        );
        let digest = hex::encode(&h.finalize()[..8]);
        format!("{}-{}x{}-{digest}.jpg", self.id, self.width, self.height)
    }

    fn render(&self) -> Vec<u8> {
        super::image::render(
            self.id,
            &self.color,
            self.width,
            self.height,
            self.watermark,
        )
    }
}

/// Why a file cannot be had now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unavailable {
    /// Every render slot is busy and the queue full (or the wait too long):
    /// retry after this many seconds.
    Busy(u64),
    /// The render or its file failed (logged).
    Failed,
}

/// What the renders directory holds: file name → (bytes, last use).
#[derive(Default)]
struct Index {
    files: HashMap<String, (u64, u64)>,
    total: u64,
    /// A counter standing for time: the last use of each file.
    tick: u64,
}

impl Index {
    fn touch(&mut self, name: &str) -> bool {
        self.tick += 1;
        let tick = self.tick;
        match self.files.get_mut(name) {
            Some(entry) => {
                entry.1 = tick;
                true
            }
            None => false,
        }
    }

    fn insert(&mut self, name: String, size: u64) {
        self.tick += 1;
        if let Some((old, _)) = self.files.insert(name, (size, self.tick)) {
            self.total -= old;
        }
        self.total += size;
    }

    fn remove(&mut self, name: &str) {
        if let Some((size, _)) = self.files.remove(name) {
            self.total -= size;
        }
    }

    /// The least recently used files to delete until at most `max` bytes remain.
    fn evict(&mut self, max: u64) -> Vec<String> {
        let mut gone = Vec::new();
        if self.total <= max {
            return gone;
        }
        let mut by_age: Vec<(u64, String)> = self
            .files
            .iter()
            .map(|(name, (_, used))| (*used, name.clone()))
            .collect();
        by_age.sort_unstable();
        for (_, name) in by_age {
            if self.total <= max {
                break;
            }
            self.remove(&name);
            gone.push(name);
        }
        gone
    }
}

/// How a render ended, for every request waiting on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Done,
    Refused(Unavailable),
}

/// A render asked for: `None` until it ended.
type Flight = watch::Receiver<Option<Outcome>>;

/// The renders directory and the bounds on rendering.
pub struct Renders {
    dir: PathBuf,
    max_bytes: u64,
    index: Mutex<Index>,
    permits: Arc<Semaphore>,
    /// Requests waiting for a permit now.
    waiting: AtomicUsize,
    queue: usize,
    wait: Duration,
    retry_after: u64,
    flights: Mutex<HashMap<String, Flight>>,
    /// Testing only: each render first sleeps this long.
    delay: Duration,
    previews: Buckets<IpAddr>,
    preview_policy: RatePolicy,
    limits_enabled: bool,
    last_sweep_ms: AtomicI64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding it leaves a cache index at worst incomplete.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The suffix of files being written; left-overs are deleted at start.
const TMP: &str = ".tmp";

impl Renders {
    /// Opens (creates) `<data_dir>/renders`, forgets unfinished files and
    /// indexes the others, oldest first.
    pub fn open(config: &Config) -> std::io::Result<Renders> {
        let dir = config.data_dir.join("renders");
        std::fs::create_dir_all(&dir)?;
        let mut found = Vec::new();
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(md) = entry.metadata() else { continue };
            if !md.is_file() {
                continue;
            }
            if name.ends_with(TMP) {
                let _ = std::fs::remove_file(entry.path());
                continue;
            }
            let modified = md.modified().ok();
            found.push((modified, name, md.len()));
        }
        found.sort();
        let mut index = Index::default();
        for (_, name, size) in found {
            index.insert(name, size);
        }
        let m = &config.media;
        let slots = match m.render_concurrency {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        };
        let renders = Renders {
            dir,
            max_bytes: m.render_cache_max_bytes,
            index: Mutex::new(index),
            permits: Arc::new(Semaphore::new(slots)),
            waiting: AtomicUsize::new(0),
            queue: m.render_queue,
            wait: Duration::from_millis(m.render_wait_ms),
            retry_after: m.render_retry_after_secs.max(1),
            flights: Mutex::new(HashMap::new()),
            delay: Duration::from_millis(config.testing.render_delay_ms),
            previews: Buckets::new(),
            preview_policy: m.preview_rate_per_address,
            limits_enabled: config.rate_limits.enabled,
            last_sweep_ms: AtomicI64::new(0),
        };
        renders.remove_evicted();
        Ok(renders)
    }

    /// The directory of the files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn remove_evicted(&self) {
        let gone = lock(&self.index).evict(self.max_bytes);
        for name in gone {
            // An open file stays readable to whoever streams it.
            let _ = std::fs::remove_file(self.dir.join(&name));
        }
    }

    /// The path of `key`'s file when it is on disk.
    pub fn cached(&self, key: &RenderKey) -> Option<PathBuf> {
        let name = key.file_name();
        lock(&self.index).touch(&name).then(|| self.dir.join(name))
    }

    /// Forgets a file that turned out to be gone (deleted by hand).
    pub fn forget(&self, key: &RenderKey) {
        lock(&self.index).remove(&key.file_name());
    }

    /// The path of `key`'s file, rendering it first when needed (once, however
    /// many ask at the same time: they all wait for the first one's render,
    /// and share its refusal). Never renders on the calling thread.
    pub async fn file(self: &Arc<Self>, key: &RenderKey) -> Result<PathBuf, Unavailable> {
        let name = key.file_name();
        // A flight whose request went away before its render began is
        // taken over; a few rounds also cover a file evicted at once.
        for _ in 0..3 {
            if let Some(path) = self.cached(key) {
                return Ok(path);
            }
            let (mut flight, pilot) = self.board(&name);
            if let Some(pilot) = pilot {
                self.start(key, pilot).await;
            }
            let outcome = flight.wait_for(Option::is_some).await.map(|v| *v);
            match outcome {
                Ok(Some(Outcome::Done)) => {}
                Ok(Some(Outcome::Refused(why))) => return Err(why),
                Ok(None) | Err(_) => continue,
            }
        }
        self.cached(key).ok_or(Unavailable::Failed)
    }

    /// The flight of `name`: the one under way, or a new one with its pilot.
    fn board(self: &Arc<Self>, name: &str) -> (Flight, Option<Pilot>) {
        let mut flights = lock(&self.flights);
        if let Some(f) = flights.get(name) {
            return (f.clone(), None);
        }
        // A render that ended since the caller looked: its file is indexed
        // before its flight is removed.
        if lock(&self.index).touch(name) {
            let (_, done) = watch::channel(Some(Outcome::Done));
            return (done, None);
        }
        let (tx, rx) = watch::channel(None);
        flights.insert(name.to_string(), rx.clone());
        let pilot = Pilot {
            renders: Arc::clone(self),
            name: name.to_string(),
            tx: Some(tx),
        };
        (rx, Some(pilot))
    }

    /// Takes a render slot (waiting in the queue if there is room) and
    /// starts the render on a thread of its own; the render goes on when
    /// the request that started it is gone. Refusals go to `pilot`'s flight.
    async fn start(self: &Arc<Self>, key: &RenderKey, mut pilot: Pilot) {
        let permit = match Arc::clone(&self.permits).try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                let queued = self.waiting.fetch_add(1, Ordering::AcqRel);
                let _left = Leave(&self.waiting);
                let busy = Outcome::Refused(Unavailable::Busy(self.retry_after));
                if queued >= self.queue {
                    return pilot.land(busy);
                }
                match tokio::time::timeout(self.wait, Arc::clone(&self.permits).acquire_owned())
                    .await
                {
                    Ok(Ok(p)) => p,
                    _ => return pilot.land(busy),
                }
            }
        };
        // While this request waited, another flight may have rendered it.
        if lock(&self.index).touch(&pilot.name) {
            return pilot.land(Outcome::Done);
        }
        let job_key = key.clone();
        let spawned = std::thread::Builder::new()
            .name("render".into())
            .spawn(move || {
                lower_priority();
                let ok = pilot.renders.render_to_disk(&job_key, &pilot.name);
                // The slot is free before anyone hears the render is done: a
                // client asking for the next file right after gets it.
                drop(permit);
                pilot.land(if ok {
                    Outcome::Done
                } else {
                    Outcome::Refused(Unavailable::Failed)
                });
            });
        if let Err(e) = spawned {
            // `pilot` went down with the closure: its flight is over.
            tracing::warn!(error = %e, "cannot start a render thread");
        }
    }

    /// Renders `key` into a temporary file, moves it in place and indexes it.
    fn render_to_disk(&self, key: &RenderKey, name: &str) -> bool {
        let tmp = self
            .dir
            .join(format!("{name}.{:x}{TMP}", rand::random::<u64>()));
        let written = (|| -> std::io::Result<u64> {
            let mut f = std::fs::File::create(&tmp)?;
            if !self.delay.is_zero() {
                std::thread::sleep(self.delay);
            }
            let bytes = key.render();
            if bytes.is_empty() {
                return Err(std::io::Error::other("the render produced no bytes"));
            }
            f.write_all(&bytes)?;
            f.sync_data()?;
            drop(f);
            std::fs::rename(&tmp, self.dir.join(name))?;
            Ok(bytes.len() as u64)
        })();
        match written {
            Ok(size) => {
                lock(&self.index).insert(name.to_string(), size);
                self.remove_evicted();
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, file = name, "rendering a picture file failed");
                let _ = std::fs::remove_file(&tmp);
                false
            }
        }
    }

    /// Charges one anonymous preview request to `address`: `Err(retry_after)`
    /// when its bucket is empty. Free when rate limits are off.
    pub fn charge_preview(&self, address: Option<IpAddr>, now_ms: i64) -> Result<(), u64> {
        let Some(address) = address else {
            return Ok(());
        };
        if !self.limits_enabled {
            return Ok(());
        }
        self.sweep_now_and_then(now_ms);
        let key = crate::ops::net::limit_key(address);
        let d: Decision = self.previews.take(key, &self.preview_policy, now_ms);
        if d.allowed {
            Ok(())
        } else {
            Err(d.retry_after_secs)
        }
    }

    /// Forgets full buckets every half minute, so memory follows the
    /// addresses active now.
    fn sweep_now_and_then(&self, now_ms: i64) {
        let last = self.last_sweep_ms.load(Ordering::Relaxed);
        if now_ms - last < 30_000
            || self
                .last_sweep_ms
                .compare_exchange(last, now_ms, Ordering::AcqRel, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        let p = self.preview_policy;
        self.previews.sweep(now_ms, |_| Some(p));
    }
}

/// The request (then the render thread) that a flight waits for. Landing
/// ends the flight with an outcome; dropped without landing (its request went
/// away while queued), it ends the flight without one and the waiting
/// requests start again.
struct Pilot {
    renders: Arc<Renders>,
    name: String,
    tx: Option<watch::Sender<Option<Outcome>>>,
}

impl Pilot {
    fn land(&mut self, outcome: Outcome) {
        lock(&self.renders.flights).remove(&self.name);
        if let Some(tx) = self.tx.take() {
            let _ = tx.send(Some(outcome));
        }
    }
}

impl Drop for Pilot {
    fn drop(&mut self) {
        if self.tx.is_some() {
            lock(&self.renders.flights).remove(&self.name);
        }
    }
}

/// Leaves the render queue when dropped (also when the request is dropped).
struct Leave<'a>(&'a AtomicUsize);

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Renders yield the CPU to the API: this thread runs at nice 10.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // On Linux `who = 0` is the calling thread alone. Raising one's own
        // nice value needs no privilege; failure changes nothing else.
        // SAFETY: a plain system call on the calling thread, no pointers.
        unsafe {
            libc::setpriority(libc::PRIO_PROCESS, 0, 10);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: i64) -> RenderKey {
        RenderKey {
            id,
            color: "blue".into(),
            width: 40,
            height: 30,
            watermark: false,
        }
    }

    #[test]
    fn names_follow_every_part_of_the_key() {
        let a = key(1);
        assert_eq!(a.file_name(), key(1).file_name());
        assert!(a.file_name().starts_with("1-40x30-"));
        for other in [
            RenderKey { id: 2, ..a.clone() },
            RenderKey {
                color: "red".into(),
                ..a.clone()
            },
            RenderKey {
                width: 41,
                ..a.clone()
            },
            RenderKey {
                height: 31,
                ..a.clone()
            },
            RenderKey {
                watermark: true,
                ..a.clone()
            },
        ] {
            assert_ne!(a.file_name(), other.file_name(), "{other:?}");
        }
    }

    #[test]
    fn eviction_takes_the_least_recently_used_first() {
        let mut i = Index::default();
        i.insert("a".into(), 10);
        i.insert("b".into(), 10);
        i.insert("c".into(), 10);
        assert!(i.touch("a"));
        assert!(i.evict(30).is_empty());
        assert_eq!(i.evict(15), vec!["b".to_string(), "c".to_string()]);
        assert_eq!(i.total, 10);
        assert!(!i.touch("b"));
        i.insert("a".into(), 4);
        assert_eq!(i.total, 4, "a file written again counts once");
    }

    fn config(dir: &Path, extra: &str) -> Config {
        let mut c = Config::from_toml(extra).unwrap();
        c.data_dir = dir.to_path_buf();
        c
    }

    #[test]
    fn renders_once_keeps_the_file_and_bounds_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("renders")).unwrap();
        std::fs::write(dir.path().join("renders").join("x.jpg.1.tmp"), b"half").unwrap();
        let r = Arc::new(Renders::open(&config(dir.path(), "")).unwrap());
        assert!(
            !dir.path().join("renders").join("x.jpg.1.tmp").exists(),
            "left-overs go"
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let a = rt.block_on(r.file(&key(1))).unwrap();
        let bytes = std::fs::read(&a).unwrap();
        assert_eq!(bytes, key(1).render());
        let modified = std::fs::metadata(&a).unwrap().modified().unwrap();
        assert_eq!(rt.block_on(r.file(&key(1))).unwrap(), a);
        assert_eq!(
            std::fs::metadata(&a).unwrap().modified().unwrap(),
            modified,
            "not written again"
        );
        // a bound of about one file keeps only the newest
        let one = bytes.len() as u64;
        let small = config(
            dir.path(),
            &format!("[media]\nrender_cache_max_bytes = {}\n", one + one / 2),
        );
        let r = Arc::new(Renders::open(&small).unwrap());
        assert!(r.cached(&key(1)).is_some(), "found again after a restart");
        let b = rt.block_on(r.file(&key(2))).unwrap();
        assert!(b.exists());
        assert!(!a.exists(), "the older file was evicted");
        assert!(r.cached(&key(1)).is_none());
    }

    #[test]
    fn previews_are_counted_per_address_unless_limits_are_off() {
        let dir = tempfile::tempdir().unwrap();
        let toml = "[media.preview_rate_per_address]\nburst = 2\nper_second = 0.5\n";
        let r = Renders::open(&config(dir.path(), toml)).unwrap();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert_eq!(r.charge_preview(Some(a), 0), Ok(()));
        assert_eq!(r.charge_preview(Some(a), 0), Ok(()));
        assert_eq!(r.charge_preview(Some(a), 0), Err(2));
        assert_eq!(r.charge_preview(Some(b), 0), Ok(()));
        assert_eq!(r.charge_preview(Some(a), 2_000), Ok(()));
        let off = Renders::open(&config(
            dir.path(),
            &format!("{toml}[rate_limits]\nenabled = false\n"),
        ))
        .unwrap();
        for _ in 0..5 {
            assert_eq!(off.charge_preview(Some(a), 0), Ok(()));
        }
    }
}
