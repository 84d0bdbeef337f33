//! Account administration, shared by the API methods and the command line:
//! validate, hash the password before taking the store lock (argon2 is slow
//! on purpose), then write the change and its audit row in one transaction.

pub mod rules;

use crate::error::ApiError;
use crate::store::audit::Record;
use crate::store::users::{self, Changes, User, UserRow};
use crate::store::{Store, StoreError, Tx};

/// Who makes a change and when, as the audit trail records it.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    /// The api key, or [`audit::CLI_ACTOR`].
    pub name: &'a str,
    /// The API request id (empty for the CLI).
    pub request_id: &'a str,
    /// Unix seconds, from the injected clock.
    pub now: i64,
}

/// The fields of a new account, as given.
#[derive(Debug, Clone, Copy, Default)]
pub struct Draft<'a> {
    pub username: &'a str,
    pub email: &'a str,
    /// `None`: the account cannot sign in until a password is set (the REST
    /// users API creates accounts without one).
    pub password: Option<&'a str>,
    /// `active` when not given.
    pub status: Option<&'a str>,
    pub firstname: Option<&'a str>,
    pub surname: Option<&'a str>,
    pub company: Option<&'a str>,
}

/// Fields to change; `None` keeps the current value, an empty name clears it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Edit<'a> {
    pub username: Option<&'a str>,
    pub email: Option<&'a str>,
    pub password: Option<&'a str>,
    pub status: Option<&'a str>,
    pub firstname: Option<&'a str>,
    pub surname: Option<&'a str>,
    pub company: Option<&'a str>,
}

type Rule = fn(&str) -> Result<(), &'static str>;

impl Edit<'_> {
    /// Every given field against its rule; the first failure names its field.
    fn validate(&self) -> Result<(), ApiError> {
        let checks: [(&str, Option<&str>, Rule); 7] = [
            ("username", self.username, rules::username),
            ("email", self.email, rules::email),
            ("password", self.password, rules::password),
            ("status", self.status, rules::status),
            ("firstname", self.firstname, rules::name),
            ("surname", self.surname, rules::name),
            ("company", self.company, rules::name),
        ];
        for (field, value, rule) in checks {
            if let Some(v) = value {
                rule(v).map_err(|why| ApiError::Unprocessable(field.into(), why.into()))?;
            }
        }
        Ok(())
    }

    /// Names of the fields that differ from `current`. A given password
    /// always counts: it is never compared, only hashed.
    fn changed(&self, current: &User) -> Vec<&'static str> {
        let differs = |new: Option<&str>, old: &str| new.is_some_and(|n| n != old);
        let mut out = Vec::new();
        for (field, yes) in [
            ("username", differs(self.username, &current.username)),
            ("email", differs(self.email, &current.email)),
            ("password", self.password.is_some()),
            ("status", differs(self.status, &current.status)),
            ("firstname", differs(self.firstname, &current.firstname)),
            ("surname", differs(self.surname, &current.surname)),
            ("company", differs(self.company, &current.company)),
        ] {
            if yes {
                out.push(field);
            }
        }
        out
    }
}

impl<'a> Draft<'a> {
    fn as_edit(&self) -> Edit<'a> {
        Edit {
            username: Some(self.username),
            email: Some(self.email),
            password: self.password,
            status: self.status,
            firstname: self.firstname,
            surname: self.surname,
            company: self.company,
        }
    }
}

