//! Sample answers, produced by running each method's declared sample against
//! a fresh demo database: the docs can never show a stale answer.

use std::collections::HashMap;
use std::sync::Arc;

use super::run::{run_method, Principal};
use crate::answer::Format;
use crate::config::Config;
use crate::error::ApiError;
use crate::methods::AppState;
use crate::methods::{self, Method, UserAuth};
use crate::protocol::params::{ParamValue, Params};
use crate::protocol::user_auth::Account;
use crate::protocol::version::Version;
use crate::store::keys::Role;
use crate::store::tokens::{self, Token, TokenState};
use crate::store::StoreError;

/// One sample's answer in both encodings.
#[derive(Debug, Clone)]
pub struct SampleAnswer {
    pub status: u16,
    pub xml: String,
    pub json: String,
}

/// The sample answers of every declaration, by (method name, first version).
#[derive(Debug, Default)]
pub struct Samples {
    answers: HashMap<(&'static str, Version), SampleAnswer>,
}

impl Samples {
    pub fn get(&self, m: &Method) -> Option<&SampleAnswer> {
        self.answers.get(&(m.name, m.since))
    }
}

/// Runs every sample in a throw-away data directory seeded with the demo.
pub fn run_all(base: &Config) -> Result<Samples, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("sample data dir: {e}"))?;
    let mut config = base.clone();
    config.data_dir = dir.path().to_path_buf();
    // a throw-away SQLite store, whatever the server's own backend
    config.store.backend = crate::config::Backend::Sqlite;
    let state = Arc::new(AppState::with_system_clock(config).map_err(|e| e.to_string())?);
    crate::demo::seed(&state.store).map_err(|e| format!("seeding the demo: {e}"))?;
    let demo = state
        .store
        .users()
        .find_by_username("demo")
        .map_err(|e| e.to_string())?
        .ok_or("the demo has no user")?;
    let key = state
        .store
        .keys()
        .create("documentation samples", Role::Admin, Some(&demo.id))
        .map_err(|e| e.to_string())?;
    let token = sample_token(&state, &key.api_key, &demo.id).map_err(|e| e.to_string())?;
    let account = Account {
        user: demo,
        token: Some(token),
    };
    let base_url = state.public_url();
    let mut answers = HashMap::new();
    for m in methods::all() {
        let mut params = Params::default();
        for (k, v) in m.sample_params() {
            params
                .insert(k.to_string(), ParamValue::One(v))
                .map_err(|e| format!("sample of {}: {e}", m.name))?;
        }
        // As a signed-in user where the method takes one, as the key alone otherwise.
        let caller = Principal {
            key: &key,
            account: (m.user_auth != UserAuth::No).then_some(&account),
            base_url: &base_url,
        };
        let outcome = run_method(&state, m, m.since, &caller, params, "docs-sample");
        let answer = match outcome {
            Ok(a) => SampleAnswer {
                status: 200,
                xml: Format::Xml.encode_ok(&a),
                json: Format::Json.encode_ok(&a),
            },
            Err(e) => failure(&e),
        };
        answers.insert((m.name, m.since), answer);
    }
    Ok(Samples { answers })
}

/// An authorized token of the demo user, as if approved on the authorization page.
fn sample_token(state: &AppState, api_key: &str, user_id: &str) -> Result<Token, StoreError> {
    let now = state.clock.now();
    let token = Token {
        token: tokens::new_id(),
        api_key: api_key.to_string(),
        user_id: Some(user_id.to_string()),
        app_name: "documentation samples".into(),
        app_logo: String::new(),
        app_callback: String::new(),
        lang: "en".into(),
        state: TokenState::Authorized,
        created_at: now,
        decided_at: Some(now),
        valid_until: now + 3600,
        last_used_at: None,
    };
    state.store.tokens().insert(&token, "sample token secret")?;
    Ok(token)
}

fn failure(e: &ApiError) -> SampleAnswer {
    let msg = e.client_message();
    SampleAnswer {
        status: e.status(),
        xml: Format::Xml.encode_fail(e.status(), &msg),
        json: Format::Json.encode_fail(e.status(), &msg),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sample_runs_and_succeeds() {
        let samples = run_all(&Config::default()).expect("samples run");
        for m in methods::all() {
            let a = samples.get(m).expect("a sample answer");
            assert_eq!(a.status, 200, "{}: {}", m.name, a.xml);
            assert!(a.xml.contains("<rsp stat=\"ok\">"), "{}", m.name);
            assert!(a.json.starts_with("{\"stat\":\"ok\""), "{}", m.name);
        }
    }
}
