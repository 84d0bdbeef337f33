//! Two instances on one PostgreSQL database behind nginx, run from the
//! configuration the operations guide ships (`deploy/nginx/panthera.conf`):
//! clients see one server. A deposit unit is charged once whichever
//! instance takes the call; an idempotency key answers once; `kill -9` of
//! an instance under load never makes an answered request replayable; a
//! rolling restart fails no client request. Runs when
//! `PANTHERA_TEST_DATABASE_URL` names a database server (`scripts/test`
//! starts a throwaway cluster); passes vacuously otherwise.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use panthera::client::{
    random_nonce, sign_params, sign_user_params, Client, Credentials, UserToken,
};
use panthera::store::now_unix;
use serde_json::Value;

use crate::balancer::Balancer;
use crate::browser::Browser;
use crate::helpers::{eventually, free_addr, get, metric, raw_post, signed_body, Server};
use crate::pg_backend::Database;

/// Rate limits off: the load in most tests here is the test's own.
const NO_LIMITS: &str = "[rate_limits]\nenabled = false\n";

/// What every instance shares: the database and the master key, nginx
/// trusted for client addresses, sign-in pages over plain HTTP (the test's
/// browser talks to the instances directly); then `limits`.
fn config(db: &Database, keys: &Path, limits: &str) -> String {
    format!(
        "[store]\nbackend = \"postgres\"\nurl = \"{}\"\n[auth]\nmaster_key_file = \"{}\"\n\
         [server]\ntrusted_proxies = [\"127.0.0.1\"]\nallow_insecure_sign_in = true\n\
         [limits]\nmax_in_flight_per_address = 0\n{limits}",
        db.url,
        keys.join("master.key").display()
    )
}

/// Two instances on fixed addresses (so restarts keep their place in
/// nginx's list), their data directories, and nginx in front.
struct Cluster {
    dirs: [tempfile::TempDir; 2],
    addrs: [String; 2],
    config: String,
    instances: [Option<Server>; 2],
    lb: Balancer,
    creds: Credentials,
    _keys: tempfile::TempDir,
}

impl Cluster {
    fn start(db: &Database) -> Cluster {
        Cluster::start_with(db, NO_LIMITS)
    }

    fn start_with(db: &Database, limits: &str) -> Cluster {
        let keys = tempfile::tempdir().unwrap();
        let config = config(db, keys.path(), limits);
        let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
        let addrs = [free_addr(), free_addr()];
        let a = Server::start_in_at(dirs[0].path(), &config, &addrs[0]);
        let b = Server::start_in_at(dirs[1].path(), &config, &addrs[1]);
        let creds = a.demo.clone().expect("the first instance seeds the demo");
        let lb = Balancer::start(&[&addrs[0], &addrs[1]]);
        Cluster {
            dirs,
            addrs,
            config,
            instances: [Some(a), Some(b)],
            lb,
            creds,
            _keys: keys,
        }
    }

    fn instance(&self, i: usize) -> &Server {
        self.instances[i].as_ref().expect("running")
    }

    /// A client of one instance, or of nginx (`None`).
    fn client(&self, through: Option<usize>) -> Client {
        let base = match through {
            Some(i) => self.instance(i).base.clone(),
            None => self.lb.base.clone(),
        };
        Client::new(&base, self.creds.clone())
    }

    fn restart(&mut self, i: usize) {
        self.instances[i] = Some(Server::start_in_at(
            self.dirs[i].path(),
            &self.config,
            &self.addrs[i],
        ));
    }
}

fn json(c: &Client, method: &str, params: &[(&str, &str)]) -> (u16, Value) {
    let mut p = params.to_vec();
    p.push(("content_type", "application/json"));
    let r = c.call(None, method, &p).expect("an answer");
    let v = serde_json::from_str(&r.body).unwrap_or(Value::Null);
    (r.status, v)
}

fn credits(c: &Client) -> i64 {
    let (status, v) = json(c, "get-user-deposit", &[]);
    assert_eq!(status, 200, "{v}");
    v["deposits"]["deposit"]["deposit-remaining"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("credits in {v}"))
}

