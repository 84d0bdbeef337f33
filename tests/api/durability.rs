//! A request is answered only after its nonce is committed: kill the server
//! with SIGKILL in the middle of a load, restart it on the same data
//! directory, and every request that was answered 200 must be refused as a
//! replay; the store must pass SQLite's integrity check.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use panthera::client::{random_nonce, sign_params, Client};
use panthera::store::now_unix;

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

/// The load here is the test's own: no rate limit should refuse it.
const NO_LIMITS: &str = "[rate_limits]\nenabled = false\n";
