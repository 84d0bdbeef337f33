//! The contract of the storage seam: the same cases, run against every
//! backend there is. A backend is done when it passes all of them; the API
//! suite then checks the service on top of it. Cases name only groups and
//! transactions, never SQL, so they read the same for every backend.

use super::keys::{ReplayPolicy, Role, Rotation};
use super::media::{NewMedia, PollType, Search};
use super::nonces::NonceWriter;
use super::orders::{CallbackOutcome, NewOrder, Status};
use super::search::{Filters, Query, Word};
use super::tokens::{Token, TokenState};
use super::users::{Changes, NewUser, UserRow};
use super::{Store, StoreError};
use crate::clock::ManualClock;

/// One fresh, empty store per backend, with its name: SQLite always,
/// PostgreSQL when `PANTHERA_TEST_DATABASE_URL` names a database (each
/// store in a schema of its own, dropped with it; `scripts/test` starts a
/// throwaway cluster).
fn backends() -> Vec<(&'static str, tempfile::TempDir, Store)> {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open_in(dir.path()).expect("open the SQLite store");
    let mut all = vec![("sqlite", dir, store)];
    if let Some((dir, store)) = postgres() {
        all.push(("postgres", dir, store));
    }
    all
}

/// The test database, if there is one.
pub(crate) fn test_database_url() -> Option<String> {
    std::env::var("PANTHERA_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// A fresh schema of the test database, made for one case.
pub(crate) fn fresh_schema() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "t_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        rand::random::<u32>()
    )
}

/// A PostgreSQL store on `schema` of the test database, its master key in
/// `dir`; the schema is dropped with the store when `owner`.
pub(crate) fn postgres_store(dir: &std::path::Path, schema: &str, owner: bool) -> Store {
    let url = test_database_url().expect("PANTHERA_TEST_DATABASE_URL");
    let options = super::pg::PgOptions {
        url,
        pool_size: 8,
        statement_timeout_ms: 30_000,
        schema: Some(schema.to_string()),
        drop_schema: owner,
    };
    let source = crate::crypto::KeySource::new(dir, std::path::Path::new(""));
    Store::open_postgres(&options, source).expect("open the PostgreSQL store")
}

fn postgres() -> Option<(tempfile::TempDir, Store)> {
    test_database_url()?;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = postgres_store(dir.path(), &fresh_schema(), true);
    Some((dir, store))
}

/// Two stores on one fresh PostgreSQL schema, as two instances have them.
fn two_instances() -> Option<(tempfile::TempDir, Store, Store)> {
    let Some((dir, a)) = postgres() else {
        eprintln!("PANTHERA_TEST_DATABASE_URL is not set: PostgreSQL not tested");
        return None;
    };
    let schema = a.postgres().expect("pg").schema().expect("schema");
    let b = postgres_store(dir.path(), &schema, false);
    Some((dir, a, b))
}

/// Two instances' order workers racing for one due callback: one takes it.
#[test]
fn a_due_callback_is_taken_by_one_of_two_instances() {
    let Some((_dir, a, b)) = two_instances() else {
        return;
    };
    a.media_items()
        .add_all([item("bridge", &["river"], "green")], || {})
        .unwrap();
    let media_id = find_ids(&a, "bridge").1[0];
    let u = user(&a, "cleo");
    a.orders()
        .insert(&NewOrder {
            user_id: &u.id,
            media_id,
            articles: "1",
            width: 800,
            height: 600,
            price: 5,
            currency: "credits",
            queue_hash: "qh-race",
            callback_url: Some("https://app.example/cb"),
            now: 10,
        })
        .unwrap();
    a.orders().advance(11).unwrap();
    a.orders().advance(12).unwrap();
    for round in 0..20 {
        let now = 100 + round * 1_000;
        let taken: usize = std::thread::scope(|scope| {
            let hands: Vec<_> = [&a, &b]
                .into_iter()
                .map(|s| scope.spawn(move || s.orders().claim_due_callbacks(now, now + 500, 10)))
                .collect();
            hands
                .into_iter()
                .map(|h| h.join().unwrap().unwrap().len())
                .sum()
        });
        assert_eq!(taken, 1, "round {round}: one worker takes the callback");
    }
}

