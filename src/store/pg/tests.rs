//! What only the PostgreSQL backend has to show: several instances on one
//! database, calls from inside an async runtime, migrations racing, search
//! details. Each test runs when `PANTHERA_TEST_DATABASE_URL` is set (as
//! `scripts/test` does) and passes vacuously otherwise.

use std::sync::Arc;

use crate::clock::ManualClock;
use crate::crypto::{Cipher, MasterKey};
use crate::store::contract_tests::{fresh_schema, postgres_store, test_database_url};
use crate::store::keys::Role;
use crate::store::media::{NewMedia, PollType, Search};
use crate::store::nonces::NonceWriter;
use crate::store::search::{Filters, Query, Sort, Word};
use crate::store::{Store, StoreError};

/// A fresh schema and its owning store, with the master key in a folder of
/// its own (other stores on the schema share it).
fn fresh() -> Option<(tempfile::TempDir, String, Store)> {
    if test_database_url().is_none() {
        eprintln!("PANTHERA_TEST_DATABASE_URL is not set: PostgreSQL not tested");
        return None;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let schema = fresh_schema();
    let store = postgres_store(dir.path(), &schema, true);
    Some((dir, schema, store))
}

fn raw(store: &Store, sql: &'static str) -> Result<(), StoreError> {
    store
        .postgres()
        .expect("a PostgreSQL store")
        .run(move |c| async move { c.batch_execute(sql).await.map_err(super::pg_err) })
}

#[test]
fn calls_from_inside_an_async_runtime_do_not_panic() {
    let Some((_dir, _schema, store)) = fresh() else {
        return;
    };
    // actix's HTTP workers are current-thread runtimes; some reads (the key
    // lookup, /health) run right on them
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let key = rt.block_on(async {
        store.ping().unwrap();
        store.keys().create("app", Role::App, None).unwrap()
    });
    let multi = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let found = multi.block_on(async { store.keys().find(&key.api_key, 0).unwrap() });
    assert_eq!(found.unwrap().secret.expose(), key.secret.expose());
}

#[test]
fn a_schema_written_by_a_newer_build_is_refused() {
    let Some((dir, schema, store)) = fresh() else {
        return;
    };
    raw(
        &store,
        "INSERT INTO panthera_schema (version) VALUES (9999)",
    )
    .unwrap();
    let options = super::PgOptions {
        url: test_database_url().unwrap(),
        pool_size: 2,
        statement_timeout_ms: 0,
        schema: Some(schema),
        drop_schema: false,
    };
    let source = crate::crypto::KeySource::new(dir.path(), std::path::Path::new(""));
    match Store::open_postgres(&options, source) {
        Err(StoreError::TooNew(_, 9999, n)) => {
            assert_eq!(n, super::migrations::MIGRATIONS.len())
        }
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(_) => panic!("a newer schema was opened"),
    }
}

#[test]
fn instances_starting_at_once_migrate_once() {
    if test_database_url().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    crate::crypto::write_key_file(&dir.path().join("master.key"), &MasterKey::generate()).unwrap();
    let schema = fresh_schema();
    let stores: Vec<Store> = std::thread::scope(|scope| {
        let hands: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| postgres_store(dir.path(), &schema, false)))
            .collect();
        hands.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let versions = stores[0]
        .postgres()
        .unwrap()
        .run(|c| async move {
            let row = c
                .query_one("SELECT count(*) FROM panthera_schema", &[])
                .await
                .map_err(super::pg_err)?;
            Ok(row.get::<_, i64>(0))
        })
        .unwrap();
    assert_eq!(versions, super::migrations::MIGRATIONS.len() as i64);
    drop(stores);
    // the owner drops the schema
    drop(postgres_store(dir.path(), &schema, true));
}

#[test]
fn a_claim_accepted_by_one_instance_is_a_replay_on_every_other() {
    let Some((dir, schema, a)) = fresh() else {
        return;
    };
    let b = postgres_store(dir.path(), &schema, false);
    let clock = ManualClock::new(1_000);
    let wa = NonceWriter::start(&a, clock.clone(), 300).unwrap();
    let wb = NonceWriter::start(&b, clock, 300).unwrap();
    let claim = wa.identify("key", 1_000, "n-1", "d");
    assert_eq!(claim, wb.identify("key", 1_000, "n-1", "d"), "one salt");
    assert!(wa.claim(claim).unwrap().fresh);
    assert!(!wb.claim(claim).unwrap().fresh, "replayed on the other");
    // racing: of many equal claims on both instances, exactly one wins
    let race = wa.identify("key", 1_000, "n-2", "d");
    let fresh = std::thread::scope(|scope| {
        let hands: Vec<_> = (0..16)
            .map(|i| {
                let w = if i % 2 == 0 { &wa } else { &wb };
                scope.spawn(move || w.claim(race).unwrap().fresh)
            })
            .collect();
        hands
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|f| *f)
            .count()
    });
    assert_eq!(fresh, 1);
    // another second is another claim
    assert!(
        wb.claim(wb.identify("key", 1_001, "n-1", "d"))
            .unwrap()
            .fresh
    );
    drop((wa, wb, b));
}

