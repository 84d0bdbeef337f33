//! Rate limits per api key and per user token, and the throttles on failed
//! authentications and sign-ins (protocol.md §8). Policies come from
//! configuration and are swapped on reload; buckets live in memory, and
//! instances sharing one store exchange them through it every few hundred
//! milliseconds ([`RateLimiter::share`]), so a limit counts across instances
//! without a store call on the request path.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::Mutex;

use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};

use super::bucket::{Buckets, Decision, Seen};
use super::metrics::Rejection;
use super::Ops;
use crate::clock::Clock;
use crate::config::{RateLimitsConfig, RatePolicy};
use crate::error::ApiError;
use crate::store::rate_buckets::{SharedBucket, Taken};
use crate::store::{Store, StoreError};
use crate::swap::Swap;

/// Whose calls a bucket counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum QuotaOwner {
    ApiKey,
    UserToken,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct CallKey {
    caller: QuotaOwner,
    /// The method whose own policy applies; `None` for the default policy.
    method: Option<Box<str>>,
    id: Box<str>,
}

/// Failure counters; ids are cut to [`MAX_ID`] so junk cannot grow memory.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum FailKey {
    AuthAddress(IpAddr),
    AuthKey(Box<str>),
    SignInAddress(IpAddr),
    SignInUser(Box<str>),
}

const MAX_ID: usize = 128;

/// How a bucket is named in the shared store: its kind, then what it counts
/// (`key|search|<api key>`, `auth-address|<ip>` …); read back by `parse`.
impl CallKey {
    fn shared_id(&self) -> String {
        let caller = match self.caller {
            QuotaOwner::ApiKey => "key",
            QuotaOwner::UserToken => "token",
        };
        format!(
            "{caller}|{}|{}",
            self.method.as_deref().unwrap_or(""),
            self.id
        )
    }

    fn parse(id: &str) -> Option<CallKey> {
        let mut parts = id.splitn(3, '|');
        let caller = match parts.next()? {
            "key" => QuotaOwner::ApiKey,
            "token" => QuotaOwner::UserToken,
            _ => return None,
        };
        let method = Some(parts.next()?).filter(|m| !m.is_empty()).map(Box::from);
        Some(CallKey {
            caller,
            method,
            id: parts.next()?.into(),
        })
    }
}

impl FailKey {
    fn shared_id(&self) -> String {
        match self {
            FailKey::AuthAddress(a) => format!("auth-address|{a}"),
            FailKey::AuthKey(k) => format!("auth-key|{k}"),
            FailKey::SignInAddress(a) => format!("sign-in-address|{a}"),
            FailKey::SignInUser(u) => format!("sign-in-user|{u}"),
        }
    }

    fn parse(id: &str) -> Option<FailKey> {
        let (kind, what) = id.split_once('|')?;
        Some(match kind {
            "auth-address" => FailKey::AuthAddress(what.parse().ok()?),
            "auth-key" => FailKey::AuthKey(what.into()),
            "sign-in-address" => FailKey::SignInAddress(what.parse().ok()?),
            "sign-in-user" => FailKey::SignInUser(what.into()),
            _ => return None,
        })
    }
}

fn id(s: &str) -> Box<str> {
    match s.char_indices().nth(MAX_ID) {
        Some((i, _)) => s[..i].into(),
        None => s.into(),
    }
}

/// The policies in force, as configured.
#[derive(Debug, Clone)]
struct Policies {
    enabled: bool,
    default: RatePolicy,
    methods: HashMap<String, RatePolicy>,
    failed_auth_per_address: RatePolicy,
    failed_auth_per_key: RatePolicy,
    failed_sign_in: RatePolicy,
}

impl From<&RateLimitsConfig> for Policies {
    fn from(c: &RateLimitsConfig) -> Self {
        Policies {
            enabled: c.enabled,
            default: c.default,
            methods: c.methods.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            failed_auth_per_address: c.failed_auth_per_address,
            failed_auth_per_key: c.failed_auth_per_key,
            failed_sign_in: c.failed_sign_in,
        }
    }
}

