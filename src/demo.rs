//! The demo a newcomer gets at first start: a user and an api key (and, as
//! the catalogue grows, its data), created once per store.

use crate::store::keys::{self, Role};
use crate::store::{meta, users, Store};

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
        let key = keys::create(&tx, store.keyring(), "demo app", Role::App, Some(&user.id))?;
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