/// Creates an account. `then` runs inside the transaction after the insert
/// and its audit row (the API stores its idempotent answer there); its
/// failure rolls everything back.
pub fn create<T>(
    store: &Store,
    actor: &Actor<'_>,
    d: &Draft<'_>,
    then: impl FnOnce(&Tx<'_>, &User) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    d.as_edit().validate()?;
    let hash = match d.password {
        Some(p) => hash(p)?,
        None => users::NO_PASSWORD.to_string(),
    };
    let row = UserRow {
        username: d.username,
        email: d.email,
        password_hash: &hash,
        firstname: d.firstname.unwrap_or(""),
        surname: d.surname.unwrap_or(""),
        company: d.company.unwrap_or(""),
        status: d.status.unwrap_or("active"),
    };
    let mut changes = vec!["username", "email"];
    if d.password.is_some() {
        changes.push("password");
    }
    changes.push("status");
    for (field, v) in [
        ("firstname", d.firstname),
        ("surname", d.surname),
        ("company", d.company),
    ] {
        if v.is_some() {
            changes.push(field);
        }
    }
    store.transaction(|tx| {
        if let Some(f) = tx
            .users()
            .taken_field(Some(d.username), Some(d.email), "")?
        {
            return Err(conflict(f, d.username, d.email));
        }
        let user = tx
            .users()
            .insert(&row, actor.now)
            .map_err(|e| unique(e, d.username, d.email))?;
        // An imported catalogue author of that username becomes this user's
        // (contributor media, methods.md §E).
        tx.media_items().link_author(d.username, &user.id)?;
        record(tx, actor, "create-user", &user.id, &changes)?;
        then(tx, &user)
    })
}

/// Changes the given fields of an account. Nothing that differs: nothing
/// is written (no audit row, `updated_at` kept) and the account is returned.
pub fn update<T>(
    store: &Store,
    actor: &Actor<'_>,
    id: &str,
    e: &Edit<'_>,
    then: impl FnOnce(&Tx<'_>, &User) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    e.validate()?;
    let hash = e.password.map(hash).transpose()?;
    store.transaction(|tx| {
        let current = tx.users().find(id)?.ok_or_else(|| not_found(id))?;
        let changed = e.changed(&current);
        if changed.is_empty() {
            return then(tx, &current);
        }
        let (username, email) = (e.username.unwrap_or(""), e.email.unwrap_or(""));
        if let Some(f) = tx.users().taken_field(e.username, e.email, id)? {
            return Err(conflict(f, username, email));
        }
        let changes = Changes {
            username: e.username,
            email: e.email,
            password_hash: hash.as_deref(),
            firstname: e.firstname,
            surname: e.surname,
            company: e.company,
            status: e.status,
        };
        tx.users()
            .update(id, &changes, actor.now)
            .map_err(|err| unique(err, username, email))?;
        if ends_sessions(&changed, e.status) {
            tx.sessions().delete_for_user(id)?;
        }
        record(tx, actor, "update-user", id, &changed)?;
        let user = tx.users().find(id)?.ok_or_else(|| not_found(id))?;
        then(tx, &user)
    })
}

/// Whether a change ends the account's browser sessions: a new password
/// (whoever knew the old one is signed out) or a status other than active.
fn ends_sessions(changed: &[&str], status: Option<&str>) -> bool {
    changed.contains(&"password")
        || (changed.contains(&"status") && status.is_some_and(|s| s != "active"))
}

/// Deletes an account. Api keys it owned stay (their owner becomes NULL);
/// what it signed in with ends with it (see [`users::delete`]), its browser
/// sessions included.
pub fn delete<T>(
    store: &Store,
    actor: &Actor<'_>,
    id: &str,
    then: impl FnOnce(&Tx<'_>) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    store.transaction(|tx| {
        tx.sessions().delete_for_user(id)?;
        if !tx.users().delete(id)? {
            return Err(not_found(id));
        }
        record(tx, actor, "delete-user", id, &[])?;
        then(tx)
    })
}

/// The account with this id.
pub fn get(store: &Store, id: &str) -> Result<User, ApiError> {
    store.users().find(id)?.ok_or_else(|| not_found(id))
}

/// The account with this id, else with this username (command line).
pub fn find(store: &Store, id_or_username: &str) -> Result<User, ApiError> {
    store
        .users()
        .find_by_id_or_username(id_or_username)?
        .ok_or_else(|| not_found(id_or_username))
}

fn record(
    tx: &Tx<'_>,
    actor: &Actor<'_>,
    action: &str,
    user_id: &str,
    changes: &[&str],
) -> Result<(), ApiError> {
    tx.audit().record(&Record {
        at: actor.now,
        actor: actor.name,
        action,
        user_id,
        changes,
        request_id: actor.request_id,
    })?;
    Ok(())
}

fn hash(password: &str) -> Result<String, ApiError> {
    users::hash_password(password).map_err(|e| ApiError::Internal(format!("hashing: {e}")))
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("User with ID '{}' not found.", cap(id)))
}

fn conflict(field: &str, username: &str, email: &str) -> ApiError {
    match field {
        "username" => ApiError::Conflict(format!(
            "User with username '{}' already exists.",
            cap(username)
        )),
        _ => ApiError::Conflict(format!("User with email '{}' already exists.", cap(email))),
    }
}

/// A UNIQUE violation (a concurrent writer won the race) as a 409.
fn unique(e: StoreError, username: &str, email: &str) -> ApiError {
    match e {
        StoreError::Conflict(f) => conflict(&f, username, email),
        other => other.into(),
    }
}

