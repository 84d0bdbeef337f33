//! Open connections per client address and in total, so one address cannot
//! take every file descriptor with idle keep-alive connections (issue 12).
//!
//! actix-web calls [`on_connect`] for every accepted connection, before the
//! first request. An admitted connection carries a [`Held`] in its
//! extensions, which gives its place back when the connection is dropped,
//! however it ends: the counts are exact. A plain HTTP connection over a cap
//! is answered at once, straight on the socket, and shut down, so it does not
//! hold its descriptor. Over TLS nothing can be written before the handshake
//! is read through rustls, so the connection is marked ([`Refused`]) and its
//! first request is answered by the operations middleware, with
//! `Connection: close`; an idle one ends with the request-head timeout.
//!
//! The peer address counts, not `X-Forwarded-For` (there is no request yet):
//! peers in `server.trusted_proxies` are exempt from the per-address cap,
//! since all their clients share the proxy's address. They still count
//! towards the total.

use std::any::Any;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use actix_web::dev::Extensions;
use actix_web::rt::net::TcpStream;

use super::metrics::{Metrics, Rejection};
use super::net::{self, Cidr};
use crate::answer::FATAL_CONTENT_TYPE;
use crate::config::Config;
use crate::error::ApiError;

const SHARDS: usize = 16;

/// The TLS stream actix-web hands to `on_connect` for `listen_rustls_0_23`.
type TlsStream = actix_tls::accept::rustls_0_23::TlsStream<TcpStream>;

/// The open connections, per address and in total.
pub struct Connections {
    shards: Box<[Mutex<HashMap<IpAddr, u32>>]>,
    hasher: RandomState,
    total: AtomicUsize,
    max_per_address: u32,
    max_total: usize,
    retry_after: u64,
    trusted: Vec<Cidr>,
}

/// Why a connection was not admitted; kept in the extensions of a TLS
/// connection so that the middleware answers its first request.
#[derive(Debug, Clone)]
pub struct Refused(pub Arc<ApiError>);

impl Connections {
    /// The caps of `config`; `fd_limit` is the soft open-file limit, which
    /// sizes the total cap when `limits.max_connections` is 0.
    pub fn new(config: &Config, trusted: Vec<Cidr>, fd_limit: u64) -> Arc<Connections> {
        let max_total = match config.limits.max_connections {
            0 => auto_total(fd_limit),
            n => n,
        };
        Arc::new(Connections {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            hasher: RandomState::new(),
            total: AtomicUsize::new(0),
            max_per_address: config.limits.max_connections_per_address,
            max_total,
            retry_after: config.limits.in_flight_retry_after_secs,
            trusted,
        })
    }

    /// The total cap in force.
    pub fn max_total(&self) -> usize {
        self.max_total
    }

    /// Open connections, all addresses together (a metric).
    pub fn total(&self) -> usize {
        self.total.load(Ordering::Relaxed)
    }

    fn shard(&self, key: &IpAddr) -> MutexGuard<'_, HashMap<IpAddr, u32>> {
        let i = (self.hasher.hash_one(key) as usize) % self.shards.len();
        self.shards[i].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A place for one more connection from `peer`, or why not.
    pub fn admit(self: &Arc<Self>, peer: IpAddr) -> Result<Held, ApiError> {
        let peer = net::canonical(peer);
        if self.total.fetch_add(1, Ordering::SeqCst) >= self.max_total {
            self.total.fetch_sub(1, Ordering::SeqCst);
            return Err(ApiError::ServerFull {
                retry_after: self.retry_after,
            });
        }
        let exempt = self.max_per_address == 0 || self.trusted.iter().any(|c| c.contains(peer));
        let key = if exempt {
            None
        } else {
            let key = net::limit_key(peer);
            let mut shard = self.shard(&key);
            let n = shard.entry(key).or_insert(0);
            if *n >= self.max_per_address {
                drop(shard);
                self.total.fetch_sub(1, Ordering::SeqCst);
                return Err(ApiError::TooManyOpenConnections {
                    address: key.to_string(),
                    max: self.max_per_address,
                    retry_after: self.retry_after,
                });
            }
            *n += 1;
            Some(key)
        };
        Ok(Held {
            table: Arc::clone(self),
            key,
        })
    }

    fn release(&self, key: Option<IpAddr>) {
        if let Some(key) = key {
            let mut shard = self.shard(&key);
            if let Some(n) = shard.get_mut(&key) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    shard.remove(&key);
                }
            }
        }
        self.total.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Nine tenths of the open-file limit: the rest stays for the store, the
/// log, media files and the listeners.
fn auto_total(fd_limit: u64) -> usize {
    let limit = usize::try_from(fd_limit.min(1 << 24)).unwrap_or(1 << 24);
    (limit / 10 * 9).max(1)
}

/// One open connection's place; dropping it (with the connection) frees it.
pub struct Held {
    table: Arc<Connections>,
    /// The per-address key it counts under; `None` when exempt.
    key: Option<IpAddr>,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.table.release(self.key);
    }
}

/// The `on_connect` hook: admits the connection, or refuses it.
pub fn on_connect(conns: &Arc<Connections>, metrics: &Metrics, io: &dyn Any, ext: &mut Extensions) {
    let (tcp, tls) = if let Some(tcp) = io.downcast_ref::<TcpStream>() {
        (tcp, false)
    } else if let Some(stream) = io.downcast_ref::<TlsStream>() {
        (stream.get_ref().0, true)
    } else {
        return;
    };
    let Ok(peer) = tcp.peer_addr() else {
        return;
    };
    match conns.admit(peer.ip()) {
        Ok(held) => {
            ext.insert(held);
        }
        Err(refusal) => {
            metrics.rejected(match refusal {
                ApiError::ServerFull { .. } => Rejection::ConnectionsTotal,
                _ => Rejection::Connections,
            });
            tracing::debug!(peer = %peer.ip(), why = %refusal, "connection refused");
            if tls {
                ext.insert(Refused(Arc::new(refusal)));
            } else {
                refuse_now(tcp, &refusal);
            }
        }
    }
}

