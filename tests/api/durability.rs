//! A request is answered only after its nonce is committed: kill the server
//! with SIGKILL in the middle of a load, restart it on the same data
//! directory, and every request that was answered 200 must be refused as a
//! replay; the store must pass SQLite's integrity check.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use panthera::client::{random_nonce, sign_params, Client};
use panthera::store::now_unix;
use serde_json::Value;

use crate::helpers::Server;

/// The signed forms the server answered 200, shared by the client threads.
type Answered = Arc<Mutex<Vec<Vec<(String, String)>>>>;

#[test]
fn every_answered_request_is_a_replay_after_kill_9_and_restart() {
    let mut s = Server::start_with(NO_LIMITS);
    let creds = s.demo.clone().expect("demo key");
    let url = format!("{}/host-info", s.base);
    let answered: Answered = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let broken = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..6)
        .map(|_| {
            let (creds, url) = (creds.clone(), url.clone());
            let (answered, stop, broken) = (answered.clone(), stop.clone(), broken.clone());
            std::thread::spawn(move || {
                let client = Client::new("http://unused", creds.clone());
                while !stop.load(Ordering::Relaxed) {
                    let form = sign_params(&creds, now_unix(), &random_nonce());
                    match client.post_form(&url, &form) {
                        Ok(r) if r.status == 200 => answered.lock().unwrap().push(form),
                        Ok(r) => panic!("unexpected {}: {}", r.status, r.body),
                        Err(_) => {
                            // the server is gone
                            broken.fetch_add(1, Ordering::Relaxed);
                            return;
                        }
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(800));
    s.kill_now();
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().expect("worker");
    }
    let answered = std::mem::take(&mut *answered.lock().unwrap());
    assert!(answered.len() > 50, "too few requests: {}", answered.len());
    assert!(
        broken.load(Ordering::Relaxed) > 0,
        "the kill came after the load"
    );

    let s2 = Server::start_in(&s.dir, NO_LIMITS);
    let client = Client::new(&s2.base, creds);
    let url2 = format!("{}/host-info", s2.base);
    for form in &answered {
        let r = client.post_form(&url2, form).expect("replay");
        assert_eq!(
            (r.status, r.body.contains("replayed")),
            (403, true),
            "an answered request was accepted again after the restart: {}",
            r.body
        );
    }
    // and the store is fine
    drop(s2);
    let conn = rusqlite::Connection::open(s.dir.join("panthera.db")).expect("open store");
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check");
    assert_eq!(check, "ok");
    eprintln!(
        "{} answered requests, all refused after kill -9",
        answered.len()
    );
}

/// What the write load got answered before the kill.
#[derive(Default)]
struct Writes {
    /// Ids of users create-user answered 200 for.
    users: Vec<String>,
    /// (media id, deposit_remaining) of purchases answered 200.
    purchases: Vec<(u32, i64)>,
}

fn json_call(c: &Client, method: &str, params: &[(&str, &str)]) -> Option<(u16, Value)> {
    let mut p = params.to_vec();
    p.push(("content_type", "application/json"));
    let r = c.call(None, method, &p).ok()?;
    Some((r.status, serde_json::from_str(&r.body).ok()?))
}

#[test]
fn answered_writes_survive_kill_9_and_restart() {
    let mut s = Server::start_with(NO_LIMITS);
    let demo = s.demo.clone().expect("demo key");
    let admin = s.create_admin_key();
    // enough items and credits that buying goes on until the kill
    let setup: [&[&str]; 2] = [
        &["media", "generate", "20000"],
        &["media", "credit", "demo", "1000000"],
    ];
    for args in setup {
        let out = s.cli(args);
        assert!(out.status.success(), "{args:?}: {out:?}");
    }
    let writes = Arc::new(Mutex::new(Writes::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let base = s.base.clone();
    // two threads create users, two buy distinct catalogue items with the
    // demo user's credits (charge and order in one transaction)
    let workers: Vec<_> = (0..4)
        .map(|t| {
            let (writes, stop, base) = (writes.clone(), stop.clone(), base.clone());
            let creds = if t < 2 { admin.clone() } else { demo.clone() };
            std::thread::spawn(move || {
                let c = Client::new(&base, creds);
                let mut n: u32 = 0;
                // true when the kill cut the thread off (the transport failed)
                loop {
                    if stop.load(Ordering::Relaxed) {
                        return false;
                    }
                    n += 1;
                    if t < 2 {
                        let name = format!("dur{t}x{n}");
                        let email = format!("{name}@example.com");
                        let params = [
                            ("username", name.as_str()),
                            ("email", email.as_str()),
                            ("password", "Durable-Pass-42"),
                        ];
                        let Some((st, v)) = json_call(&c, "create-user", &params) else {
                            return true;
                        };
                        assert_eq!(st, 200, "{v}");
                        let id = v["user"]["id"].as_str().expect("user id").to_string();
                        writes.lock().unwrap().users.push(id);
                    } else {
                        // items t-1, t+1, t+3 … : the two threads never buy the same one
                        let media = (t as u32 - 1) + 2 * (n - 1);
                        let id = media.to_string();
                        let params = [("id_media", id.as_str()), ("id_article", "1")];
                        let Some((st, v)) = json_call(&c, "download-media", &params) else {
                            return true;
                        };
                        if st == 404 {
                            continue; // a demo contribution under review
                        }
                        assert_eq!(st, 200, "buying {media}: {v}");
                        let left = v["download_infos"]["deposit_remaining"]
                            .as_str()
                            .and_then(|d| d.parse().ok())
                            .expect("deposit_remaining");
                        writes.lock().unwrap().purchases.push((media, left));
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    s.kill_now();
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        assert!(
            w.join().expect("worker"),
            "a writer stopped before the kill"
        );
    }
    let writes = std::mem::take(&mut *writes.lock().unwrap());
    assert!(
        writes.users.len() > 5,
        "too few users: {}",
        writes.users.len()
    );
    assert!(
        writes.purchases.len() > 5,
        "too few purchases: {}",
        writes.purchases.len()
    );

    let s2 = Server::start_in(&s.dir, NO_LIMITS);
    let admin2 = Client::new(&s2.base, admin);
    for id in &writes.users {
        let (st, v) = json_call(&admin2, "get-user", &[("id", id)]).expect("get-user");
        assert_eq!(st, 200, "answered create-user {id} lost: {v}");
    }
    let demo2 = Client::new(&s2.base, demo);
    for (media, _) in &writes.purchases {
        let id = media.to_string();
        let (st, v) =
            json_call(&demo2, "get-downloaded-images", &[("id_media", &id)]).expect("list");
        assert_eq!(
            (st, &v["media_list"]["total"]),
            (200, &Value::from("1")),
            "answered purchase of {media} lost: {v}"
        );
    }
    let (_, v) = json_call(&demo2, "get-user-deposit", &[]).expect("deposit");
    let now: i64 = v["deposits"]["deposit"]["deposit-remaining"]
        .as_str()
        .and_then(|d| d.parse().ok())
        .unwrap_or_else(|| panic!("deposit: {v}"));
    let lowest_answered = writes.purchases.iter().map(|p| p.1).min().unwrap();
    assert!(
        now <= lowest_answered,
        "an answered charge was lost: {now} credits left, {lowest_answered} answered"
    );
    eprintln!(
        "{} users and {} purchases answered, all present after kill -9",
        writes.users.len(),
        writes.purchases.len()
    );
}

/// The load here is the test's own: no rate limit should refuse it.
const NO_LIMITS: &str = "[rate_limits]\nenabled = false\n";