#[test]
fn two_stores_on_one_database_see_each_others_writes() {
    let Some((_dir, a, b)) = two_instances() else {
        return;
    };
    a.meta().set("written_by", "a").unwrap();
    assert_eq!(b.meta().get("written_by").unwrap().as_deref(), Some("a"));
    let k = b.keys().create("app", Role::App, None).unwrap();
    let seen = a
        .keys()
        .find(&k.api_key, 0)
        .unwrap()
        .expect("the key b made");
    assert_eq!(seen.secret.expose(), k.secret.expose());
    assert_eq!(
        a.meta().secret(super::meta::MEDIA_URL_KEY).unwrap(),
        b.meta().secret(super::meta::MEDIA_URL_KEY).unwrap(),
        "one server secret for every instance"
    );
    drop(b);
}

/// Runs `case` against every backend, naming the backend on failure.
fn each(case: impl Fn(&Store)) {
    for (name, _dir, store) in backends() {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| case(&store)));
        if let Err(e) = outcome {
            eprintln!("backend {name} fails this case");
            std::panic::resume_unwind(e);
        }
    }
}

fn user(store: &Store, name: &str) -> super::users::User {
    store
        .users()
        .create(&NewUser {
            username: name,
            email: &format!("{name}@example.com"),
            password: "a password",
            status: "active",
            ..NewUser::default()
        })
        .expect("create user")
}

fn row<'a>(username: &'a str, email: &'a str) -> UserRow<'a> {
    UserRow {
        username,
        email,
        password_hash: "x",
        firstname: "",
        surname: "",
        company: "",
        status: "active",
    }
}

#[test]
fn keys_are_found_with_their_secret_until_revoked() {
    each(|s| {
        let k = s.keys().create("app", Role::App, None).unwrap();
        let found = s.keys().find(&k.api_key, 0).unwrap().unwrap();
        assert_eq!(found.secret.expose(), k.secret.expose());
        assert_eq!(found.role, Role::App);
        assert!(s.keys().find("no-such-key", 0).unwrap().is_none());
        assert!(s.keys().revoke(&k.api_key).unwrap());
        assert!(!s.keys().revoke(&k.api_key).unwrap(), "revoked once");
        assert!(s
            .keys()
            .find(&k.api_key, 0)
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some());
    });
}

#[test]
fn a_rotated_key_accepts_both_secrets_until_the_old_one_is_retired() {
    each(|s| {
        let k = s.keys().create("app", Role::App, None).unwrap();
        let Rotation::Rotated { secret, until } = s.keys().rotate(&k.api_key, 100, 60).unwrap()
        else {
            panic!("not rotated")
        };
        assert_eq!(until, Some(160));
        let found = s.keys().find(&k.api_key, 120).unwrap().unwrap();
        assert_eq!(found.secret.expose(), secret.expose());
        assert_eq!(
            found.old_secret.as_ref().map(|o| o.expose().to_string()),
            Some(k.secret.expose().to_string())
        );
        assert!(matches!(
            s.keys().rotate(&k.api_key, 120, 60).unwrap(),
            Rotation::InProgress { .. }
        ));
        assert!(s.keys().retire_secret(&k.api_key).unwrap());
        assert!(!s.keys().retire_secret(&k.api_key).unwrap());
        assert!(matches!(
            s.keys().rotate("nope", 0, 0).unwrap(),
            Rotation::NoSuchKey
        ));
        assert!(s
            .keys()
            .set_options(&k.api_key, Some(true), Some(ReplayPolicy::Lenient))
            .unwrap());
        let k2 = s.keys().find(&k.api_key, 0).unwrap().unwrap();
        assert!(k2.debug);
        assert_eq!(k2.replay, ReplayPolicy::Lenient);
    });
}