/// Writes the fatal answer straight on a fresh plain connection (its send
/// buffer is empty, so this never blocks), discards what the client sent so
/// far (closing with unread data would reset the connection and could lose
/// the answer), and shuts the socket down: actix then reads the end of the
/// stream and drops the connection, which closes the descriptor.
fn refuse_now(tcp: &TcpStream, refusal: &ApiError) {
    // Plain system calls: tokio's try_write/try_read give up on a socket whose
    // readiness has not been reported yet, which a fresh one has not.
    let fd = tcp.as_raw_fd();
    let answer = raw_answer(refusal);
    let flags = libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
    // SAFETY: send, recv and shutdown only act on the descriptor, which `tcp`
    // keeps open, and on the buffers given with their lengths; the stream
    // itself stays owned (and later closed) by actix.
    unsafe {
        libc::send(fd, answer.as_ptr().cast(), answer.len(), flags);
        let mut sink = [0u8; 4096];
        for _ in 0..16 {
            if libc::recv(fd, sink.as_mut_ptr().cast(), sink.len(), flags) <= 0 {
                break;
            }
        }
        libc::shutdown(fd, libc::SHUT_RDWR);
    }
}

/// The whole HTTP/1.1 answer for a refused connection.
fn raw_answer(refusal: &ApiError) -> String {
    let status = refusal.status();
    let phrase = actix_web::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error");
    let body = refusal.fatal_body();
    let retry = refusal
        .retry_after()
        .map(|s| format!("Retry-After: {s}\r\n"))
        .unwrap_or_default();
    format!(
        "HTTP/1.1 {status} {phrase}\r\nContent-Type: {FATAL_CONTENT_TYPE}\r\nContent-Length: {}\r\n{retry}Connection: close\r\n\r\n{body}",
        body.len()
    )
}

/// Raises the soft open-file limit to the hard limit, so the connection caps
/// (and not `EMFILE`) decide; the soft limit now in force.
pub fn raise_fd_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write `lim`.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        tracing::warn!(error = %std::io::Error::last_os_error(), "cannot read the open-file limit");
        return 1024;
    }
    let before = lim.rlim_cur;
    if lim.rlim_cur < lim.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: as above.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            tracing::info!(
                from = before,
                to = raised.rlim_cur,
                "raised the open-file limit"
            );
            return raised.rlim_cur;
        }
        tracing::warn!(error = %std::io::Error::last_os_error(), limit = before, "cannot raise the open-file limit");
    }
    before
}

/// The soft open-file limit now in force.
pub fn fd_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes `lim`.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return 1024;
    }
    lim.rlim_cur
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(per_address: u32, total: usize, trusted: &[&str]) -> Arc<Connections> {
        let mut config = Config::default();
        config.limits.max_connections_per_address = per_address;
        config.limits.max_connections = total;
        let trusted: Vec<String> = trusted.iter().map(|s| s.to_string()).collect();
        Connections::new(&config, Cidr::parse_all(&trusted).unwrap(), 1024)
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn at_most_max_per_address_and_places_come_back() {
        let t = table(2, 100, &[]);
        let a1 = t.admit(ip("192.0.2.1")).unwrap();
        let _a2 = t.admit(ip("::ffff:192.0.2.1")).unwrap();
        assert!(matches!(
            t.admit(ip("192.0.2.1")),
            Err(ApiError::TooManyOpenConnections { max: 2, .. })
        ));
        let _b = t.admit(ip("192.0.2.2")).expect("other addresses are apart");
        assert_eq!(t.total(), 3);
        drop(a1);
        assert_eq!(t.total(), 2);
        assert!(t.admit(ip("192.0.2.1")).is_ok());
    }

    #[test]
    fn ipv6_counts_per_64_and_trusted_proxies_are_exempt() {
        let t = table(1, 100, &["10.0.0.0/8"]);
        let _a = t.admit(ip("2001:db8::1")).unwrap();
        assert!(t.admit(ip("2001:db8::2")).is_err());
        let proxied: Vec<Held> = (0..5).map(|_| t.admit(ip("10.1.2.3")).unwrap()).collect();
        assert_eq!(t.total(), 6);
        drop(proxied);
        assert_eq!(t.total(), 1);
    }

    #[test]
    fn the_total_cap_holds_for_everyone() {
        let t = table(0, 2, &[]);
        let _a = t.admit(ip("192.0.2.1")).unwrap();
        let _b = t.admit(ip("192.0.2.2")).unwrap();
        assert!(matches!(
            t.admit(ip("192.0.2.3")),
            Err(ApiError::ServerFull { .. })
        ));
        assert_eq!(t.total(), 2);
        assert_eq!(auto_total(1024), 918);
        assert_eq!(table(0, 0, &[]).max_total(), 918);
    }

    #[test]
    fn the_raw_answer_is_complete_http() {
        let a = raw_answer(&ApiError::TooManyOpenConnections {
            address: "192.0.2.1".into(),
            max: 3,
            retry_after: 1,
        });
        let (head, body) = a.split_once("\r\n\r\n").unwrap();
        assert!(
            head.starts_with("HTTP/1.1 421 Misdirected Request\r\n"),
            "{head}"
        );
        assert!(head.contains("\r\nConnection: close"));
        assert!(head.contains(&format!("\r\nContent-Length: {}", body.len())));
        assert_eq!(
            body,
            "421 There are too many connections from your internet address (at most 3 connections at once from 192.0.2.1, retry in 1 s)"
        );
    }
}
