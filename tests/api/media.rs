//! The media catalogue (methods.md §D, §E) over real HTTP: search, paging,
//! buying (402 boundary, concurrency, re-downloads), orders and callbacks,
//! poll cursors, contributor isolation, imports and the PUT body.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use panthera::client::{random_nonce, sign_user_params, Client, Credentials, UserToken};
use panthera::store::now_unix;
use serde_json::Value;

use crate::browser::Browser;
use crate::helpers::{get, Server};

const TOKEN_SECRET: &str = "media test secret";

/// `creds` acting for `username`: a token requested over TLS and approved on
/// the real authorization page, as the contributor methods need.
pub fn signed_in(
    s: &Server,
    creds: &Credentials,
    username: &str,
    password: &str,
) -> (Client, UserToken) {
    let tls = Client::new(s.tls_base.as_deref().expect("TLS server"), creds.clone())
        .with_ca_pem(&s.cert_pem())
        .expect("trust the certificate");
    let r = tls
        .call(
            None,
            "request-token",
            &[
                ("token_secret", TOKEN_SECRET),
                ("app_name", "Media test"),
                ("content_type", "application/json"),
            ],
        )
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.body);
    let v: Value = serde_json::from_str(&r.body).unwrap();
    let auth_url = v["auth_url"].as_str().unwrap();
    let mut browser = Browser::new(&s.cert_pem());
    let done = crate::tokens::decide(&mut browser, auth_url, username, password, "allow");
    assert_eq!(done.status, 200, "{}", done.body);
    let token = UserToken {
        auth_token: v["token"].as_str().unwrap().to_string(),
        token_secret: TOKEN_SECRET.into(),
    };
    (
        Client::new(&s.base, creds.clone()).with_token(token.clone()),
        token,
    )
}

/// The demo user, signed in.
pub(crate) fn demo_signed_in(s: &Server) -> (Client, UserToken) {
    let (user, password) = s.demo_user.clone().unwrap();
    signed_in(s, &s.demo.clone().unwrap(), &user, &password)
}

fn call(c: &Client, v: Option<&str>, method: &str, params: &[(&str, &str)]) -> (u16, Value) {
    let mut p = params.to_vec();
    p.push(("content_type", "application/json"));
    let r = c.call(v, method, &p).unwrap();
    let body = serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.body));
    (r.status, body)
}