#[test]
fn the_epoch_moves_when_a_key_changes_anywhere_and_only_then() {
    let Some((dir, schema, a)) = fresh() else {
        return;
    };
    // a second instance on the same database
    let b = postgres_store(dir.path(), &schema, false);
    let w = NonceWriter::start(&a, ManualClock::new(50), 300).unwrap();
    let claim = |n: &str| w.claim(w.identify("k", 50, n, "")).unwrap().epoch;
    let first = claim("1");
    assert_eq!(claim("2"), first, "no key changed: cached keys stay valid");
    let k = b.keys().create("elsewhere", Role::App, None).unwrap();
    let after_create = claim("3");
    assert!(after_create > first, "a key made by another instance");
    assert_eq!(claim("4"), after_create);
    assert!(b.keys().revoke(&k.api_key).unwrap());
    assert!(
        claim("5") > after_create,
        "a key revoked by another instance"
    );
}

fn item(title: &str, keywords: &[&str], description: &str) -> NewMedia {
    NewMedia {
        title: title.into(),
        description: description.into(),
        keywords: keywords.iter().map(|k| (*k).to_string()).collect(),
        author_username: "pat".into(),
        author_realname: "Pat".into(),
        width: 4000,
        height: 3000,
        mime_type: "image/jpeg".into(),
        color: "blue".into(),
        state: "green".into(),
        filename: format!("{title}.jpg"),
        created_at: 1_000,
        ..NewMedia::default()
    }
}

fn search(s: &Store, q: &Query, sort: Sort) -> Vec<String> {
    let filters = Filters {
        sort,
        ..Filters::default()
    };
    s.media_items()
        .search(&Search {
            query: q,
            filters: &filters,
            offset: 0,
            limit: 10,
            exclude_id: None,
            any_word: false,
        })
        .unwrap()
        .1
        .into_iter()
        .map(|m| m.title)
        .collect()
}

fn word(text: &str) -> Query {
    Query {
        words: vec![Word {
            text: text.into(),
            prefix: false,
        }],
        ..Query::default()
    }
}

#[test]
fn search_ranks_title_before_keywords_before_description_and_folds_accents() {
    let Some((_dir, _schema, s)) = fresh() else {
        return;
    };
    s.media_items()
        .add_all(
            [
                item("plain", &["other"], "a harbour at night"),
                item("harbour", &["boats"], "boats"),
                item("boats", &["harbour"], "boats"),
                item("Café Zürich", &["coffee"], "a café"),
            ],
            || {},
        )
        .unwrap();
    assert_eq!(
        search(&s, &word("harbour"), Sort::Relevance),
        vec!["harbour", "boats", "plain"]
    );
    let unaccent = raw(&s, "SELECT public.unaccent('é')").is_ok();
    if unaccent {
        assert_eq!(
            search(&s, &word("zurich"), Sort::Relevance),
            vec!["Café Zürich"]
        );
        assert_eq!(
            search(&s, &word("CAFE"), Sort::Relevance),
            vec!["Café Zürich"]
        );
    } else {
        eprintln!("unaccent is not installed: accents not checked");
    }
    // a word that is nothing but punctuation matches nothing, without error
    let _ = search(&s, &word("it's"), Sort::Newest);
}

