//! PostgreSQL performance (issue 15): what the load figures in
//! docs/performance.md rest on, checked as behaviour. Runs when
//! `PANTHERA_TEST_DATABASE_URL` names a database server (`scripts/test`);
//! passes vacuously otherwise.

use std::path::Path;

use crate::helpers::{get, psql, Server};
use crate::pg_backend::Database;
use crate::scale_out::PrivateCluster;

/// The pings (`SELECT 1`) the cluster of `dir` logged so far.
fn pings_logged(dir: &str) -> usize {
    std::fs::read_to_string(Path::new(dir).join("server.log"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.ends_with("statement: SELECT 1"))
        .count()
}

#[test]
fn health_on_postgresql_shares_one_ping_between_many_calls() {
    // only where PostgreSQL is tested at all (scripts/test)
    if Database::create().is_none() {
        return;
    }
    let pg = PrivateCluster::start();
    // every statement into the cluster's log, so the pings can be counted
    psql(&pg.url, "ALTER SYSTEM SET log_statement = 'all'");
    psql(&pg.url, "SELECT pg_reload_conf()");
    let s = Server::start_with(&format!(
        "[store]\nbackend = \"postgres\"\nurl = \"{}\"\n",
        pg.url
    ));
    let before = pings_logged(&pg.dir);
    let calls = 60;
    for _ in 0..calls {
        let r = get(&s.addr, "/health");
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let pings = pings_logged(&pg.dir) - before;
    // one ping per call before; now one per second of calls (these take
    // well under a second each)
    assert!(pings >= 1, "the first call pings the database");
    assert!(
        pings <= calls / 4,
        "{pings} pings for {calls} calls to /health: not shared"
    );
}