fn cli_ok(s: &Server, args: &[&str]) -> String {
    let out = s.cli(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A user with an api key that acts for them.
fn user(s: &Server, name: &str) -> Client {
    cli_ok(
        s,
        &[
            "users",
            "create",
            "--username",
            name,
            "--email",
            &format!("{name}@example.com"),
            "--password",
            "Correct-Horse-42",
        ],
    );
    let out = cli_ok(
        s,
        &[
            "keys",
            "create",
            "--name",
            &format!("{name} app"),
            "--owner",
            name,
            "--json",
        ],
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    let creds = Credentials {
        api_key: v["api_key"].as_str().unwrap().into(),
        api_secret: v["api_secret"].as_str().unwrap().into(),
        algo: panthera::protocol::signature::Algo::Sha1,
    };
    if s.tls_base.is_some() {
        signed_in(s, &creds, name, "Correct-Horse-42").0
    } else {
        Client::new(&s.base, creds)
    }
}

fn import(s: &Server, name: &str, text: &str) -> std::process::Output {
    let path = s.dir.join(name);
    std::fs::write(&path, text).unwrap();
    s.cli(&["media", "import", path.to_str().unwrap()])
}

/// An element that is one object or an array of them, as a list.
fn list(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    }
}

fn ids(items: &Value) -> Vec<String> {
    list(&items["media"])
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect()
}

const QUOKKAS: &str = "id,title,description,keywords,author_username,width,height\n\
90001,Quokka on a beach,A small animal,\"quokka,beach\",anna.berg,300,200\n\
90002,Sunny island,\"Seen here: a quokka, far away\",\"island,sun\",anna.berg,300,200\n\
90003,Quokka in the snow,A cold one,\"quokka,snow\",anna.berg,300,200\n\
90004,Quokka family,Several of them,\"quokka,family,beach\",anna.berg,300,200\n";

#[test]
fn search_ranks_excludes_and_finds_ids() {
    let s = Server::start();
    let out = import(&s, "q.csv", QUOKKAS);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let c = s.client();
    let search = |q: &str| {
        let (st, v) = call(&c, None, "search", &[("q", q), ("limit", "100")]);
        assert_eq!(st, 200, "{v}");
        (
            v["items"]["total"].as_str().unwrap().to_string(),
            ids(&v["items"]),
        )
    };
    let (total, found) = search("quokka");
    assert_eq!(total, "4");
    assert_eq!(
        found.last().map(String::as_str),
        Some("90002"),
        "description-only match ranks last"
    );
    let (_, found) = search("Quokka -snow");
    assert_eq!(found.len(), 3);
    assert!(!found.contains(&"90003".to_string()));
    let (_, found) = search("quokka -snow beach");
    assert_eq!(
        found,
        vec!["90002"],
        "-word excludes it and all words after"
    );
    let (_, found) = search("90003");
    assert_eq!(found, vec!["90003"]);
    let (_, found) = search("island 90003");
    assert_eq!(
        found.first().map(String::as_str),
        Some("90003"),
        "an id match ranks first"
    );
    assert!(found.contains(&"90002".to_string()));
    let (_, found) = search("-quokka");
    assert!(!found.is_empty() && found.iter().all(|id| !id.starts_with("9000")));
    let (_, found) = search("quok*");
    assert_eq!(found.len(), 4);
    let (st, v) = call(
        &c,
        None,
        "search",
        &[
            ("q", "quokka"),
            ("filters", " orientation : square ; "),
            ("extra_info", "title, orientation"),
        ],
    );
    assert_eq!((st, v["items"]["total"].as_str()), (200, Some("0")));
    let (_, v) = call(
        &c,
        None,
        "search",
        &[
            ("q", "snow quokka"),
            ("extra_info", "title,orientation,author_username"),
        ],
    );
    let m = &v["items"]["media"];
    assert_eq!(m["title"], "Quokka in the snow");
    assert_eq!(m["orientation"], "horizontal");
    assert_eq!(m["author-username"], "anna.berg");
    assert!(m["thumb"]
        .as_str()
        .unwrap()
        .ends_with("/media/thumb170/90003.jpg"));
    for (name, value) in [
        ("filters", "colour:red"),
        ("filters", "color:plaid"),
        ("extra_info", "nope"),
    ] {
        let (st, v) = call(&c, None, "search", &[(name, value)]);
        assert_eq!(st, 400, "{name}={value}: {v}");
    }
}

#[test]
fn paging_counts_from_0_before_1_2_and_from_1_after() {
    let s = Server::start();
    let c = s.client();
    let page = |v: &str, p: &str| {
        let (st, body) = call(&c, Some(v), "search", &[("limit", "5"), ("page", p)]);
        assert_eq!(st, 200, "{body}");
        assert_eq!(body["items"]["items"], "5");
        ids(&body["items"])
    };
    assert_eq!(page("1.0", "0"), page("1.2", "1"));
    assert_eq!(page("1.0", "1"), page("1.2", "2"));
    assert_ne!(page("1.0", "0"), page("1.0", "1"));
    assert_eq!(page("1.1", "0"), page("1.0", "0"), "1.1 still pages from 0");
    let (st, _) = call(&c, Some("1.2"), "search", &[("page", "0")]);
    assert_eq!(st, 400, "page 0 does not exist from 1.2 on");
}

fn buy(c: &Client, id: &str, articles: &str) -> (u16, Value) {
    call(
        c,
        None,
        "download-media",
        &[("id_media", id), ("id_article", articles)],
    )
}

#[test]
fn the_deposit_pays_exactly_or_402() {
    let s = Server::start();
    let bob = user(&s, "bob");
    let (st, v) = buy(&bob, "1", "1");
    assert_eq!(st, 402, "{v}");
    assert_eq!(v["err"]["code"], 402);
    cli_ok(&s, &["media", "credit", "bob", "4"]);
    let (st, _) = buy(&bob, "1", "1");
    assert_eq!(st, 402, "one credit short");
    cli_ok(&s, &["media", "credit", "bob", "1"]);
    let (st, v) = buy(&bob, "1", "1");
    assert_eq!(st, 200, "exactly enough: {v}");
    assert_eq!(v["download_infos"]["deposit_settled"], "5");
    assert_eq!(v["download_infos"]["deposit_remaining"], "0");
    let id_download = v["download_infos"]["id_download"]
        .as_str()
        .unwrap()
        .to_string();
    let (st, v) = buy(&bob, "1", "1");
    assert_eq!(
        (st, &v["download_infos"]["deposit_settled"]),
        (200, &Value::from("0")),
        "held: free"
    );
    assert_eq!(v["download_infos"]["id_download"], id_download.as_str());
    let (st, _) = buy(&bob, "1", "1,101");
    assert_eq!(st, 402, "extended rights cost extra");
    let (st, v) = call(
        &bob,
        None,
        "download-media",
        &[("id_media", "1"), ("id_download", &id_download)],
    );
    assert_eq!(st, 200, "re-download is free: {v}");
    assert_eq!(v["download_infos"]["deposit_settled"], "0");
    for (articles, code) in [("101", 422), ("1,2", 422), ("999", 404), ("x", 400)] {
        let (st, v) = buy(&bob, "2", articles);
        assert_eq!(st, code, "{articles}: {v}");
    }
    let (st, _) = call(&bob, None, "download-media", &[("id_media", "2")]);
    assert_eq!(st, 400, "a purchase needs id_article");
    // a key without an owner has nobody to charge
    let anon = Client::new(&s.base, s.create_key("anonymous"));
    assert_eq!(buy(&anon, "1", "1").0, 401);
}

#[test]
fn concurrent_purchases_never_charge_twice() {
    let s = Server::start();
    let bob = user(&s, "bob");
    cli_ok(&s, &["media", "credit", "bob", "5"]);
    let same: Vec<(u16, Value)> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..8).map(|_| sc.spawn(|| buy(&bob, "2", "1"))).collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(same.iter().all(|(st, _)| *st == 200), "{same:?}");
    let charged = same
        .iter()
        .filter(|(_, v)| v["download_infos"]["deposit_settled"] == "5")
        .count();
    assert_eq!(charged, 1, "identical calls charge once");
    let orders: HashSet<&Value> = same
        .iter()
        .map(|(_, v)| &v["download_infos"]["id_download"])
        .collect();
    assert_eq!(orders.len(), 1);
    cli_ok(&s, &["media", "credit", "bob", "5"]);
    let different: Vec<u16> = std::thread::scope(|sc| {
        let hs: Vec<_> = (10..18)
            .map(|id| {
                let bob = &bob;
                sc.spawn(move || buy(bob, &id.to_string(), "1").0)
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        different.iter().filter(|st| **st == 200).count(),
        1,
        "{different:?}"
    );
    assert_eq!(
        different.iter().filter(|st| **st == 402).count(),
        7,
        "{different:?}"
    );
    let (_, v) = call(&bob, None, "get-downloaded-images", &[]);
    assert_eq!(v["media_list"]["total"], "2");
}

/// A callback receiver that fails its first request and accepts the rest.
fn callback_server() -> (String, mpsc::Receiver<(u16, String)>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for (n, stream) in l.incoming().enumerate().take(5) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut len = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; len];
            let _ = reader.read_exact(&mut body);
            let status = if n == 0 { 500 } else { 200 };
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = tx.send((status, String::from_utf8_lossy(&body).into_owned()));
        }
    });
    (url, rx)
}