#[test]
fn a_taken_username_or_email_is_a_conflict_naming_the_field() {
    each(|s| {
        let a = s
            .users()
            .insert(&row("anna", "Anna@example.com"), 10)
            .unwrap();
        assert_eq!(s.users().find(&a.id).unwrap().as_ref(), Some(&a));
        assert_eq!(
            s.users()
                .taken_field(None, Some("anna@EXAMPLE.com"), "")
                .unwrap(),
            Some("email")
        );
        assert_eq!(
            s.users().taken_field(Some("anna"), None, &a.id).unwrap(),
            None
        );
        let dup = s.users().insert(&row("anna", "other@example.com"), 10);
        assert!(matches!(dup, Err(StoreError::Conflict(f)) if f == "username"));
        let dup = s.users().insert(&row("other", "ANNA@example.com"), 10);
        assert!(matches!(dup, Err(StoreError::Conflict(f)) if f == "email"));
        let b = s
            .users()
            .insert(&row("bert", "bert@example.com"), 11)
            .unwrap();
        let rename = Changes {
            username: Some("anna"),
            ..Changes::default()
        };
        let clash = s.users().update(&b.id, &rename, 12);
        assert!(matches!(clash, Err(StoreError::Conflict(f)) if f == "username"));
        assert_eq!(s.users().count(None).unwrap(), 2);
        let page = s.users().list(None, 1, 1).unwrap();
        assert_eq!(page[0].id, b.id, "oldest first");
        assert!(s.users().delete(&a.id).unwrap());
        assert!(s.users().find_by_id_or_username("anna").unwrap().is_none());
        assert!(s.users().find_by_id_or_username("bert").unwrap().is_some());
    });
}

#[test]
fn a_failed_transaction_leaves_nothing_behind() {
    each(|s| {
        let out: Result<(), StoreError> = s.transaction(|tx| {
            tx.users().insert(&row("gone", "gone@example.com"), 1)?;
            tx.meta().set("half", "done")?;
            Err(StoreError::Conflict("the caller changed its mind".into()))
        });
        assert!(out.is_err());
        assert!(s.users().find_by_username("gone").unwrap().is_none());
        assert!(s.meta().get("half").unwrap().is_none());
        s.transaction(|tx| {
            tx.meta().set("whole", "yes")?;
            tx.audit().record(&super::audit::Record {
                at: 5,
                actor: "cli",
                action: "test",
                user_id: "usr_1",
                changes: &["email"],
                request_id: "",
            })
        })
        .unwrap();
        assert_eq!(s.meta().get("whole").unwrap().as_deref(), Some("yes"));
        let rows = s.audit().list(10).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].changes, vec!["email"]);
    });
}

#[test]
fn sessions_name_their_user_until_they_end() {
    each(|s| {
        let u = user(s, "sam");
        let id = s.sessions().create(&u.id, 100, 200).unwrap();
        assert_eq!(s.sessions().user_of(&id, 150).unwrap(), Some(u.id.clone()));
        assert_eq!(s.sessions().user_of(&id, 201).unwrap(), None, "expired");
        let other = s.sessions().create(&u.id, 100, 200).unwrap();
        s.sessions().delete(&id).unwrap();
        assert_eq!(s.sessions().user_of(&id, 150).unwrap(), None);
        assert_eq!(s.sessions().count_for_user(&u.id).unwrap(), 1);
        assert_eq!(s.sessions().delete_for_user(&u.id).unwrap(), 1);
        assert_eq!(s.sessions().user_of(&other, 150).unwrap(), None);
    });
}

#[test]
fn a_token_is_decided_once_and_its_secret_opens() {
    each(|s| {
        let k = s.keys().create("app", Role::App, None).unwrap();
        let u = user(s, "tia");
        let t = Token {
            token: super::tokens::new_id(),
            api_key: k.api_key.clone(),
            user_id: None,
            app_name: "App".into(),
            app_logo: String::new(),
            app_callback: String::new(),
            lang: "en".into(),
            state: TokenState::Pending,
            created_at: 100,
            decided_at: None,
            valid_until: 700,
            last_used_at: None,
        };
        s.tokens().request(&t, "token secret", true).unwrap();
        assert!(s.tokens().ftp_access(&t.token).unwrap());
        let (found, sealed) = s.tokens().find_with_secret(&t.token).unwrap().unwrap();
        assert_eq!(found.state, TokenState::Pending);
        let opened = super::tokens::open_secret(s.keyring(), &t.token, &sealed).unwrap();
        assert_eq!(opened, b"token secret");
        let decide = |now| {
            s.tokens()
                .decide(&t.token, TokenState::Authorized, Some(&u.id), now, 9_999)
                .unwrap()
        };
        assert!(decide(200));
        assert!(!decide(201), "decided once");
        assert_eq!(s.tokens().authorized_for_user(&u.id, 300).unwrap().len(), 1);
        assert!(s.tokens().set_valid_until(&t.token, 5_000).unwrap());
        assert!(!s.tokens().revoke(&t.token, "someone else", 300).unwrap());
        assert!(s.tokens().revoke(&t.token, &u.id, 300).unwrap());
        assert!(s
            .tokens()
            .authorized_for_user(&u.id, 300)
            .unwrap()
            .is_empty());
    });
}