impl Policies {
    /// The policy of a call bucket; `None` when its method lost its own.
    fn of_call(&self, k: &CallKey) -> Option<RatePolicy> {
        match &k.method {
            None => Some(self.default),
            Some(m) => self.methods.get(&**m).copied(),
        }
    }

    fn of_failure(&self, k: &FailKey) -> RatePolicy {
        match k {
            FailKey::AuthAddress(_) => self.failed_auth_per_address,
            FailKey::AuthKey(_) => self.failed_auth_per_key,
            FailKey::SignInAddress(_) | FailKey::SignInUser(_) => self.failed_sign_in,
        }
    }
}

/// All buckets of the process.
pub struct RateLimiter {
    policies: Swap<Policies>,
    calls: Buckets<CallKey>,
    failures: Buckets<FailKey>,
    /// The store versions this instance has read up to: the one before last
    /// and the last. Each exchange reads from the one before last, so a
    /// change committed late (numbered before another's, visible after it)
    /// is still read on the next exchange.
    shared: Mutex<(i64, i64)>,
}

impl RateLimiter {
    pub fn new(config: &RateLimitsConfig) -> Self {
        RateLimiter {
            policies: Swap::new(Policies::from(config)),
            calls: Buckets::new(),
            failures: Buckets::new(),
            shared: Mutex::new((0, 0)),
        }
    }

    /// New policies from a reloaded configuration; buckets keep their state.
    pub fn set_policies(&self, config: &RateLimitsConfig) {
        self.policies.store(Policies::from(config));
    }

    /// Charges a call: the quota for the answer headers, and whether it may go
    /// on. `None` when rate limits are off.
    fn charge(&self, caller: QuotaOwner, who: &str, method: &str, now_ms: i64) -> Option<Charged> {
        let p = self.policies.load();
        if !p.enabled {
            return None;
        }
        let (name, policy, own) = match p.methods.get_key_value(method) {
            Some((m, pol)) => (m.as_str(), *pol, Some(Box::<str>::from(m.as_str()))),
            None => ("default", p.default, None),
        };
        let key = CallKey {
            caller,
            method: own,
            id: who.into(),
        };
        let d = self.calls.take(key, &policy, now_ms);
        let prefix = match caller {
            QuotaOwner::ApiKey => "",
            QuotaOwner::UserToken => "token-",
        };
        Some(Charged {
            quota: Quota::from_decision(&format!("{prefix}{name}"), &policy, &d, now_ms / 1000),
            decision: d,
            policy_name: name.to_string(),
        })
    }

    /// `Some(retry_after)` while failed authentications from `address` or
    /// against `api_key` are being refused outright.
    pub fn auth_blocked(
        &self,
        address: Option<IpAddr>,
        api_key: Option<&str>,
        now_ms: i64,
    ) -> Option<u64> {
        let p = self.policies.load();
        if !p.enabled {
            return None;
        }
        let by_address = address.map(|a| {
            self.failures.peek(
                &FailKey::AuthAddress(super::net::limit_key(a)),
                &p.failed_auth_per_address,
                now_ms,
            )
        });
        let by_key = api_key.map(|k| {
            self.failures
                .peek(&FailKey::AuthKey(id(k)), &p.failed_auth_per_key, now_ms)
        });
        refused(by_address.into_iter().chain(by_key))
    }

    /// Counts a failed authentication. `api_key` only when the key exists
    /// (guessing its secret); unknown keys count against the address alone.
    pub fn auth_failed(&self, address: Option<IpAddr>, api_key: Option<&str>, now_ms: i64) {
        let p = self.policies.load();
        if !p.enabled {
            return;
        }
        if let Some(a) = address {
            let key = FailKey::AuthAddress(super::net::limit_key(a));
            self.failures.take(key, &p.failed_auth_per_address, now_ms);
        }
        if let Some(k) = api_key {
            self.failures
                .take(FailKey::AuthKey(id(k)), &p.failed_auth_per_key, now_ms);
        }
    }