#[test]
fn contributor_items_move_through_upload_metadata_and_poll() {
    let Some((_dir, _schema, s)) = fresh() else {
        return;
    };
    let u = s
        .users()
        .create(&crate::store::users::NewUser {
            username: "cora",
            email: "cora@example.com",
            password: "pw",
            firstname: "Cora",
            ..Default::default()
        })
        .unwrap();
    let mut up = item("", &[], "");
    up.state = "black".into();
    up.filename = "one.jpg".into();
    let id = s.media_items().add_upload(&u, &up).unwrap().unwrap();
    assert_eq!(s.media_items().add_upload(&u, &up).unwrap(), Err(id));
    assert_eq!(s.media_items().count_owned(&u.id, &[]).unwrap(), 1);
    assert_eq!(s.media_items().count_owned(&u.id, &["green"]).unwrap(), 0);
    s.media_items()
        .update_metadata(
            id,
            &crate::store::media::MetadataUpdate {
                title: Some("river".into()),
                description: Some("a river".into()),
                keywords: Some(vec!["water".into()]),
                ..Default::default()
            },
            2_000,
        )
        .unwrap();
    let (total, owned) = s
        .media_items()
        .list_owned(&u.id, &["yellow"], true, 0, 10)
        .unwrap();
    assert_eq!((total, owned[0].title.as_str()), (1, "river"));
    assert_eq!(owned[0].owner_user_id.as_deref(), Some(u.id.as_str()));
    let (_, polled) = s.media_items().poll(PollType::New, 0, 0, 10).unwrap();
    assert!(polled.is_empty(), "not public yet");
    let next = s
        .media_items()
        .add_all([item("later", &["x"], "y")], || {})
        .unwrap();
    assert_eq!(next, 1);
    let (_, polled) = s.media_items().poll(PollType::New, 0, 0, 10).unwrap();
    assert_eq!(polled.len(), 1);
    assert!(polled[0].id > id, "the next id after the highest");
    assert!(s.media_items().taken(&[id, 999_999]).unwrap() == vec![id]);
}

#[test]
fn reseal_opens_every_secret_with_the_new_key() {
    let Some((_dir, _schema, s)) = fresh() else {
        return;
    };
    let k = s.keys().create("app", Role::App, None).unwrap();
    s.meta().secret(crate::store::meta::MEDIA_URL_KEY).unwrap();
    let new = Cipher::new(&MasterKey::generate());
    let (n, server) = s.reseal(&new).unwrap();
    assert_eq!((n, server), (1, 1));
    let sealed: String = {
        let api_key = k.api_key.clone();
        s.postgres()
            .unwrap()
            .run(move |c| async move {
                let r = c
                    .query_one(
                        "SELECT secret FROM api_keys WHERE api_key = $1",
                        &[&api_key],
                    )
                    .await
                    .map_err(super::pg_err)?;
                Ok(r.get(0))
            })
            .unwrap()
    };
    let aad = crate::store::keys::aad(&k.api_key);
    assert_eq!(new.open(&aad, &sealed).unwrap(), k.secret.expose());
    assert_eq!(
        s.meta()
            .get(crate::store::MASTER_KEY_ID)
            .unwrap()
            .as_deref(),
        Some(new.id())
    );
}

#[test]
fn a_panicking_transaction_leaves_nothing_and_the_pool_works_on() {
    let Some((_dir, _schema, s)) = fresh() else {
        return;
    };
    let s = Arc::new(s);
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _: Result<(), StoreError> = s.transaction(|tx| {
            tx.meta().set("half", "done")?;
            panic!("the caller fails half-way");
        });
    }));
    assert!(out.is_err());
    assert!(s.meta().get("half").unwrap().is_none());
    for i in 0..20 {
        s.meta().set("n", &i.to_string()).unwrap();
    }
}