#[test]
fn an_idempotency_key_is_claimed_once_and_answers_its_outcome() {
    each(|s| {
        let req = super::idempotency::Request {
            scope: "key user:1",
            key: "order-1",
            method: "create-user",
            fingerprint: "f1",
            secret_hash: None,
        };
        let records = s.idempotency();
        assert!(records.claim(&req, "owner-a", 100, 200).unwrap().is_none());
        let held = records.claim(&req, "owner-b", 101, 201).unwrap().unwrap();
        assert_eq!(held.owner, "owner-a");
        assert!(held.outcome.is_none(), "still running");
        assert!(records
            .take_over("key user:1", "order-1", "owner-a", "owner-b", 170)
            .unwrap());
        assert!(
            !records
                .complete("key user:1", "order-1", "owner-a", 200, "{}")
                .unwrap(),
            "taken over"
        );
        assert!(records
            .complete("key user:1", "order-1", "owner-b", 200, "{}")
            .unwrap());
        let done = records.claim(&req, "owner-c", 150, 250).unwrap().unwrap();
        assert_eq!(done.outcome, Some((200, "{}".to_string())));
        // expired: claimable again
        assert!(records.claim(&req, "owner-d", 300, 400).unwrap().is_none());
        assert!(records.release("key user:1", "order-1", "owner-d").unwrap());
        assert_eq!(records.prune(1_000).unwrap(), 0);
    });
}

#[test]
fn a_deposit_is_charged_once_under_concurrency_and_never_below_zero() {
    each(|s| {
        let u = user(s, "cara");
        s.balances().credit(&u.id, 10, 1).unwrap();
        let charged = std::thread::scope(|scope| {
            let hands: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| s.balances().charge(&u.id, 3, 2).unwrap()))
                .collect();
            hands
                .into_iter()
                .map(|h| h.join().unwrap())
                .filter(|ok| *ok)
                .count()
        });
        assert_eq!(charged, 3, "10 credits pay for three charges of 3");
        let d = s.balances().get(&u.id).unwrap();
        assert_eq!((d.credits, d.total), (1, 10));
        assert!(s.balances().charge(&u.id, 0, 3).unwrap(), "free is free");
    });
}

fn item(title: &str, keywords: &[&str], state: &str) -> NewMedia {
    NewMedia {
        title: title.into(),
        description: format!("about {title}"),
        keywords: keywords.iter().map(|k| (*k).to_string()).collect(),
        author_username: "pat".into(),
        author_realname: "Pat Photographer".into(),
        width: 4000,
        height: 3000,
        mime_type: "image/jpeg".into(),
        color: "blue".into(),
        state: state.into(),
        filename: format!("{title}.jpg"),
        created_at: 1_000,
        ..NewMedia::default()
    }
}

fn words(list: &[&str]) -> Query {
    Query {
        words: list
            .iter()
            .map(|w| Word {
                text: (*w).into(),
                prefix: false,
            })
            .collect(),
        ..Query::default()
    }
}