    /// `Some(retry_after)` while sign-ins from `address` or for `user` are
    /// refused outright (the authorization page calls this first).
    pub fn sign_in_blocked(&self, address: Option<IpAddr>, user: &str, now_ms: i64) -> Option<u64> {
        let p = self.policies.load();
        if !p.enabled {
            return None;
        }
        let pol = p.failed_sign_in;
        let by_address = address.map(|a| {
            self.failures.peek(
                &FailKey::SignInAddress(super::net::limit_key(a)),
                &pol,
                now_ms,
            )
        });
        let by_user =
            self.failures
                .peek(&FailKey::SignInUser(id(&user.to_lowercase())), &pol, now_ms);
        refused(by_address.into_iter().chain(Some(by_user)))
    }

    /// Counts a failed sign-in against the address and the user name.
    pub fn sign_in_failed(&self, address: Option<IpAddr>, user: &str, now_ms: i64) {
        let p = self.policies.load();
        if !p.enabled {
            return;
        }
        let pol = p.failed_sign_in;
        if let Some(a) = address {
            let key = FailKey::SignInAddress(super::net::limit_key(a));
            self.failures.take(key, &pol, now_ms);
        }
        self.failures
            .take(FailKey::SignInUser(id(&user.to_lowercase())), &pol, now_ms);
    }

    /// Forgets idle buckets; returns how many remain.
    pub fn sweep(&self, now_ms: i64) -> usize {
        let p = self.policies.load();
        let calls = self.calls.sweep(now_ms, |k| p.of_call(k));
        let failures = self.failures.sweep(now_ms, |k| Some(p.of_failure(k)));
        calls + failures
    }

    /// One exchange with the store the instances share: hands over the
    /// tokens taken here since the last exchange, and takes every bucket
    /// any instance changed meanwhile as this instance's own. Until the
    /// next exchange each instance decides alone, which is how far limits
    /// can overshoot (docs/operations.md). Returns how many buckets came
    /// back (none while limits are off). When the store fails, the takes
    /// stay to be handed over next time: none is lost.
    pub fn share(&self, store: &Store, now_ms: i64) -> Result<usize, StoreError> {
        let mut versions = self.shared.lock().unwrap_or_else(|p| p.into_inner());
        let p = self.policies.load();
        if !p.enabled {
            return Ok(0);
        }
        let calls = self.calls.take_unshared();
        let failures = self.failures.take_unshared();
        let mut taken = Vec::with_capacity(calls.len() + failures.len());
        let mut handed = |id: String, n: u64, pol: RatePolicy| {
            taken.push(Taken {
                id,
                taken: n,
                burst: pol.burst,
                per_second: pol.per_second,
            })
        };
        for (k, n) in &calls {
            if let Some(pol) = p.of_call(k) {
                handed(k.shared_id(), *n, pol);
            }
        }
        for (k, n) in &failures {
            handed(k.shared_id(), *n, p.of_failure(k));
        }
        let back = match store.rate_buckets().exchange(taken, now_ms, versions.0) {
            Ok(back) => back,
            Err(e) => {
                for (k, n) in calls {
                    self.calls.give_back(k, n);
                }
                for (k, n) in failures {
                    self.failures.give_back(k, n);
                }
                return Err(e);
            }
        };
        *versions = (versions.1, back.version);
        for b in &back.changed {
            self.adopt(b);
        }
        Ok(back.changed.len())
    }

    /// Takes one shared bucket as this instance's own.
    fn adopt(&self, b: &SharedBucket) {
        let seen = Seen {
            tokens: b.tokens,
            last_ms: b.last_ms,
            day: b.day,
            used_today: b.used_today,
        };
        if let Some(k) = CallKey::parse(&b.id) {
            self.calls.adopt(k, &seen);
        } else if let Some(k) = FailKey::parse(&b.id) {
            self.failures.adopt(k, &seen);
        }
    }

    /// How many buckets exist (a metric).
    pub fn buckets(&self) -> usize {
        self.calls.len() + self.failures.len()
    }

