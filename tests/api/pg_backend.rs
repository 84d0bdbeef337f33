//! Several instances on one PostgreSQL database (issue 15), over real HTTP:
//! the demo is seeded once, every instance knows the keys (made or revoked
//! by any, also by the command line), and a signed
//! request one instance accepted is a replay on every other, also when both
//! get it at once. Runs when `PANTHERA_TEST_DATABASE_URL` names a database
//! server (`scripts/test` starts a throwaway cluster); passes vacuously
//! otherwise.

use std::process::Command;

use panthera::client::{sign_params, Client};
use panthera::store::now_unix;

use crate::helpers::{create_database, psql, Server};

/// A database of its own on the test server, dropped at the end.
pub struct Database {
    admin: String,
    name: String,
    pub url: String,
}

impl Database {
    /// `None` (the test passes vacuously) without `PANTHERA_TEST_DATABASE_URL`.
    pub fn create() -> Option<Database> {
        let Some(admin) = std::env::var("PANTHERA_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        else {
            eprintln!("PANTHERA_TEST_DATABASE_URL is not set: PostgreSQL not tested");
            return None;
        };
        let (name, url) = create_database(&admin, "api");
        Some(Database { admin, name, url })
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        psql(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// An instance of the database `db`, its master key in `keys`.
fn config(db: &Database, keys: &std::path::Path) -> String {
    format!(
        "[store]\nbackend = \"postgres\"\nurl = \"{}\"\n[auth]\nmaster_key_file = \"{}\"\n",
        db.url,
        keys.join("master.key").display()
    )
}

/// The command line of instance `s`, with its configuration (the database)
/// and data directory.
fn cli(s: &Server, args: &[&str]) -> std::process::Output {
    Command::new(crate::helpers::BIN)
        .args(args)
        .arg("--config")
        .arg(s.config_path())
        .arg("--data-dir")
        .arg(&s.dir)
        .output()
        .expect("run panthera")
}

#[test]
fn two_instances_on_one_database_share_keys_and_refuse_each_others_replays() {
    let Some(db) = Database::create() else {
        return;
    };
    let keys = tempfile::tempdir().unwrap();
    let config = config(&db, keys.path());
    let a = Server::start_with(&config);
    let b = Server::start_with(&config);
    let creds = a.demo.clone().expect("the first instance seeds the demo");
    assert!(b.demo.is_none(), "the demo is seeded once");
    let on = |s: &Server| Client::new(&s.base, creds.clone());

    // b knows the key a's first start made
    let r = on(&b).call(None, "host-info", &[]).unwrap();
    assert_eq!(r.status, 200, "{}", r.body);

    // what a accepted, b refuses
    let form = sign_params(&creds, now_unix(), "one-nonce");
    let url = |s: &Server| format!("{}/host-info", s.base);
    assert_eq!(on(&a).post_form(&url(&a), &form).unwrap().status, 200);
    let r = on(&b).post_form(&url(&b), &form).unwrap();
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("replayed"), "{}", r.body);

    // the same request sent to both at once is answered once
    let form = sign_params(&creds, now_unix(), "raced-nonce");
    let accepted = std::thread::scope(|scope| {
        let hands: Vec<_> = (0..8)
            .map(|i| {
                let s = if i % 2 == 0 { &a } else { &b };
                let (form, url) = (&form, url(s));
                let client = on(s);
                scope.spawn(move || client.post_form(&url, form).unwrap().status)
            })
            .collect();
        hands
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|status| *status == 200)
            .count()
    });
    assert_eq!(accepted, 1);

    // a key made with the CLI of one instance works on the other, and once
    // rotated, re-policied or revoked there, the other (which has it cached)
    // follows at once
    let cli = |args: &[&str]| {
        let out = cli(&a, args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let made: serde_json::Value =
        serde_json::from_slice(&cli(&["keys", "create", "--name", "shared", "--json"])).unwrap();
    let key = panthera::client::Credentials {
        api_key: made["api_key"].as_str().unwrap().to_string(),
        api_secret: made["api_secret"].as_str().unwrap().to_string(),
        algo: creds.algo,
    };
    let on_b = Client::new(&b.base, key.clone());
    assert_eq!(on_b.call(None, "host-info", &[]).unwrap().status, 200);
    assert_eq!(on_b.call(None, "host-info", &[]).unwrap().status, 200);

    // rotated there: the new secret works here at once, the old one until
    // retired there
    let rotated: serde_json::Value =
        serde_json::from_slice(&cli(&["keys", "rotate", &key.api_key, "--json"])).unwrap();
    let new_key = panthera::client::Credentials {
        api_secret: rotated["api_secret"].as_str().unwrap().to_string(),
        ..key.clone()
    };
    let new_on_b = Client::new(&b.base, new_key.clone());
    assert_eq!(new_on_b.call(None, "host-info", &[]).unwrap().status, 200);
    assert_eq!(on_b.call(None, "host-info", &[]).unwrap().status, 200);
    cli(&["keys", "retire-secret", &key.api_key]);
    assert_eq!(on_b.call(None, "host-info", &[]).unwrap().status, 403);
    assert_eq!(new_on_b.call(None, "host-info", &[]).unwrap().status, 200);

    // re-policied there: debug on shows the signed string here at once
    cli(&["keys", "set", &key.api_key, "--debug", "on"]);
    let r = on_b.call(None, "host-info", &[]).unwrap();
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(
        r.body.contains(&format!("UTC{}", key.api_key)),
        "{}",
        r.body
    );

    cli(&["keys", "revoke", &key.api_key]);
    let r = new_on_b.call(None, "host-info", &[]).unwrap();
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("revoked"), "{}", r.body);

    // both answer /health from the shared database
    for s in [&a, &b] {
        let r = crate::helpers::get(&s.addr, "/health");
        assert_eq!(r.status, 200, "{}", r.body);
    }
}

/// `panthera check` on PostgreSQL: the schema, and every sealed secret
/// opening with the master key; a secret that does not open fails it.
#[test]
fn check_reports_the_schema_and_secrets_of_a_postgresql_store() {
    let Some(db) = Database::create() else {
        return;
    };
    let keys = tempfile::tempdir().unwrap();
    let config = config(&db, keys.path());
    let s = Server::start_with(&config);
    let out = cli(&s, &["check"]);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{report}");
    assert!(report.contains("schema: "), "{report}");
    assert!(report.contains("all opening with master key"), "{report}");
    psql(&db.url, "UPDATE api_keys SET secret = 'not sealed'");
    let out = cli(&s, &["check"]);
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{report}");
    assert!(report.contains("does not open"), "{report}");
}