#[test]
fn the_catalogue_searches_public_items_only() {
    each(|s| {
        let n = s
            .media_items()
            .add_all(
                [
                    item("beach sunset", &["sea", "sun"], "green"),
                    item("mountain lake", &["water", "sun"], "green"),
                    item("hidden draft", &["sun"], "yellow"),
                ],
                || {},
            )
            .unwrap();
        assert_eq!(n, 3);
        let filters = Filters::default();
        let find = |q: &Query| {
            let (total, items) = s
                .media_items()
                .search(&Search {
                    query: q,
                    filters: &filters,
                    offset: 0,
                    limit: 10,
                    exclude_id: None,
                    any_word: false,
                })
                .unwrap();
            let mut titles: Vec<String> = items.into_iter().map(|m| m.title).collect();
            titles.sort();
            (total, titles)
        };
        assert_eq!(
            find(&words(&["sun"])),
            (
                2,
                vec!["beach sunset".to_string(), "mountain lake".to_string()]
            )
        );
        assert_eq!(find(&words(&["sun", "sea"])).1, vec!["beach sunset"]);
        let prefix = Query {
            words: vec![Word {
                text: "mount".into(),
                prefix: true,
            }],
            ..Query::default()
        };
        assert_eq!(find(&prefix).1, vec!["mountain lake"]);
        let excluded = Query {
            excluded: words(&["sea"]).words,
            ..words(&["sun"])
        };
        assert_eq!(find(&excluded).1, vec!["mountain lake"]);
        // a deleted item leaves the search and shows in the poll
        let (_, hits) = find_ids(s, "beach");
        assert!(s.media_items().delete(hits[0], 2_000).unwrap());
        assert_eq!(find(&words(&["sun"])).0, 1);
        let (total, polled) = s
            .media_items()
            .poll(PollType::Deleted, 1_500, 0, 10)
            .unwrap();
        assert_eq!((total, polled[0].id), (1, hits[0]));
    });
}

fn find_ids(s: &Store, word: &str) -> (i64, Vec<i64>) {
    let q = words(&[word]);
    let (total, items) = s
        .media_items()
        .search(&Search {
            query: &q,
            filters: &Filters::default(),
            offset: 0,
            limit: 10,
            exclude_id: None,
            any_word: false,
        })
        .unwrap();
    (total, items.into_iter().map(|m| m.id).collect())
}

#[test]
fn an_order_moves_through_its_states_and_its_callback_is_recorded() {
    each(|s| {
        s.media_items()
            .add_all([item("tower", &["city"], "green")], || {})
            .unwrap();
        let media_id = find_ids(s, "tower").1[0];
        let u = user(s, "olga");
        let articles = s.orders().articles().unwrap();
        assert!(!articles.is_empty(), "the migrations seed the articles");
        let order = s
            .orders()
            .insert(&NewOrder {
                user_id: &u.id,
                media_id,
                articles: "1",
                width: 800,
                height: 600,
                price: 5,
                currency: "credits",
                queue_hash: "qh-1",
                callback_url: Some("https://app.example/cb"),
                now: 10,
            })
            .unwrap();
        assert_eq!(order.status, Status::Queued);
        assert!(s
            .orders()
            .by_id(order.id, "someone else")
            .unwrap()
            .is_none());
        assert_eq!(
            s.orders()
                .by_queue_hash("qh-1", &u.id)
                .unwrap()
                .map(|o| o.id),
            Some(order.id)
        );
        assert_eq!(s.orders().advance(11).unwrap(), 1, "queued -> processing");
        assert_eq!(s.orders().advance(12).unwrap(), 1, "processing -> ready");
        assert_eq!(
            s.orders().by_id_any(order.id).unwrap().unwrap().status,
            Status::Ready
        );
        let due = s.orders().claim_due_callbacks(12, 60, 10).unwrap();
        assert_eq!(due.len(), 1);
        assert!(
            s.orders()
                .claim_due_callbacks(13, 61, 10)
                .unwrap()
                .is_empty(),
            "taken by the first worker until its lease ends"
        );
        let again = s.orders().claim_due_callbacks(60, 120, 10).unwrap();
        assert_eq!(again.len(), 1, "a worker that never reported: sent again");
        s.orders()
            .callback_attempted(order.id, CallbackOutcome::Delivered)
            .unwrap();
        assert!(s
            .orders()
            .claim_due_callbacks(1_000, 1_060, 10)
            .unwrap()
            .is_empty());
        let (total, page) = s.orders().list(&u.id, None, 0, 10).unwrap();
        assert_eq!((total, page.len()), (1, 1));
    });
}