#[test]
fn expired_claims_are_pruned_and_live_ones_kept() {
    let Some((_dir, _schema, s)) = fresh() else {
        return;
    };
    let w = NonceWriter::start(&s, ManualClock::new(1_000), 300).unwrap();
    for (ts, n) in [(900, "old"), (1_000, "new")] {
        assert!(w.claim(w.identify("k", ts, n, "")).unwrap().fresh);
    }
    let pg = s.postgres().unwrap();
    let gone = pg.run(|c| super::nonces::prune(c, 950, 10)).unwrap();
    assert_eq!(gone, 1);
    assert!(!w.claim(w.identify("k", 1_000, "new", "")).unwrap().fresh);
}

#[test]
fn a_fault_in_an_operation_answers_as_a_failure_and_the_store_goes_on() {
    let Some((_dir, _schema, s)) = fresh() else {
        return;
    };
    let pg = s.postgres().unwrap();
    let wrong = pg.run(|c| async move {
        let row = c
            .query_one("SELECT 'text'::text", &[])
            .await
            .map_err(super::pg_err)?;
        // read as the wrong type: tokio-postgres panics
        Ok(row.get::<_, i64>(0))
    });
    assert!(matches!(wrong, Err(StoreError::Failed(_))), "{wrong:?}");
    s.ping().unwrap();
}

#[test]
fn pipelined_batches_let_the_first_of_duplicates_win_and_answer_after_commit() {
    let Some((_dir, _schema, s)) = fresh() else {
        return;
    };
    let w = NonceWriter::start(&s, ManualClock::new(7), 300).unwrap();
    // every identity is claimed by two threads at once: batches in flight
    // together carry equal claims
    let won: usize = std::thread::scope(|scope| {
        let w = &w;
        let hands: Vec<_> = (0..16)
            .map(|t| {
                scope.spawn(move || {
                    (0..40)
                        .filter(|i| {
                            let c = w.identify("k", 7, &format!("n{}-{i}", t / 2), "");
                            w.claim(c).unwrap().fresh
                        })
                        .count()
                })
            })
            .collect();
        hands.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(won, 8 * 40, "each identity won once");
    // every answered claim is in the database
    let pg = s.postgres().unwrap();
    let rows = pg
        .run(|c| async move {
            c.query_one("SELECT COUNT(*) FROM replay_claims", &[])
                .await
                .map(|r| r.get::<_, i64>(0))
                .map_err(super::pg_err)
        })
        .unwrap();
    assert_eq!(rows, 8 * 40);
    assert_eq!(
        w.stats().claims.load(std::sync::atomic::Ordering::Relaxed),
        16 * 40
    );
}

#[test]
fn the_writer_prunes_expired_claims_beside_its_batches() {
    let Some((_dir, _schema, s)) = fresh() else {
        return;
    };
    let clock = ManualClock::new(1_000);
    let w = NonceWriter::start(&s, clock.clone(), 300).unwrap();
    // more than one prune chunk of claims that will expire
    let pg = s.postgres().unwrap();
    pg.run(|c| async move {
        c.batch_execute(
            "INSERT INTO replay_claims (ts, id) SELECT 900 + g % 50, g FROM generate_series(1, 12000) g",
        )
        .await
        .map_err(super::pg_err)
    })
    .unwrap();
    assert!(w.claim(w.identify("k", 1_000, "kept", "")).unwrap().fresh);
    clock.set(1_250); // everything before 1_250 - 302 = 948 goes
    let left = || {
        pg.run(|c| async move {
            c.query_one("SELECT COUNT(*) FROM replay_claims WHERE ts < 1000", &[])
                .await
                .map(|r| r.get::<_, i64>(0))
                .map_err(super::pg_err)
        })
        .unwrap()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    // 900..947 expire (48 of the 50 seconds), 948 and 949 stay
    while left() > 12_000 / 50 * 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "pruning did not finish"
        );
        // claims are answered meanwhile
        assert!(
            w.claim(w.identify("k", 1_250, &format!("{:?}", std::time::Instant::now()), ""))
                .unwrap()
                .fresh
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(left(), 12_000 / 50 * 2);
    assert!(!w.claim(w.identify("k", 1_000, "kept", "")).unwrap().fresh);
}
