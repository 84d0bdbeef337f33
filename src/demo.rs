//! The demo a newcomer gets at first start: a user and an api key (and, as
//! the catalogue grows, its data), created once per store.

use crate::store::keys::{self, Role};
use crate::store::{deposits, meta, users, Store};

/// The fixed id of the demo's second account ("alice"), which the account
/// methods' documentation samples read, change and delete.
pub const SAMPLE_USER_ID: &str = "usr_00000000000a11ce";

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
        deposits::create(
            &tx,
            &deposits::Deposit {
                id: 0,
                user_id: user.id.clone(),
                kind: "credits".into(),
                name: "Credits".into(),
                remaining_cents: 10_000,
                total_cents: 10_000,
                currency: "EUR".into(),
                valid_until: None,
            },
        )?;
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