#[test]
fn a_server_secret_is_made_once_and_kept() {
    each(|s| {
        let a = s.meta().secret(super::meta::MEDIA_URL_KEY).unwrap();
        let b = s.meta().secret(super::meta::MEDIA_URL_KEY).unwrap();
        assert_eq!(a.len(), 32);
        assert_eq!(a, b);
    });
}

#[test]
fn a_request_nonce_is_accepted_once() {
    each(|s| {
        let clock = ManualClock::new(1_000);
        let writer = NonceWriter::start(s, clock, 300).unwrap();
        let claim = || writer.identify("key", 1_000, "nonce-1", "digest");
        assert!(writer.claim(claim()).unwrap().fresh);
        assert!(!writer.claim(claim()).unwrap().fresh, "a replay");
        let other = writer.identify("key", 1_000, "nonce-2", "digest");
        assert!(writer.claim(other).unwrap().fresh);
    });
}

/// `n` varied items, the same on every call (a fixed pseudo-random walk).
fn catalogue(n: usize) -> Vec<NewMedia> {
    const WORDS: &[&str] = &[
        "mountain", "lake", "beach", "sun", "city", "tower", "forest", "river", "snow", "night",
        "people", "market", "boat", "bridge", "café", "garden",
    ];
    const COLORS: &[&str] = &["blue", "green", "red", "white", "black", "yellow"];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |m: u64| {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (x >> 33) % m
    };
    (0..n)
        .map(|i| {
            let mut pick = |k: usize| -> Vec<&str> {
                (0..k)
                    .map(|_| WORDS[next(WORDS.len() as u64) as usize])
                    .collect()
            };
            let title = pick(2).join(" ");
            let keywords = pick(3);
            let description = pick(4).join(" ");
            let people = next(4) as i64;
            NewMedia {
                title,
                description,
                keywords: keywords.iter().map(|k| (*k).to_string()).collect(),
                author_username: ["pat", "demo", "lee"][next(3) as usize].into(),
                author_realname: "Someone".into(),
                width: [4000, 3000, 2000, 6000][next(4) as usize],
                height: [3000, 4000, 2000, 2000][next(4) as usize],
                mime_type: "image/jpeg".into(),
                editorial: next(3) == 0,
                model_release: next(2) == 0,
                people_number: people,
                people_gender: if people == 0 {
                    String::new()
                } else {
                    ["m", "f", "mf"][next(3) as usize].into()
                },
                color: COLORS[next(COLORS.len() as u64) as usize].into(),
                state: if next(10) == 0 { "yellow" } else { "green" }.into(),
                filename: format!("item-{i}.jpg"),
                created_at: 1_000 + next(50) as i64,
                media_type: ["photo", "illustration", "vector"][next(3) as usize].into(),
                ..NewMedia::default()
            }
        })
        .collect()
}