    /// The default policy as `RateLimit-Policy` writes it; `none` when off.
    pub fn describe_default(&self) -> String {
        let p = self.policies.load();
        if !p.enabled {
            return "none".into();
        }
        Quota::from_decision("default", &p.default, &Decision::full(&p.default), 0).policy_field()
    }
}

/// The longest wait among refusing decisions, if any refuses.
fn refused(decisions: impl Iterator<Item = Decision>) -> Option<u64> {
    decisions
        .filter(|d| !d.allowed)
        .map(|d| d.retry_after_secs)
        .max()
}

struct Charged {
    quota: Quota,
    decision: Decision,
    policy_name: String,
}

/// Charges one call of `method` to an api key (after its authentication).
/// The quota lands in `slot` for the answer headers even when the call is
/// refused with `429`.
pub fn charge_api_key(
    ops: &Ops,
    clock: &dyn Clock,
    api_key: &str,
    method: &str,
    slot: &mut Option<Quota>,
) -> Result<(), ApiError> {
    charge(ops, clock, QuotaOwner::ApiKey, api_key, method, slot)
}

/// The same for a user token: the user-auth step calls it once the token is
/// verified. With both charged, the headers show every window and the
/// `X-RateLimit-*` ones the tightest.
pub fn charge_user_token(
    ops: &Ops,
    clock: &dyn Clock,
    token: &str,
    method: &str,
    slot: &mut Option<Quota>,
) -> Result<(), ApiError> {
    charge(ops, clock, QuotaOwner::UserToken, token, method, slot)
}

fn charge(
    ops: &Ops,
    clock: &dyn Clock,
    caller: QuotaOwner,
    who: &str,
    method: &str,
    slot: &mut Option<Quota>,
) -> Result<(), ApiError> {
    let limiter = &ops.limiter;
    let Some(c) = limiter.charge(caller, who, method, clock.now_millis()) else {
        return Ok(());
    };
    match slot {
        Some(q) => q.merge(c.quota),
        None => *slot = Some(c.quota),
    }
    if c.decision.allowed {
        return Ok(());
    }
    ops.metrics.rejected(match caller {
        QuotaOwner::ApiKey => Rejection::ApiKey,
        QuotaOwner::UserToken => Rejection::UserToken,
    });
    Err(ApiError::RateLimited {
        policy: c.policy_name,
        retry_after: c.decision.retry_after_secs,
    })
}

/// Refuses a sign-in attempt early (fatal `429`) while `address` or `user`
/// has failed too often; for the authorization page of user tokens.
pub fn sign_in_gate(
    ops: &Ops,
    clock: &dyn Clock,
    address: Option<IpAddr>,
    user: &str,
) -> Result<(), ApiError> {
    match ops
        .limiter
        .sign_in_blocked(address, user, clock.now_millis())
    {
        None => Ok(()),
        Some(retry_after) => {
            ops.metrics.rejected(Rejection::SignIn);
            Err(ApiError::TooManyFailures { retry_after })
        }
    }
}

/// One window of a quota, as the headers describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// The policy name (`default`, `default-daily`, `token-default` …).
    pub name: String,
    /// Requests the window allows.
    pub quota: u64,
    /// Its length in seconds.
    pub window_secs: u64,
    pub remaining: u64,
    /// Seconds until it is whole again.
    pub reset_secs: u64,
}

/// The limits that applied to one call, for its answer headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quota {
    /// The time of the decision, Unix seconds.
    pub now: i64,
    pub windows: Vec<Window>,
}

impl Quota {
    fn from_decision(name: &str, p: &RatePolicy, d: &Decision, now: i64) -> Quota {
        let name = field_name(name);
        let mut windows = vec![Window {
            name: name.clone(),
            quota: u64::from(p.burst),
            window_secs: ((f64::from(p.burst) / p.per_second).ceil() as u64).max(1),
            remaining: d.remaining,
            reset_secs: d.full_in_secs,
        }];
        if let Some(left) = d.remaining_today {
            windows.push(Window {
                name: format!("{name}-daily"),
                quota: p.daily,
                window_secs: 86_400,
                remaining: left,
                reset_secs: d.day_resets_in_secs,
            });
        }
        Quota { now, windows }
    }

