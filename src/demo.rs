//! The demo a newcomer gets at first start: a user, an api key, a media
//! catalogue to search and buy from, and credits to buy with; created once
//! per store.

use crate::store::keys::{self, Role};
use crate::store::{balances, meta, now_unix, users, Store};

/// The fixed id of the demo's second account ("alice"), which the account
/// methods' documentation samples read, change and delete.
pub const SAMPLE_USER_ID: &str = "usr_00000000000a11ce";
/// Items in the demo catalogue (ids 1 to this are public photographs; the
/// demo user's own contributions follow).
pub const DEMO_ITEMS: usize = 300;
/// Credits the demo user starts with.
pub const DEMO_CREDITS: i64 = 1000;

/// What the first start creates so a newcomer can call at once.
pub struct Demo {
    pub api_key: String,
    pub api_secret: String,
    pub username: String,
    pub password: String,
}

/// Creates the demo user and api key once per store; `None` when done before.
pub fn seed(store: &Store) -> rusqlite::Result<Option<Demo>> {
    store.with(|c| {
        let tx = c.transaction()?;
        if meta::get(&tx, "demo_seeded")?.is_some() {
            return Ok(None);
        }
        let password = crate::client::random_nonce();
        let user = users::create(
            &tx,
            &users::NewUser {
                username: "demo",
                email: "demo@example.com",
                password: &password,
                firstname: "Demo",
                surname: "User",
                company: "Panthera",
                status: "active",
            },
        )?;
        let alice = users::create(
            &tx,
            &users::NewUser {
                username: "alice",
                email: "alice@example.com",
                password: &crate::client::random_nonce(),
                firstname: "Alice",
                surname: "Example",
                company: "",
                status: "active",
            },
        )?;
        tx.execute(
            "UPDATE users SET id = ?1 WHERE id = ?2",
            [SAMPLE_USER_ID, &alice.id],
        )?;
        let key = keys::create(&tx, store.keyring(), "demo app", Role::App, Some(&user.id))?;
        let now = now_unix();
        crate::media::catalogue::generate(&tx, DEMO_ITEMS, 1, now - 86_400, 0, || {})?;
        crate::media::catalogue::demo_contributions(&tx, &user.username, "Demo User", now)?;
        balances::credit(&tx, &user.id, DEMO_CREDITS, now)?;
        meta::set(&tx, "demo_api_key", &key.api_key)?;
        meta::set(&tx, "demo_seeded", "1")?;
        tx.commit()?;
        Ok(Some(Demo {
            api_key: key.api_key,
            api_secret: key.secret.expose().to_string(),
            username: user.username,
            password,
        }))
    })
}