/// What both backends must agree on for a search: the total, and the page
/// itself when the order is fully defined (anything but relevance, whose
/// ranking differs between FTS5's bm25 and PostgreSQL's ts_rank); for
/// relevance, the set of hits when all fit on one page.
#[test]
fn the_demo_catalogue_answers_every_search_alike_on_every_backend() {
    use super::search::{Color, People, Sort};
    let backends = backends();
    if backends.len() < 2 {
        return;
    }
    for (_, _, s) in &backends {
        s.media_items().add_all(catalogue(240), || {}).unwrap();
    }
    let word = |text: &str, prefix: bool| Word {
        text: text.into(),
        prefix,
    };
    let queries: Vec<(Query, bool)> = vec![
        (Query::default(), false),
        (words(&["mountain"]), false),
        (words(&["lake", "mountain"]), false),
        (words(&["lake", "mountain"]), true),
        (
            Query {
                words: vec![word("mount", true)],
                ..Query::default()
            },
            false,
        ),
        (
            Query {
                excluded: vec![word("mountain", false)],
                ..words(&["lake"])
            },
            false,
        ),
        (
            Query {
                excluded: vec![word("beach", false)],
                ..Query::default()
            },
            false,
        ),
        (
            Query {
                ids: vec![3, 7],
                ..words(&["beach"])
            },
            false,
        ),
        (
            Query {
                ids: vec![5, 9, 11],
                excluded_ids: vec![9],
                ..Query::default()
            },
            false,
        ),
    ];
    let filters: Vec<Filters> = vec![
        Filters::default(),
        Filters {
            sort: Sort::Newest,
            ..Filters::default()
        },
        Filters {
            sort: Sort::Oldest,
            orientation: vec!["vertical", "square"],
            ..Filters::default()
        },
        Filters {
            sort: Sort::Popular,
            license: vec!["editorial"],
            people: vec![People::AtLeast(1)],
            ..Filters::default()
        },
        Filters {
            sort: Sort::Newest,
            color: vec![Color::Named("blue"), Color::Rgb(0x2e8b57)],
            color_tolerance: 60,
            model_release: Some(true),
            ..Filters::default()
        },
        Filters {
            sort: Sort::Newest,
            license: vec!["commercial"],
            orientation: vec!["panorama", "horizontal"],
            people: vec![People::Exactly(0)],
            ..Filters::default()
        },
        Filters {
            sort: Sort::Oldest,
            types: vec!["photo"],
            gender: vec!["f"],
            authors: vec!["lee".into(), "demo".into()],
            ..Filters::default()
        },
    ];
    let mut checked = 0;
    for (q, any_word) in &queries {
        for f in &filters {
            let answers: Vec<(i64, Vec<i64>)> = backends
                .iter()
                .map(|(_, _, s)| {
                    let (total, items) = s
                        .media_items()
                        .search(&Search {
                            query: q,
                            filters: f,
                            offset: 0,
                            limit: 500,
                            exclude_id: Some(2),
                            any_word: *any_word,
                        })
                        .unwrap();
                    let mut ids: Vec<i64> = items.into_iter().map(|m| m.id).collect();
                    if f.sort == Sort::Relevance && !q.is_empty() {
                        ids.sort_unstable();
                    }
                    (total, ids)
                })
                .collect();
            for ((name, _, _), answer) in backends.iter().zip(&answers).skip(1) {
                assert_eq!(
                    answer, &answers[0],
                    "{name} differs from {} for {q:?} ({f:?})",
                    backends[0].0
                );
            }
            checked += usize::from(answers[0].0 > 0);
        }
    }
    assert!(checked > 10, "most searches find something ({checked})");
}