/// What one instance hands out works on the other: a user token requested
/// from one and approved on the other's authorization page (with the form,
/// and its CSRF token, from the first), a session of one's account page, a
/// download link one instance signed.
#[test]
fn tokens_csrf_sessions_and_download_links_work_on_every_instance() {
    let Some(db) = Database::create() else {
        return;
    };
    let c = Cluster::start(&db);
    let (user, password) = c.instance(0).demo_user.clone().expect("demo user");
    let base = |i: usize| c.instance(i).base.clone();

    // request-token needs HTTPS: nginx (a trusted proxy) would say so
    let body = signed_body(
        &c.creds,
        &[
            ("token_secret", "TwoSecret"),
            ("app_name", "Two Instances"),
            ("content_type", "application/json"),
        ],
    );
    let r = raw_post(
        &c.instance(0).addr,
        "/request-token",
        "X-Forwarded-Proto: https\r\n",
        "application/x-www-form-urlencoded",
        &body,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let v: Value = serde_json::from_str(&r.body).expect("json");
    let token = v["token"].as_str().expect("token").to_string();
    let page = format!("/auth/{token}");

    let mut browser = Browser::plain();
    let form = browser.get(&format!("{}{page}", base(0)));
    assert_eq!(form.status, 200, "{}", form.body);
    let done = browser.post(
        &format!("{}{page}", base(1)),
        &[
            ("csrf", &form.hidden("csrf")),
            ("username", &user),
            ("password", &password),
            ("decision", "allow"),
        ],
    );
    assert_eq!(
        done.status, 200,
        "the other instance takes the form: {}",
        done.body
    );

    let signed = UserToken {
        auth_token: token,
        token_secret: "TwoSecret".into(),
    };
    let mut call = sign_user_params(&c.creds, &signed, now_unix(), &random_nonce());
    call.push(("content_type".into(), "application/json".into()));
    let r = c
        .client(Some(1))
        .post_form(&format!("{}/get-user-profile", base(1)), &call)
        .expect("an answer");
    assert_eq!(
        r.status, 200,
        "the token works on the other instance: {}",
        r.body
    );
    assert!(r.body.contains(&user), "{}", r.body);

    // approving signed the browser in on the instance that took the form:
    // that session is good on the other one too
    let apps = browser.get(&format!("{}/account/apps", base(0)));
    assert!(apps.body.contains("Signed in as"), "{}", apps.body);

    // the account page: signed in on one, signed in on the other
    let mut browser = Browser::plain();
    let form = browser.get(&format!("{}/account/apps", base(0)));
    let signed_in = browser.post(
        &format!("{}/account/signin", base(0)),
        &[
            ("csrf", &form.hidden("csrf")),
            ("username", &user),
            ("password", &password),
        ],
    );
    assert!(signed_in.status < 400, "{}", signed_in.body);
    let other = browser.get(&format!("{}/account/apps", base(1)));
    assert!(other.body.contains("Signed in as"), "{}", other.body);

    // a download ordered on one, followed and fetched on the other
    let (status, v) = json(
        &c.client(Some(0)),
        "download-media",
        &[("id_media", "5"), ("id_article", "1")],
    );
    assert_eq!(status, 200, "{v}");
    let hash = v["download_status"]["queue_hash"]
        .as_str()
        .expect("hash")
        .to_string();
    let mut url = String::new();
    assert!(
        eventually(20, || {
            let (_, v) = json(
                &c.client(Some(1)),
                "download-media",
                &[("id_media", "5"), ("queue_hash", &hash)],
            );
            url = v["download_status"]["download_url"]
                .as_str()
                .unwrap_or("")
                .to_string();
            !url.is_empty()
        }),
        "the order never became ready"
    );
    let path = url
        .strip_prefix("http://")
        .and_then(|rest| rest.find('/').map(|i| rest[i..].to_string()))
        .unwrap_or_else(|| panic!("a link: {url}"));
    for i in 0..2 {
        let file = get(&c.instance(i).addr, &path);
        assert_eq!(file.status, 200, "instance {i}: {}", file.body);
        assert_eq!(file.header("content-type"), Some("image/jpeg"));
    }
}

/// How many times `s` exchanged its rate-limit buckets with the others.
fn exchanges(s: &Server) -> f64 {
    metric(s, "panthera_rate_limit_exchanges_total{result=\"ok\"}")
}

/// Waits until whatever either instance took has reached the other: each
/// exchange counted from here on started after the take, so two on one
/// instance, then two on the other, then two on the first again, cover a
/// take on either side (handed over, then read).
fn settle(c: &Cluster) {
    for i in [0, 1, 0] {
        let s = c.instance(i);
        let start = exchanges(s);
        assert!(
            eventually(20, || exchanges(s) >= start + 2.0),
            "instance {i} stopped exchanging its buckets:\n{}",
            s.log()
        );
    }
}

/// Limits count across instances: calls of one key go alternately to each
/// instance, and together they let through the burst once, not once each;
/// failed authentications from one address, spread by nginx, block that
/// address on both. Between calls the test waits for the exchanges, so the
/// counts are exact (within an exchange interval they overshoot, as the
/// operations guide says).
#[test]
fn rate_limits_and_failed_auth_throttles_count_across_instances() {
    let Some(db) = Database::create() else {
        return;
    };
    let limits = "[rate_limits]\nshare_every_ms = 50\n\
                  [rate_limits.default]\nburst = 6\nper_second = 0.001\ndaily = 0\n\
                  [rate_limits.failed_auth_per_address]\nburst = 4\nper_second = 0.001\n";
    let c = Cluster::start_with(&db, limits);
    let statuses: Vec<u16> = (0..14)
        .map(|i| {
            let (status, v) = json(&c.client(Some(i % 2)), "host-info", &[]);
            assert!(status == 200 || status == 429, "{status} {v}");
            settle(&c);
            status
        })
        .collect();
    let passed = statuses.iter().filter(|s| **s == 200).count();
    assert_eq!(passed, 6, "one burst for both instances: {statuses:?}");
    assert!(statuses[6..].iter().all(|s| *s == 429), "{statuses:?}");

    // wrong signatures through nginx, from one address
    let wrong = Credentials {
        api_secret: "not-the-secret".into(),
        ..c.creds.clone()
    };
    let lb = Client::new(&c.lb.base, wrong.clone());
    let failures: Vec<u16> = (0..7)
        .map(|_| {
            let (status, _) = json(&lb, "host-info", &[]);
            settle(&c);
            status
        })
        .collect();
    assert!(
        failures[..4].iter().all(|s| *s != 429 && *s != 200),
        "{failures:?}"
    );
    assert!(failures[4..].iter().all(|s| *s == 429), "{failures:?}");
    for i in 0..2 {
        let direct = Client::new(&c.instance(i).base, wrong.clone());
        assert_eq!(json(&direct, "host-info", &[]).0, 429, "instance {i}");
    }
}

#[test]
fn through_nginx_a_purchase_is_charged_once_and_a_key_answers_once() {
    let Some(db) = Database::create() else {
        return;
    };
    let c = Cluster::start(&db);
    let lb = c.client(None);
    let before = credits(&lb);
    // the same item and size bought at once through both instances
    let statuses: Vec<(u16, Value)> = std::thread::scope(|scope| {
        let hands: Vec<_> = (0..8)
            .map(|i| {
                let client = c.client(Some(i % 2));
                scope.spawn(move || {
                    json(
                        &client,
                        "download-media",
                        &[("id_media", "3"), ("id_article", "1")],
                    )
                })
            })
            .collect();
        hands.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let orders: std::collections::BTreeSet<String> = statuses
        .iter()
        .map(|(st, v)| {
            assert_eq!(*st, 200, "{v}");
            v["download_status"]["id_download"].to_string()
        })
        .collect();
    assert_eq!(orders.len(), 1, "one order: {orders:?}");
    let after_first = credits(&lb);
    let price = before - after_first;
    assert!(price > 0, "charged");
    // an idempotency key answers once, through either instance
    let buy = [
        ("id_media", "4"),
        ("id_article", "1"),
        ("idempotency_key", "order-4"),
    ];
    let (s1, first) = json(&c.client(Some(0)), "download-media", &buy);
    let (s2, second) = json(&c.client(Some(1)), "download-media", &buy);
    assert_eq!((s1, s2), (200, 200), "{first} {second}");
    assert_eq!(first, second, "the retry answers the first call");
    assert_eq!(
        after_first - credits(&lb),
        price,
        "the second item charged once (the same article, the same price)"
    );
}

/// Signed `host-info` calls through nginx until `stop`; every answered form
/// is kept; `failures` counts the calls that got no 200.
fn load(
    lb: &str,
    creds: &Credentials,
    stop: &AtomicBool,
    answered: &Mutex<Vec<Vec<(String, String)>>>,
    failures: &Mutex<Vec<String>>,
) {
    let client = Client::new(lb, creds.clone());
    let url = format!("{lb}/host-info");
    while !stop.load(Ordering::Relaxed) {
        let form = sign_params(creds, now_unix(), &panthera::client::random_nonce());
        match client.post_form(&url, &form) {
            Ok(r) if r.status == 200 => answered.lock().unwrap().push(form),
            Ok(r) => failures
                .lock()
                .unwrap()
                .push(format!("{} {}", r.status, r.body)),
            Err(e) => failures.lock().unwrap().push(e.to_string()),
        }
    }
}

/// Runs `during` while four threads send signed `host-info` calls through
/// nginx: (the forms answered 200, the calls that were not).
fn under_load(
    c: &mut Cluster,
    during: impl FnOnce(&mut Cluster),
) -> (Vec<Vec<(String, String)>>, Vec<String>) {
    let stop = AtomicBool::new(false);
    let answered = Mutex::new(Vec::new());
    let failures = Mutex::new(Vec::new());
    let (lb, creds) = (c.lb.base.clone(), c.creds.clone());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| load(&lb, &creds, &stop, &answered, &failures));
        }
        during(c);
        stop.store(true, Ordering::Relaxed);
    });
    let answered = answered.into_inner().unwrap();
    assert!(answered.len() > 50, "too little load: {}", answered.len());
    (answered, failures.into_inner().unwrap())
}