    /// Adds the windows of another charge (api key + user token).
    pub fn merge(&mut self, other: Quota) {
        self.windows.extend(other.windows);
    }

    /// The window with the fewest requests left: what `X-RateLimit-*` report.
    pub fn tightest(&self) -> Option<&Window> {
        self.windows.iter().min_by_key(|w| w.remaining)
    }

    /// `RateLimit-Policy: "default";q=60;w=6, "default-daily";q=100000;w=86400`.
    pub fn policy_field(&self) -> String {
        let mut s = String::new();
        for (i, w) in self.windows.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            let _ = write!(s, "{sep}\"{}\";q={};w={}", w.name, w.quota, w.window_secs);
        }
        s
    }

    /// `RateLimit: "default";r=59;t=1, "default-daily";r=99999;t=43210`.
    pub fn state_field(&self) -> String {
        let mut s = String::new();
        for (i, w) in self.windows.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            let _ = write!(
                s,
                "{sep}\"{}\";r={};t={}",
                w.name, w.remaining, w.reset_secs
            );
        }
        s
    }

    /// Writes the five rate-limit headers.
    pub fn write_headers(&self, h: &mut HeaderMap) {
        let Some(t) = self.tightest() else { return };
        let reset = self.now.saturating_add_unsigned(t.reset_secs);
        let fields = [
            ("x-ratelimit-limit", t.quota.to_string()),
            ("x-ratelimit-remaining", t.remaining.to_string()),
            ("x-ratelimit-reset", reset.to_string()),
            ("ratelimit-policy", self.policy_field()),
            ("ratelimit", self.state_field()),
        ];
        for (name, value) in fields {
            if let Ok(v) = HeaderValue::from_str(&value) {
                h.insert(HeaderName::from_static(name), v);
            }
        }
    }
}

