//! The demo a newcomer gets at first start: a user, an api key, a media
//! catalogue to search and buy from, and credits to buy with; created once
//! per store.

use crate::media::catalogue::{demo_contributions, generate};
use crate::store::keys::Role;
use crate::store::users::NewUser;
use crate::store::{now_unix, Store, StoreError};

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
pub fn seed(store: &Store) -> Result<Option<Demo>, StoreError> {
    store.transaction(|tx| {
        if tx.meta().get("demo_seeded")?.is_some() {
            return Ok(None);
        }
        let password = crate::client::random_nonce();
        let user = tx.users().create(&NewUser {
            username: "demo",
            email: "demo@example.com",
            password: &password,
            firstname: "Demo",
            surname: "User",
            company: "Panthera",
            status: "active",
        })?;
        tx.users().create_with_id(
            SAMPLE_USER_ID,
            &NewUser {
                username: "alice",
                email: "alice@example.com",
                password: &crate::client::random_nonce(),
                firstname: "Alice",
                surname: "Example",
                company: "",
                status: "active",
            },
        )?;
        let key = tx.keys().create("demo app", Role::App, Some(&user.id))?;
        let now = now_unix();
        let items = tx.media_items();
        items.add_all(generate(DEMO_ITEMS, 1, now - 86_400, 0), || {})?;
        items.add_all(demo_contributions(&user.username, "Demo User", now), || {})?;
        tx.balances().credit(&user.id, DEMO_CREDITS, now)?;
        tx.meta().set("demo_api_key", &key.api_key)?;
        tx.meta().set("demo_seeded", "1")?;
        Ok(Some(Demo {
            api_key: key.api_key,
            api_secret: key.secret.expose().to_string(),
            username: user.username,
            password,
        }))
    })
}