#[test]
fn an_order_gets_ready_serves_its_file_and_calls_back_with_retries() {
    let s = Server::start_with("[media]\nworker_interval_ms = 100\n");
    let c = s.client();
    let (hook, calls) = callback_server();
    let (st, v) = call(
        &c,
        None,
        "download-media",
        &[
            ("id_media", "3"),
            ("id_article", "1"),
            ("callback_url", &hook),
        ],
    );
    assert_eq!(st, 200, "{v}");
    let hash = v["download_status"]["queue_hash"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(v["download_status"]["status"], "queued");
    assert_eq!(v["download_status"]["download_url"], "");
    let start = Instant::now();
    let ready = loop {
        let (_, v) = call(
            &c,
            None,
            "download-media",
            &[("id_media", "3"), ("queue_hash", &hash)],
        );
        if v["download_status"]["status"] == "ready" {
            break v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "never ready: {v}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(
        ready["download_infos"]["deposit_settled"], "0",
        "following an order is free"
    );
    let url = ready["download_status"]["download_url"].as_str().unwrap();
    let path = url.strip_prefix(&s.base).unwrap();
    let file = get(&s.addr, path);
    assert_eq!(file.status, 200);
    assert_eq!(file.header("content-type"), Some("image/jpeg"));
    assert!(file
        .header("content-disposition")
        .unwrap()
        .contains("attachment"));
    let forged = path.replacen("/download/", "/download/9", 1);
    assert_eq!(get(&s.addr, &forged).status, 404);
    let first = calls
        .recv_timeout(Duration::from_secs(10))
        .expect("first callback");
    assert_eq!(first.0, 500);
    let second = calls
        .recv_timeout(Duration::from_secs(10))
        .expect("a retry");
    assert_eq!(second.0, 200);
    assert!(
        second.1.contains(&format!("queue_hash={hash}")),
        "{}",
        second.1
    );
    assert!(second.1.contains("status=ready"));
    assert!(
        calls.recv_timeout(Duration::from_secs(2)).is_err(),
        "no callback after a delivered one"
    );
}

fn poll(c: &Client, kind: &str, since: &str, limit: &str, cursor: Option<&str>) -> (u16, Value) {
    let mut p = vec![("type", kind), ("last_polling", since), ("limit", limit)];
    if let Some(cur) = cursor {
        p.push(("next_page_id", cur));
    }
    call(c, Some("1.1"), "poll", &p)
}

fn page(v: &Value) -> (Vec<String>, String) {
    (
        ids(&v["items"]),
        v["items"]["next_page_id"].as_str().unwrap().to_string(),
    )
}

fn set_title(c: &Client, id: &str, title: &str) {
    let (st, v) = call(
        c,
        None,
        "set-user-media-metadata",
        &[("id_media", id), ("title", title)],
    );
    assert_eq!(st, 200, "{v}");
}

#[test]
fn poll_cursors_survive_inserts_changes_and_deletions() {
    let s = Server::start_tls_with("");
    let c = demo_signed_in(&s).0;
    let since =
        panthera::protocol::timestamp::Timestamp::from_unix(panthera::store::now_unix() - 60)
            .format();
    let r = c
        .call(None, "poll", &[("type", "new"), ("last_polling", &since)])
        .unwrap();
    assert_eq!(r.status, 404, "poll exists from 1.1");

    // new: items imported while paging come on a later page
    assert!(
        import(&s, "a.csv", &QUOKKAS[..QUOKKAS.find("90004").unwrap()])
            .status
            .success()
    );
    let (st, v) = poll(&c, "new", &since, "2", None);
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["items"]["total"], "3");
    let (mut seen, cursor) = page(&v);
    let rest = "id,title,author_username,width,height\n90004,Late quokka,anna.berg,5,5\n90005,Later quokka,anna.berg,5,5\n";
    assert!(import(&s, "b.csv", rest).status.success());
    let (_, v) = poll(&c, "new", &since, "10", Some(&cursor));
    seen.extend(page(&v).0);
    assert_eq!(seen, vec!["90001", "90002", "90003", "90004", "90005"]);

    // changed: an item changed again while paging shows up again, none is skipped
    for id in ["301", "302", "303"] {
        set_title(&c, id, &format!("Changed {id}"));
    }
    let (_, v) = poll(&c, "changed", &since, "2", None);
    let (first, cursor) = page(&v);
    assert_eq!(first, vec!["301", "302"]);
    set_title(&c, "301", "Changed again");
    set_title(&c, "310", "Changed too");
    let (_, v) = poll(&c, "changed", &since, "10", Some(&cursor));
    assert_eq!(page(&v).0, vec!["303", "301", "310"]);

    // deleted
    cli_ok(&s, &["media", "delete", "5"]);
    cli_ok(&s, &["media", "delete", "6"]);
    let (_, v) = poll(&c, "deleted", &since, "1", None);
    let (first, cursor) = page(&v);
    assert_eq!(first, vec!["5"]);
    cli_ok(&s, &["media", "delete", "7"]);
    let (_, v) = poll(&c, "deleted", &since, "10", Some(&cursor));
    assert_eq!(page(&v).0, vec!["6", "7"]);
    let (st, _) = call(&c, None, "get-media-info", &[("id_media", "5")]);
    assert_eq!(st, 404, "deleted items are gone from the catalogue");

    // a cursor belongs to its poll; a media id works as last_polling
    assert_eq!(poll(&c, "new", &since, "10", Some(&cursor)).0, 400);
    assert_eq!(poll(&c, "new", &since, "10", Some("garbage")).0, 400);
    let (st, v) = poll(&c, "new", "90003", "10", None);
    assert_eq!(st, 200, "{v}");
    assert_eq!(poll(&c, "new", "99999999", "10", None).0, 404);
}

#[test]
fn a_user_reaches_only_their_own_media_downloads_and_deposit() {
    let s = Server::start_tls_with("");
    let demo = demo_signed_in(&s).0;
    let bob = user(&s, "bob");
    let csv = "id,title,author_username,width,height,state\n\
               80001,Bob's first,bob,10,10,pending\n80002,Bob's second,bob,10,10,green\n";
    assert!(import(&s, "bob.csv", csv).status.success());
    let (_, v) = call(&bob, None, "get-user-media-list", &[]);
    assert_eq!(ids_m(&v), vec!["80001", "80002"]);
    assert_eq!(
        call(&bob, None, "get-user-media-count", &[("state", "yellow")]).1["count"],
        "1"
    );
    let (_, v) = call(&demo, None, "get-user-media-list", &[("limit", "50")]);
    assert_eq!(v["media"]["total"], "10");
    assert!(ids_m(&v).iter().all(|id| !id.starts_with("8000")));
    for (who, id) in [(&demo, "80001"), (&bob, "301")] {
        let (st, _) = call(who, None, "get-user-media-metadata", &[("id_media", id)]);
        assert_eq!(st, 404, "{id}");
        let (st, _) = call(
            who,
            None,
            "set-user-media-metadata",
            &[("id_media", id), ("title", "mine")],
        );
        assert_eq!(st, 404, "{id}");
    }
    let (_, v) = call(&demo, None, "get-media-info", &[("id_media", "301")]);
    assert_eq!(
        v["metadata"]["title"].as_str().map(|t| !t.is_empty()),
        Some(true)
    );
    let (st, _) = call(&demo, None, "get-media-info", &[("id_media", "80001")]);
    assert_eq!(st, 404, "a pending item is not public");

    cli_ok(&s, &["media", "credit", "bob", "100"]);
    let (_, v) = buy(&bob, "1", "1");
    let bobs = v["download_infos"]["id_download"]
        .as_str()
        .unwrap()
        .to_string();
    let hash = v["download_status"]["queue_hash"]
        .as_str()
        .unwrap()
        .to_string();
    let (st, _) = call(
        &demo,
        None,
        "download-media",
        &[("id_media", "1"), ("id_download", &bobs)],
    );
    assert_eq!(st, 404);
    let (st, _) = call(
        &demo,
        None,
        "download-media",
        &[("id_media", "1"), ("queue_hash", &hash)],
    );
    assert_eq!(st, 404);
    let (_, v) = call(&demo, None, "get-downloaded-images", &[]);
    assert_eq!(v["media_list"]["total"], "0");
    let (_, v) = call(
        &bob,
        None,
        "get-media-info",
        &[("id_media", "1"), ("show_articles", "yes")],
    );
    assert_eq!(
        v["articles"]["singlebuy_list"]["singlebuy"]["deposit-remaining"],
        "95"
    );
    let (_, v) = call(
        &demo,
        None,
        "get-media-info",
        &[("id_media", "1"), ("show_articles", "yes")],
    );
    assert_eq!(
        v["articles"]["singlebuy_list"]["singlebuy"]["deposit-remaining"],
        "1000"
    );
}

fn ids_m(v: &Value) -> Vec<String> {
    list(&v["media"]["m"])
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn an_import_with_bad_rows_names_every_line_and_imports_nothing() {
    let s = Server::start();
    let text = "title,keywords,author_username,width,height,state\n\
                Good wombat,wombat,anna.berg,10,10,green\n\
                ,wombat,anna.berg,10,10,green\n\
                \"Multi\nline wombat\",wombat,anna.berg,10,10,green\n\
                Bad wombat,wombat,anna.berg,wide,10,purple\n\
                Short row,wombat\n";
    let out = import(&s, "bad.csv", text);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    for line in ["line 3:", "line 6:", "line 7:"] {
        assert!(err.contains(line), "{line} missing: {err}");
    }
    assert!(
        !err.contains("line 2:") && !err.contains("line 4:"),
        "{err}"
    );
    assert!(
        err.contains("title is empty") && err.contains("unknown state 'purple'"),
        "{err}"
    );
    let (_, v) = call(&s.client(), None, "search", &[("q", "wombat")]);
    assert_eq!(v["items"]["total"], "0", "all or nothing");
    let taken = "id,title,author_username,width,height\n1,Taken,anna.berg,5,5\n91000,Free,anna.berg,5,5\n2,Taken too,anna.berg,5,5\n";
    let out = import(&s, "taken.csv", taken);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 2: id 1 already exists") && err.contains("line 4: id 2"),
        "{err}"
    );
    let good = "{\"title\":\"Good wombat\",\"author_username\":\"anna.berg\",\"width\":10,\"height\":10}\n";
    assert!(import(&s, "good.jsonl", good).status.success());
    let (_, v) = call(&s.client(), None, "search", &[("q", "wombat")]);
    assert_eq!(v["items"]["total"], "1");
}

/// A PUT with signed credentials in the query.
pub(crate) fn put(
    s: &Server,
    token: &UserToken,
    method: &str,
    content_type: &str,
    body: &str,
    extra: &[(&str, &str)],
) -> (u16, String) {
    let mut form = sign_user_params(&s.demo.clone().unwrap(), token, now_unix(), &random_nonce());
    form.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let query = serde_urlencoded::to_string(&form).unwrap();
    let r = ureq::put(&format!("{}/{method}?{query}", s.base))
        .set("User-Agent", "test")
        .set("Content-Type", content_type)
        .send_string(body);
    match r {
        Ok(r) => (r.status(), r.into_string().unwrap()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap()),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn set_user_media_metadata_takes_xml_or_json_bodies_by_put() {
    let s = Server::start_tls_with("");
    let (_, token) = demo_signed_in(&s);
    let xml = "<?xml version=\"1.0\"?><media id_media=\"306\"><title>Fox &amp; friends</title>\
               <keywords><keyword>fox</keyword><keyword>friends</keyword></keywords>\
               <description><![CDATA[Now <complete>]]></description></media>";
    let (st, body) = put(
        &s,
        &token,
        "set-user-media-metadata",
        "application/xml",
        xml,
        &[],
    );
    assert_eq!(st, 200, "{body}");
    assert!(body.contains("<title>Fox &amp; friends</title>"), "{body}");
    assert!(body.contains("<keywords>fox, friends</keywords>"));
    assert!(
        body.contains("state=\"yellow\""),
        "complete metadata goes to review: {body}"
    );
    let json = r#"{"id_media": 306, "editorial": true, "keywords": ["a", "b"]}"#;
    let (st, body) = put(
        &s,
        &token,
        "set-user-media-metadata",
        "application/json",
        json,
        &[("content_type", "application/json")],
    );
    assert_eq!(st, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["metadata"]["editorial"], "yes");
    assert_eq!(
        v["metadata"]["title"], "Fox & friends",
        "untouched fields stay"
    );
    for bad in [
        "<media id_media=\"306\"><colour/></media>",
        "<media id_media=\"306\"><title>x",
        "{\"id_media\": 306, \"title\": [1]}",
        "<!DOCTYPE x><media/>",
    ] {
        let (st, body) = put(&s, &token, "set-user-media-metadata", "text/xml", bad, &[]);
        assert_eq!(st, 422, "{bad}: {body}");
    }
    let (st, _) = put(
        &s,
        &token,
        "set-user-media-metadata",
        "application/xml",
        "<media><title>x</title></media>",
        &[],
    );
    assert_eq!(st, 400, "id_media is needed");
    let (st, body) = put(&s, &token, "search", "application/xml", "<x/>", &[]);
    assert_eq!(st, 501, "{body}");
}

#[test]
fn previews_come_as_bytes_or_base64_and_files_are_served() {
    let s = Server::start();
    let c = s.client();
    let r = c
        .call(
            None,
            "download-image-preview",
            &[
                ("id_media", "2"),
                ("content_type", "application/octet-stream"),
            ],
        )
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("image/jpeg"));
    let (st, v) = call(&c, None, "download-image-preview", &[("id_media", "2")]);
    assert_eq!(st, 200);
    assert_eq!(v["media"]["mimetype"], "image/jpeg");
    assert!(
        v["media"]["base64"].as_str().unwrap().starts_with("/9j/"),
        "a JPEG"
    );
    let r = c
        .call(
            None,
            "download-image-preview",
            &[
                ("id_media", "999999"),
                ("content_type", "application/octet-stream, application/json"),
            ],
        )
        .unwrap();
    assert_eq!(
        (r.status, r.header("content-type")),
        (404, Some("application/json")),
        "errors fall back"
    );
    let (_, v) = call(
        &c,
        None,
        "get-media-info",
        &[("id_media", "2,3"), ("show_articles", "yes")],
    );
    assert_eq!(list(&v["media"]).len(), 2);
    let thumb = v["media"][0]["thumb_170_url"].as_str().unwrap();
    let page = get(&s.addr, thumb.strip_prefix(&s.base).unwrap());
    assert_eq!(
        (page.status, page.header("content-type")),
        (200, Some("image/jpeg"))
    );
    let sizes = list(&v["articles"][0]["singlebuy_list"]["singlebuy"]["sizes"]["article"]);
    assert!(
        sizes.len() >= 3
            && sizes
                .iter()
                .all(|a| a["price"].is_string() && a["width"].is_string())
    );
    assert_eq!(
        get(&s.addr, "/media/preview/304.jpg").status,
        404,
        "not public"
    );
    assert_eq!(get(&s.addr, "/media/preview/abc.jpg").status, 404);
    assert_eq!(get(&s.addr, "/media/nope/1.jpg").status, 404);
    let (st, v) = call(
        &c,
        None,
        "search-similar",
        &[("id_media", "2"), ("extra_info", "keywords")],
    );
    assert_eq!(st, 200);
    assert!(!ids(&v["items"]).contains(&"2".to_string()));
    let (_, v) = call(&c, None, "get-search-filter", &[]);
    let names: Vec<String> = list(&v["filters"]["filter"])
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect();
    assert!(
        names.iter().any(|n| n == "orientation") && names.iter().any(|n| n == "color"),
        "{names:?}"
    );
}