/// Policy names become structured-field strings: keep them to a safe alphabet.
fn field_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;

    fn config() -> RateLimitsConfig {
        let mut c = RateLimitsConfig {
            default: RatePolicy::new(2, 1.0, 3),
            failed_auth_per_address: RatePolicy::new(2, 0.5, 0),
            failed_auth_per_key: RatePolicy::new(3, 0.5, 0),
            ..RateLimitsConfig::default()
        };
        c.methods
            .insert("request-token".into(), RatePolicy::new(1, 0.1, 0));
        c
    }

    #[test]
    fn keys_have_their_own_buckets_and_methods_their_own_policy() {
        let l = RateLimiter::new(&config());
        let now = 5_000;
        let a = l.charge(QuotaOwner::ApiKey, "a", "host-info", now).unwrap();
        assert!(a.decision.allowed);
        assert_eq!(
            a.quota.policy_field(),
            "\"default\";q=2;w=2, \"default-daily\";q=3;w=86400"
        );
        assert_eq!(
            a.quota.state_field(),
            "\"default\";r=1;t=1, \"default-daily\";r=2;t=86395"
        );
        assert!(
            l.charge(QuotaOwner::ApiKey, "a", "host-info", now)
                .unwrap()
                .decision
                .allowed
        );
        let refused = l.charge(QuotaOwner::ApiKey, "a", "host-info", now).unwrap();
        assert!(!refused.decision.allowed);
        assert_eq!(refused.decision.retry_after_secs, 1);
        // another key, the same key as a user token, and a method policy are apart
        assert!(
            l.charge(QuotaOwner::ApiKey, "b", "host-info", now)
                .unwrap()
                .decision
                .allowed
        );
        assert!(
            l.charge(QuotaOwner::UserToken, "a", "host-info", now)
                .unwrap()
                .decision
                .allowed
        );
        let rt = l
            .charge(QuotaOwner::ApiKey, "a", "request-token", now)
            .unwrap();
        assert!(rt.decision.allowed);
        assert_eq!(rt.quota.policy_field(), "\"request-token\";q=1;w=10");
        assert!(
            !l.charge(QuotaOwner::ApiKey, "a", "request-token", now)
                .unwrap()
                .decision
                .allowed
        );
    }

    #[test]
    fn the_daily_window_binds_once_it_is_the_tighter() {
        let l = RateLimiter::new(&config());
        let mut last = None;
        for i in 0..3 {
            // one per 10 s: the bucket is always full again
            last = l.charge(QuotaOwner::ApiKey, "a", "x", 10_000 * i);
        }
        let q = last.unwrap().quota;
        let t = q.tightest().unwrap();
        assert_eq!((t.name.as_str(), t.remaining), ("default-daily", 0));
        let refused = l.charge(QuotaOwner::ApiKey, "a", "x", 40_000).unwrap();
        assert!(!refused.decision.allowed);
        assert_eq!(refused.decision.retry_after_secs, 86_400 - 40);
    }

    #[test]
    fn headers_follow_the_tightest_window() {
        let q = Quota {
            now: 1_000,
            windows: vec![
                Window {
                    name: "default".into(),
                    quota: 60,
                    window_secs: 6,
                    remaining: 10,
                    reset_secs: 5,
                },
                Window {
                    name: "token-default".into(),
                    quota: 60,
                    window_secs: 6,
                    remaining: 3,
                    reset_secs: 6,
                },
            ],
        };
        let mut h = HeaderMap::new();
        q.write_headers(&mut h);
        let get = |n: &str| h.get(n).unwrap().to_str().unwrap().to_string();
        assert_eq!(get("x-ratelimit-limit"), "60");
        assert_eq!(get("x-ratelimit-remaining"), "3");
        assert_eq!(get("x-ratelimit-reset"), "1006");
        assert_eq!(
            get("ratelimit"),
            "\"default\";r=10;t=5, \"token-default\";r=3;t=6"
        );
    }

    #[test]
    fn failures_block_per_address_and_per_key() {
        let l = RateLimiter::new(&config());
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        assert_eq!(l.auth_blocked(Some(ip), Some("k"), 0), None);
        l.auth_failed(Some(ip), None, 0);
        l.auth_failed(Some(ip), None, 0);
        assert_eq!(l.auth_blocked(Some(ip), None, 0), Some(2));
        assert_eq!(l.auth_blocked(Some(other), Some("k"), 0), None);
        assert_eq!(l.auth_blocked(Some(ip), None, 2_000), None, "one forgiven");
        for _ in 0..3 {
            l.auth_failed(Some(other), Some("k"), 0);
        }
        assert_eq!(l.auth_blocked(None, Some("k"), 0), Some(2));
        assert_eq!(l.auth_blocked(None, Some("j"), 0), None);
    }

    #[test]
    fn sign_in_failures_count_per_user_whatever_the_case() {
        let l = RateLimiter::new(&RateLimitsConfig {
            failed_sign_in: RatePolicy::new(2, 0.1, 0),
            ..config()
        });
        l.sign_in_failed(None, "Alice", 0);
        l.sign_in_failed(None, "alice", 0);
        assert_eq!(l.sign_in_blocked(None, "ALICE", 0), Some(10));
        assert_eq!(l.sign_in_blocked(None, "bob", 0), None);
    }

    #[test]
    fn switched_off_means_no_quota_and_no_blocks() {
        let l = RateLimiter::new(&RateLimitsConfig {
            enabled: false,
            ..config()
        });
        assert!(l.charge(QuotaOwner::ApiKey, "a", "x", 0).is_none());
        for _ in 0..10 {
            l.auth_failed(Some("192.0.2.1".parse().unwrap()), Some("k"), 0);
        }
        assert_eq!(
            l.auth_blocked(Some("192.0.2.1".parse().unwrap()), Some("k"), 0),
            None
        );
        assert_eq!(l.describe_default(), "none");
    }

    /// The hooks the user-token step calls, on an injected clock.
    #[test]
    fn token_and_sign_in_hooks_on_the_ops_state() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = crate::config::Config {
            data_dir: dir.path().to_path_buf(),
            ..crate::config::Config::default()
        };
        config.rate_limits.default = RatePolicy::new(2, 1.0, 0);
        config.rate_limits.failed_sign_in = RatePolicy::new(1, 0.5, 0);
        let clock = crate::clock::ManualClock::new(1_000);
        let ops = super::super::Ops::new(&config, clock.now()).unwrap();
        let mut slot = None;
        charge_api_key(&ops, &*clock, "key", "x", &mut slot).unwrap();
        charge_user_token(&ops, &*clock, "tok", "x", &mut slot).unwrap();
        charge_user_token(&ops, &*clock, "tok", "x", &mut slot.clone()).unwrap();
        let q = slot.unwrap();
        assert_eq!(
            q.policy_field(),
            "\"default\";q=2;w=2, \"token-default\";q=2;w=2"
        );
        let mut again = None;
        let refused = charge_user_token(&ops, &*clock, "tok", "x", &mut again);
        assert!(matches!(
            refused,
            Err(ApiError::RateLimited { retry_after: 1, .. })
        ));
        assert_eq!(again.unwrap().tightest().unwrap().remaining, 0);
        clock.advance(1);
        assert!(charge_user_token(&ops, &*clock, "tok", "x", &mut None).is_ok());

        let addr: Option<IpAddr> = "192.0.2.1".parse().ok();
        assert!(sign_in_gate(&ops, &*clock, addr, "alice").is_ok());
        ops.limiter
            .sign_in_failed(addr, "alice", clock.now_millis());
        assert!(matches!(
            sign_in_gate(&ops, &*clock, None, "Alice"),
            Err(ApiError::TooManyFailures { retry_after: 2 })
        ));
        clock.advance(2);
        assert!(sign_in_gate(&ops, &*clock, addr, "alice").is_ok());
    }

    #[test]
    fn reload_swaps_policies_and_sweep_forgets() {
        let l = RateLimiter::new(&config());
        l.charge(QuotaOwner::ApiKey, "a", "request-token", 0);
        l.charge(QuotaOwner::ApiKey, "a", "x", 0);
        assert_eq!(l.buckets(), 2);
        let mut c = config();
        c.methods.clear();
        l.set_policies(&c);
        assert_eq!(l.sweep(0), 1, "a bucket of a policy gone is forgotten");
        assert_eq!(l.sweep(60_000), 1, "today's count is kept");
    }
}