/// How many of `forms` instance `i` accepts when they are sent again.
fn accepted_again(c: &Cluster, i: usize, forms: &[Vec<(String, String)>]) -> usize {
    let client = c.client(Some(i));
    let url = format!("{}/host-info", c.instance(i).base);
    forms
        .iter()
        .filter(|form| client.post_form(&url, form).map(|r| r.status).ok() == Some(200))
        .count()
}

#[test]
fn kill_9_of_an_instance_under_load_never_makes_an_answered_request_replayable() {
    let Some(db) = Database::create() else {
        return;
    };
    let mut c = Cluster::start(&db);
    let (answered, _) = under_load(&mut c, |c| {
        std::thread::sleep(Duration::from_millis(700));
        if let Some(a) = c.instances[0].as_mut() {
            a.kill_now();
        }
        std::thread::sleep(Duration::from_millis(700));
    });
    // every answered request, sent again to the surviving instance, is a replay
    let again = accepted_again(&c, 1, &answered);
    assert_eq!(
        again,
        0,
        "{again} of {} answered requests were accepted again",
        answered.len()
    );
    // and after a restart of the killed one, there too
    c.restart(0);
    assert_eq!(accepted_again(&c, 0, &answered), 0);
}

#[test]
fn a_rolling_restart_behind_nginx_fails_no_client_request() {
    let Some(db) = Database::create() else {
        return;
    };
    let mut c = Cluster::start(&db);
    let (answered, failures) = under_load(&mut c, |c| {
        for i in 0..2 {
            std::thread::sleep(Duration::from_millis(400));
            // a graceful stop: requests in flight finish, new ones go to the other
            let s = c.instances[i].as_mut().unwrap();
            s.signal("TERM");
            assert!(s.wait_exit(40).is_some(), "instance {i} stopped");
            c.restart(i);
            let addr = c.addrs[i].clone();
            assert!(eventually(10, || crate::helpers::get(&addr, "/health")
                .status
                == 200));
        }
        std::thread::sleep(Duration::from_millis(400));
    });
    assert!(
        failures.is_empty(),
        "{} of {} client requests failed, e.g. {:?}",
        failures.len(),
        failures.len() + answered.len(),
        failures.first()
    );
}