/// Echoed input stays short.
fn cap(s: &str) -> String {
    s.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::audit;

    const CLI: Actor<'static> = Actor {
        name: audit::CLI_ACTOR,
        request_id: "",
        now: 1000,
    };

    fn draft(username: &'static str, email: &'static str) -> Draft<'static> {
        Draft {
            username,
            email,
            password: Some("Correct-Horse-42"),
            ..Draft::default()
        }
    }

    fn audit_rows(store: &Store) -> Vec<audit::Entry> {
        store.audit().list(100).unwrap()
    }

    #[test]
    fn a_change_and_its_audit_row_commit_together() {
        let (_d, store) = crate::store::test_store();
        let u = create(&store, &CLI, &draft("jane", "jane@example.com"), |_, u| {
            Ok(u.clone())
        })
        .unwrap();
        assert_eq!(u.status, "active");
        let rows = audit_rows(&store);
        assert_eq!(rows.len(), 1);
        assert_eq!(
            rows[0].changes,
            vec!["username", "email", "password", "status"]
        );
        // a failing `then` rolls back the insert and the audit row
        let r: Result<(), _> = create(&store, &CLI, &draft("john", "john@example.com"), |_, _| {
            Err(ApiError::Conflict("no".into()))
        });
        assert!(r.is_err());
        assert!(find(&store, "john").is_err());
        assert_eq!(audit_rows(&store).len(), 1);
        // conflicts write nothing
        let dup = create(&store, &CLI, &draft("jane2", "JANE@example.com"), |_, u| {
            Ok(u.clone())
        });
        assert!(matches!(dup, Err(ApiError::Conflict(m)) if m.contains("email")));
        let dup = create(&store, &CLI, &draft("jane", "other@example.com"), |_, u| {
            Ok(u.clone())
        });
        assert!(matches!(dup, Err(ApiError::Conflict(m)) if m.contains("username")));
        assert_eq!(audit_rows(&store).len(), 1);
    }

    #[test]
    fn updates_record_only_what_differs() {
        let (_d, store) = crate::store::test_store();
        let u = create(&store, &CLI, &draft("jane", "jane@example.com"), |_, u| {
            Ok(u.clone())
        })
        .unwrap();
        let later = Actor { now: 2000, ..CLI };
        let same = Edit {
            username: Some("jane"),
            status: Some("active"),
            ..Edit::default()
        };
        let v = update(&store, &later, &u.id, &same, |_, u| Ok(u.clone())).unwrap();
        assert_eq!(v, u, "nothing differs: nothing written");
        let edit = Edit {
            email: Some("Jane@Example.com"),
            password: Some("Another-Pass-1"),
            firstname: Some("Jane"),
            ..Edit::default()
        };
        let v = update(&store, &later, &u.id, &edit, |_, u| Ok(u.clone())).unwrap();
        assert_eq!((v.email.as_str(), v.updated_at), ("Jane@Example.com", 2000));
        let rows = audit_rows(&store);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].changes, vec!["email", "password", "firstname"]);
        let bad = Edit {
            status: Some("gone"),
            ..Edit::default()
        };
        let e = update(&store, &later, &u.id, &bad, |_, u| Ok(u.clone())).unwrap_err();
        assert!(matches!(e, ApiError::Unprocessable(f, _) if f == "status"));
        let e = update(&store, &later, "usr_nope", &same, |_, u| Ok(u.clone())).unwrap_err();
        assert_eq!(e.status(), 404);
        delete(&store, &later, &u.id, |_| Ok(())).unwrap();
        assert_eq!(
            delete(&store, &later, &u.id, |_| Ok(()))
                .unwrap_err()
                .status(),
            404
        );
        assert_eq!(audit_rows(&store)[0].action, "delete-user");
    }
    #[test]
    fn a_new_password_disabling_and_deleting_end_the_sessions() {
        let (_d, store) = crate::store::test_store();
        let u = create(&store, &CLI, &draft("jane", "jane@example.com"), |_, u| {
            Ok(u.clone())
        })
        .unwrap();
        let live = |store: &Store| store.sessions().count_for_user(&u.id).unwrap();
        let open = |store: &Store| {
            store.sessions().create(&u.id, 1000, 100_000).unwrap();
        };
        open(&store);
        let names = Edit {
            firstname: Some("Jane"),
            status: Some("active"),
            ..Edit::default()
        };
        update(&store, &CLI, &u.id, &names, |_, _| Ok(())).unwrap();
        assert_eq!(live(&store), 1, "other changes keep the session");
        let pw = Edit {
            password: Some("Another-Pass-1"),
            ..Edit::default()
        };
        update(&store, &CLI, &u.id, &pw, |_, _| Ok(())).unwrap();
        assert_eq!(live(&store), 0);
        open(&store);
        let off = Edit {
            status: Some("inactive"),
            ..Edit::default()
        };
        update(&store, &CLI, &u.id, &off, |_, _| Ok(())).unwrap();
        assert_eq!(live(&store), 0);
        open(&store);
        delete(&store, &CLI, &u.id, |_| Ok(())).unwrap();
        assert_eq!(live(&store), 0);
    }
}