#[cfg(test)]
mod sharing_tests {
    use super::*;
    use proptest::prelude::*;

    fn limiter() -> RateLimiter {
        let mut c = RateLimitsConfig {
            default: RatePolicy::new(4, 0.001, 0),
            failed_auth_per_address: RatePolicy::new(2, 0.001, 0),
            ..RateLimitsConfig::default()
        };
        c.methods
            .insert("request-token".into(), RatePolicy::new(1, 0.001, 0));
        RateLimiter::new(&c)
    }

    fn allowed(l: &RateLimiter, key: &str, method: &str, now: i64) -> bool {
        l.charge(QuotaOwner::ApiKey, key, method, now)
            .expect("limits on")
            .decision
            .allowed
    }

    /// Two instances on one store: what one takes, the other no longer
    /// gives, once both have exchanged.
    #[test]
    fn instances_on_one_store_share_their_buckets() {
        let (_dir, store) = crate::store::test_store();
        let (a, b) = (limiter(), limiter());
        let now = 1_000_000;
        for _ in 0..3 {
            assert!(allowed(&a, "k1", "search", now));
        }
        assert!(allowed(&b, "k1", "request-token", now), "its own bucket");
        a.share(&store, now).unwrap();
        b.share(&store, now).unwrap();
        assert!(allowed(&b, "k1", "search", now), "one of four left");
        assert!(!allowed(&b, "k1", "search", now));
        assert!(!allowed(&b, "k1", "request-token", now));
        assert!(allowed(&b, "k2", "search", now), "other keys untouched");
        // a takes b's as well, and keeps what it took meanwhile
        assert!(
            allowed(&a, "k1", "search", now),
            "a decides alone until it hears"
        );
        b.share(&store, now).unwrap();
        a.share(&store, now).unwrap();
        assert!(!allowed(&a, "k1", "search", now));
        assert!(!allowed(&a, "k1", "request-token", now));
        // together they overdrew by one: the debt shows in both
        let peek = |l: &RateLimiter| l.calls.peek(&call("k1"), &l.policies.load().default, now);
        a.share(&store, now).unwrap();
        b.share(&store, now).unwrap();
        assert_eq!(peek(&a).retry_after_secs, peek(&b).retry_after_secs);
        assert!(peek(&a).retry_after_secs > 1_000, "{:?}", peek(&a));
    }