/// A cluster of this test's own (it is stopped and started again), removed
/// on drop.
pub(crate) struct PrivateCluster {
    pub(crate) dir: String,
    pub(crate) url: String,
}

fn pg_cluster(args: &[&str]) -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = std::process::Command::new(format!("{root}/scripts/pg-cluster"))
        .args(args)
        .output()
        .expect("scripts/pg-cluster runs");
    assert!(
        out.status.success(),
        "pg-cluster {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

impl PrivateCluster {
    pub(crate) fn start() -> PrivateCluster {
        let dir = tempfile::Builder::new()
            .prefix("panthera-pg.")
            .tempdir_in("/tmp")
            .unwrap()
            .keep();
        let dir = dir.display().to_string();
        let url = pg_cluster(&["start", &dir]);
        PrivateCluster { dir, url }
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let root = env!("CARGO_MANIFEST_DIR");
        let _ = std::process::Command::new(format!("{root}/scripts/pg-cluster"))
            .args(["stop", &self.dir])
            .output();
    }
}

#[test]
fn when_postgresql_stops_calls_get_a_quick_503_and_service_resumes_when_it_returns() {
    // only where PostgreSQL is tested at all (scripts/test)
    if Database::create().is_none() {
        return;
    }
    let pg = PrivateCluster::start();
    let s = Server::start_with(&format!(
        "[store]\nbackend = \"postgres\"\nurl = \"{}\"\n",
        pg.url
    ));
    let client = s.client();
    assert_eq!(client.call(None, "host-info", &[]).unwrap().status, 200);
    pg_cluster(&["halt", &pg.dir]);
    for _ in 0..3 {
        let started = std::time::Instant::now();
        let r = client.call(None, "host-info", &[]).unwrap();
        assert_eq!(r.status, 503, "{}", r.body);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "a quick refusal, not a hang: {:?}",
            started.elapsed()
        );
    }
    let health = crate::helpers::get(&s.addr, "/health");
    assert_eq!(health.status, 503, "{}", health.body);
    pg_cluster(&["resume", &pg.dir]);
    assert!(
        eventually(15, || client
            .call(None, "host-info", &[])
            .is_ok_and(|r| r.status == 200)),
        "service resumes by itself"
    );
    assert_eq!(crate::helpers::get(&s.addr, "/health").status, 200);
}