/// A check and the write it allows, in one transaction, never interleave
/// with another transaction's (SQLite's transactions take the write lock up
/// front; the PostgreSQL ones a lock of the same reach): of eight identical
/// purchases at once, one charges and orders, the others find its order.
#[test]
fn transactions_run_one_after_another() {
    each(|s| {
        s.media_items()
            .add_all([item("tower", &["city"], "green")], || {})
            .unwrap();
        let media_id = find_ids(s, "tower").1[0];
        let u = user(s, "pia");
        s.balances().credit(&u.id, 5, 1).unwrap();
        let buy = || {
            s.transaction(|tx| {
                if let Some(o) = tx.orders().held(&u.id, media_id, "1")? {
                    return Ok((o.id, false));
                }
                if !tx.balances().charge(&u.id, 5, 2)? {
                    return Err(StoreError::Conflict("the deposit is exhausted".into()));
                }
                let o = tx.orders().insert(&NewOrder {
                    user_id: &u.id,
                    media_id,
                    articles: "1",
                    width: 800,
                    height: 600,
                    price: 5,
                    currency: "credits",
                    queue_hash: "qh-once",
                    callback_url: None,
                    now: 2,
                })?;
                Ok((o.id, true))
            })
        };
        let outcomes: Vec<Result<(i64, bool), StoreError>> = std::thread::scope(|scope| {
            let hands: Vec<_> = (0..8).map(|_| scope.spawn(buy)).collect();
            hands.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let done: Vec<(i64, bool)> = outcomes
            .into_iter()
            .map(|o| o.expect("every purchase answers"))
            .collect();
        assert_eq!(done.iter().filter(|(_, charged)| *charged).count(), 1);
        assert!(done.iter().all(|(id, _)| *id == done[0].0), "one order");
        assert_eq!(s.balances().get(&u.id).unwrap().credits, 0);
    });
}

#[test]
fn rate_buckets_merge_every_instances_takes_and_show_what_changed() {
    use super::rate_buckets::Taken;
    let take = |id: &str, n: u64| Taken {
        id: id.into(),
        taken: n,
        burst: 10,
        per_second: 2.0,
    };
    each(|s| {
        let t0 = 1_000 * 86_400_000 + 5_000;
        let first = s
            .rate_buckets()
            .exchange(vec![take("a", 4), take("b", 1)], t0, 0);
        let first = first.unwrap();
        let a = first.changed.iter().find(|b| b.id == "a").expect("a");
        assert_eq!((a.tokens, a.last_ms, a.used_today), (6.0, t0, 4));
        assert_eq!(first.changed.len(), 2);
        // another instance, one second later: refilled by two, then charged
        let second = s
            .rate_buckets()
            .exchange(vec![take("a", 3)], t0 + 1_000, first.version);
        let second = second.unwrap();
        assert_eq!(
            second.changed.len(),
            1,
            "only what changed since: {second:?}"
        );
        assert_eq!(second.changed[0].tokens, 5.0);
        assert_eq!(second.changed[0].used_today, 7);
        assert!(second.version > first.version);
        // nothing taken, nothing changed: the version stays
        let idle = s
            .rate_buckets()
            .exchange(vec![], t0 + 2_000, second.version);
        let unchanged = super::rate_buckets::Exchanged {
            changed: vec![],
            version: second.version,
        };
        assert_eq!(idle.unwrap(), unchanged);
        // overdrawn by instances together, then a new day
        let over = s
            .rate_buckets()
            .exchange(vec![take("a", 9)], t0 + 1_000, 0)
            .unwrap();
        let a = over.changed.iter().find(|b| b.id == "a").expect("a");
        assert_eq!(a.tokens, -4.0);
        let tomorrow = t0 + 86_400_000;
        let next = s
            .rate_buckets()
            .exchange(vec![take("a", 1)], tomorrow, over.version)
            .unwrap();
        assert_eq!(
            (next.changed[0].tokens, next.changed[0].used_today),
            (9.0, 1)
        );
        // idle buckets go; the active one stays
        assert_eq!(s.rate_buckets().prune(tomorrow).unwrap(), 1, "b");
        let left = s.rate_buckets().exchange(vec![], tomorrow, 0).unwrap();
        assert_eq!(
            left.changed
                .iter()
                .map(|b| b.id.as_str())
                .collect::<Vec<_>>(),
            ["a"]
        );
    });
}

/// A transaction scoped to one user waits for the same user's and for
/// whole-store transactions only; other users' run beside it (PostgreSQL:
/// SQLite has one writer anyway).
#[test]
fn scoped_transactions_wait_only_for_their_scope_and_whole_store_ones() {
    use std::sync::mpsc::channel;
    use std::time::Duration;
    let Some((_dir, store)) = postgres() else {
        eprintln!("PANTHERA_TEST_DATABASE_URL is not set: PostgreSQL not tested");
        return;
    };
    // Holds `user:a` while `other` runs; true when `other` finished meanwhile.
    let beside = |other: &(dyn Fn(&Store) + Sync)| -> bool {
        let (held, holding) = channel();
        let (done, finished) = channel();
        std::thread::scope(|s| {
            let store = &store;
            let first = s.spawn(move || {
                store
                    .transaction_for("user:a", |_tx| {
                        held.send(()).unwrap();
                        Ok::<_, StoreError>(
                            finished.recv_timeout(Duration::from_millis(1_500)).is_ok(),
                        )
                    })
                    .unwrap()
            });
            holding.recv().unwrap();
            other(store);
            let _ = done.send(());
            first.join().unwrap()
        })
    };
    let other_user = |s: &Store| {
        s.transaction_for("user:b", |_tx| Ok::<_, StoreError>(()))
            .unwrap()
    };
    let same_user = |s: &Store| {
        s.transaction_for("user:a", |_tx| Ok::<_, StoreError>(()))
            .unwrap()
    };
    let whole_store = |s: &Store| s.transaction(|_tx| Ok::<_, StoreError>(())).unwrap();
    assert!(
        beside(&other_user),
        "another user's purchase runs beside it"
    );
    assert!(!beside(&same_user), "the same user's waits");
    assert!(!beside(&whole_store), "a whole-store transaction waits");
}