    fn call(id: &str) -> CallKey {
        CallKey {
            caller: QuotaOwner::ApiKey,
            method: None,
            id: id.into(),
        }
    }

    #[test]
    fn failed_authentications_block_on_every_instance() {
        let (_dir, store) = crate::store::test_store();
        let (a, b) = (limiter(), limiter());
        let addr: IpAddr = "203.0.113.9".parse().unwrap();
        let now = 5_000_000;
        a.auth_failed(Some(addr), None, now);
        a.auth_failed(Some(addr), None, now);
        assert!(a.auth_blocked(Some(addr), None, now).is_some());
        assert!(b.auth_blocked(Some(addr), None, now).is_none());
        a.share(&store, now).unwrap();
        b.share(&store, now).unwrap();
        assert!(b.auth_blocked(Some(addr), None, now).is_some());
        a.sign_in_failed(Some(addr), "Ann", now);
        a.share(&store, now).unwrap();
        b.share(&store, now).unwrap();
        let user = FailKey::SignInUser("ann".into());
        let pol = b.policies.load().failed_sign_in;
        assert_eq!(
            b.failures.peek(&user, &pol, now).remaining,
            u64::from(pol.burst) - 1
        );
    }

    /// Takes the store could not take are handed over on the next
    /// exchange, not lost.
    #[test]
    fn takes_survive_a_failed_exchange() {
        let (_dir, store) = crate::store::test_store();
        let a = limiter();
        let now = 1_000_000;
        assert!(allowed(&a, "k1", "search", now));
        crate::store::test_sql(&store, "ALTER TABLE rate_buckets RENAME TO gone");
        assert!(a.share(&store, now).is_err());
        assert!(allowed(&a, "k1", "search", now));
        crate::store::test_sql(&store, "ALTER TABLE gone RENAME TO rate_buckets");
        a.share(&store, now).unwrap();
        let b = limiter();
        b.share(&store, now).unwrap();
        let d = b.calls.peek(&call("k1"), &b.policies.load().default, now);
        assert_eq!(d.remaining, 2, "both takes were handed over");
    }

    proptest! {
        #[test]
        fn shared_ids_read_back(
            token in any::<bool>(),
            method in proptest::option::of("[a-z-]{1,20}"),
            id in "\\PC{0,40}",
            v4 in any::<[u8; 4]>(),
            v6 in any::<[u16; 8]>(),
        ) {
            let k = CallKey {
                caller: if token { QuotaOwner::UserToken } else { QuotaOwner::ApiKey },
                method: method.map(Box::from),
                id: id.as_str().into(),
            };
            prop_assert_eq!(CallKey::parse(&k.shared_id()), Some(k.clone()));
            prop_assert_eq!(FailKey::parse(&k.shared_id()), None);
            for f in [
                FailKey::AuthAddress(IpAddr::from(v4)),
                FailKey::SignInAddress(IpAddr::from(v6)),
                FailKey::AuthKey(id.as_str().into()),
                FailKey::SignInUser(id.as_str().into()),
            ] {
                prop_assert_eq!(FailKey::parse(&f.shared_id()), Some(f.clone()));
                prop_assert_eq!(CallKey::parse(&f.shared_id()), None);
            }
        }
    }
}
