//! The method registry: each method is declared once, and validation, the GET
//! docs page, `get-method-info`, OpenAPI and the docs-as-tests all read that
//! one declaration. Adding a method = one declaration + its handler.

pub mod accounts;
pub mod contributor;
pub mod downloads;
pub mod fields;
pub mod idempotency;
pub mod inbox;
pub mod media;
pub mod run;
pub mod samples;
pub mod service;
pub mod state;
pub mod tokens;

pub use fields::{Field, FieldType};
pub use state::AppState;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use crate::answer::tree::Answer;
use crate::error::ApiError;
use crate::protocol::params::Params;
use crate::protocol::user_auth::Account;
use crate::protocol::version::Version;
use crate::store::keys::{ApiKey, Role};

/// Which part of the catalogue a method belongs to (groups the docs index).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Area {
    Service,
    Tokens,
    Accounts,
    Media,
    Downloads,
    Contributor,
}

impl Area {
    pub fn title(self) -> &'static str {
        match self {
            Area::Service => "Service",
            Area::Tokens => "Tokens and the signed-in user",
            Area::Accounts => "Accounts (administration)",
            Area::Media => "Media catalogue",
            Area::Downloads => "Downloads",
            Area::Contributor => "Contributor media",
        }
    }
}

/// Whether a method needs a signed-in user: a wire rule, read here.
pub use crate::protocol::user_auth::UserAuth;

/// The type of a parameter, which drives validation and the docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// An integer within `min..=max`.
    Integer {
        min: i64,
        max: i64,
    },
    /// One of the declared `values`.
    Choice,
    /// A protocol timestamp (`Thu, 26 Jul 2012 14:53:44 UTC`).
    Timestamp,
    /// A comma-separated list.
    List,
    /// An absolute http(s) URL.
    Url,
    /// Repeatable: `name[]=a&name[]=b` (a single `name=a` counts as one).
    Array,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Text => "string",
            Kind::Integer { .. } => "integer",
            Kind::Choice => "string",
            Kind::Timestamp => "timestamp",
            Kind::List => "list",
            Kind::Url => "url",
            Kind::Array => "array",
        }
    }
}

/// One declared parameter.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
    pub default: Option<&'static str>,
    /// Possible values (for `Choice` and documented lists).
    pub values: &'static [&'static str],
    pub description: &'static str,
    /// A secret (a password): never echoed, never stored in clear, not even
    /// in the idempotency record.
    pub secret: bool,
}

impl Param {
    /// A plain optional text parameter; refine with the builder methods.
    pub const fn new(name: &'static str, description: &'static str) -> Self {
        Param {
            name,
            kind: Kind::Text,
            required: false,
            default: None,
            values: &[],
            description,
            secret: false,
        }
    }
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub const fn kind(mut self, kind: Kind) -> Self {
        self.kind = kind;
        self
    }
    pub const fn default(mut self, d: &'static str) -> Self {
        self.default = Some(d);
        self
    }
    pub const fn values(mut self, v: &'static [&'static str]) -> Self {
        self.values = v;
        self
    }
    pub const fn secret(mut self) -> Self {
        self.secret = true;
        self
    }
}

/// An error a method can return, with what it means there.
#[derive(Debug, Clone, Copy)]
pub struct ErrorDoc {
    pub code: u16,
    pub meaning: &'static str,
}

/// The HTTP verbs that execute a method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Post,
    Put,
}

/// What a handler gets besides the parameters.
pub struct Ctx<'a> {
    pub state: &'a Arc<AppState>,
    pub method: &'a Method,
    pub version: Version,
    pub key: &'a ApiKey,
    pub request_id: &'a str,
    /// Validated parameters of the method, with defaults applied.
    pub args: &'a Args,
    /// Held when a mutating method was called with an `idempotency_key`.
    pub idempotency: Option<&'a idempotency::Claim>,
    /// The account the call acts for: the token's user, or for `optional`
    /// methods without a token the owner of the api key; `None` for methods
    /// that need no user.
    pub account: Option<&'a Account>,
    /// `scheme://host` the client reached us at (or `server.public_url`).
    pub base_url: &'a str,
}

/// The signature every handler has.
pub type Handler = fn(&Ctx<'_>) -> Result<Answer, ApiError>;

/// One method in one range of versions.
pub struct Method {
    pub name: &'static str,
    pub area: Area,
    /// First version the declaration serves.
    pub since: Version,
    /// First version it no longer serves (a newer declaration takes over).
    pub until: Option<Version>,
    pub summary: &'static str,
    pub description: &'static str,
    pub params: &'static [Param],
    pub user_auth: UserAuth,
    pub ssl: bool,
    /// Only api keys with the `admin` role may call it; others get a normal 403.
    pub admin: bool,
    /// It changes state, so it honours `idempotency_key` (see [`idempotency`]).
    pub mutating: bool,
    pub verbs: &'static [Verb],
    pub errors: &'static [ErrorDoc],
    /// Sample parameters (besides the credentials), run by the docs and tests.
    pub sample: &'static [(&'static str, &'static str)],
    pub handler: Handler,
    /// The handler reads only memory and answers in microseconds, so the
    /// pipeline runs it on the HTTP worker instead of the blocking pool,
    /// saving two thread hand-offs per call (docs/performance.md). Never for
    /// a handler that touches the store or the disk or hashes passwords,
    /// nor for a method that needs a user (tokens are checked in the store).
    pub inline: bool,
    /// The elements of a successful answer (inside `<rsp stat="ok">`), with
    /// their attributes and children: the docs' "Answer" table and the
    /// OpenAPI answer schemas.
    pub answer: &'static [Field],
}

impl Method {
    /// A method served since 1.0 by POST, that needs no user, takes no
    /// parameters, has no errors of its own and no sample; the builder
    /// methods below say what differs.
    pub const fn new(
        name: &'static str,
        area: Area,
        summary: &'static str,
        description: &'static str,
        handler: Handler,
    ) -> Self {
        Method {
            name,
            area,
            since: Version::V1_0,
            until: None,
            summary,
            description,
            params: &[],
            user_auth: UserAuth::No,
            ssl: false,
            admin: false,
            mutating: false,
            verbs: &[Verb::Post],
            errors: &[],
            sample: &[],
            handler,
            inline: false,
            answer: &[],
        }
    }
    pub const fn since(mut self, v: Version) -> Self {
        self.since = v;
        self
    }
    pub const fn until(mut self, v: Version) -> Self {
        self.until = Some(v);
        self
    }
    pub const fn params(mut self, params: &'static [Param]) -> Self {
        self.params = params;
        self
    }
    pub const fn user(mut self, user_auth: UserAuth) -> Self {
        self.user_auth = user_auth;
        self
    }
    pub const fn ssl(mut self) -> Self {
        self.ssl = true;
        self
    }
    pub const fn admin(mut self) -> Self {
        self.admin = true;
        self
    }
    pub const fn mutating(mut self) -> Self {
        self.mutating = true;
        self
    }
    pub const fn verbs(mut self, verbs: &'static [Verb]) -> Self {
        self.verbs = verbs;
        self
    }
    pub const fn errors(mut self, errors: &'static [ErrorDoc]) -> Self {
        self.errors = errors;
        self
    }
    pub const fn sample(mut self, sample: &'static [(&'static str, &'static str)]) -> Self {
        self.sample = sample;
        self
    }
    pub const fn inline(mut self) -> Self {
        self.inline = true;
        self
    }
    pub const fn answer(mut self, answer: &'static [Field]) -> Self {
        self.answer = answer;
        self
    }

    /// The sample parameters with placeholders filled in: a value written
    /// `{now+Nd}` becomes the timestamp N days from now, for samples that
    /// must lie in the future whenever the docs are made.
    pub fn sample_params(&self) -> Vec<(&'static str, String)> {
        let now = crate::store::now_unix();
        self.sample
            .iter()
            .map(|(k, v)| (*k, expand_sample(v, now)))
            .collect()
    }

    /// True when this declaration serves `v`.
    pub fn serves(&self, v: Version) -> bool {
        v >= self.since && self.until.is_none_or(|u| v < u)
    }

    /// Refuses a key whose role may not call this method. Runs once the
    /// caller is authenticated, so it is a normal (not fatal) error.
    pub fn authorize(&self, key: &ApiKey) -> Result<(), ApiError> {
        if self.admin && key.role != Role::Admin {
            return Err(ApiError::Forbidden(
                "this method needs an api key with the admin role".into(),
            ));
        }
        Ok(())
    }

    /// Every error the method can return: its own, those its flags imply,
    /// then the common ones. The docs and `get-method-info` list these.
    pub fn error_docs(&self) -> impl Iterator<Item = &'static ErrorDoc> {
        let admin: &'static [ErrorDoc] = if self.admin { ADMIN_ERRORS } else { &[] };
        let mutating: &'static [ErrorDoc] = if self.mutating {
            idempotency::ERRORS
        } else {
            &[]
        };
        self.errors
            .iter()
            .chain(admin)
            .chain(mutating)
            .chain(COMMON_ERRORS)
    }
}

/// Errors of methods reserved to admin keys.
pub const ADMIN_ERRORS: &[ErrorDoc] = &[ErrorDoc {
    code: 403,
    meaning: "the api key does not have the admin role (normal error)",
}];

/// Fills in a `{now+Nd}` placeholder (see [`Method::sample_params`]).
fn expand_sample(v: &str, now: i64) -> String {
    let days = v
        .strip_prefix("{now+")
        .and_then(|r| r.strip_suffix("d}"))
        .and_then(|d| d.parse::<i64>().ok());
    match days {
        Some(d) => crate::protocol::timestamp::Timestamp::from_unix(now + d * 86_400).format(),
        None => v.to_string(),
    }
}

/// Errors every method can return; listed once in the docs.
pub const COMMON_ERRORS: &[ErrorDoc] = &[
    ErrorDoc { code: 400, meaning: "Bad request: a missing or malformed parameter, unsupported algo or timestamp format, a parameter given twice (fatal, text/html)" },
    ErrorDoc { code: 403, meaning: "Forbidden: unknown or revoked api key, wrong access_key, timestamp outside the window, replayed nonce (fatal, text/html)" },
    ErrorDoc { code: 404, meaning: "Not Found: unknown method, or method not in this version (fatal)" },
    ErrorDoc { code: 408, meaning: "Request Timeout: the body did not arrive in time (fatal)" },
    ErrorDoc { code: 410, meaning: "Gone: the API version was retired (fatal)" },
    ErrorDoc { code: 412, meaning: "Precondition Failed: no User-Agent header (fatal)" },
    ErrorDoc { code: 413, meaning: "Payload Too Large: the body exceeds the limit (fatal)" },
    ErrorDoc { code: 421, meaning: "Too many requests at once from your address; wait Retry-After seconds (fatal)" },
    ErrorDoc { code: 429, meaning: "Too Many Requests: the key's or token's rate limit (normal), or too many failed authentications (fatal); wait Retry-After seconds" },
    ErrorDoc { code: 500, meaning: "Internal Server Error: quote the X-Request-Id when reporting it" },
    ErrorDoc { code: 501, meaning: "Not Implemented: an HTTP verb other than GET, POST (or PUT where declared)" },
];

/// Every declaration of every method.
pub fn all() -> &'static [Method] {
    static ALL: OnceLock<Vec<Method>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut v: Vec<Method> = Vec::new();
        v.extend(service::methods());
        v.extend(accounts::methods());
        v.extend(tokens::methods());
        v.extend(media::methods());
        v.extend(downloads::methods());
        v.extend(contributor::methods());
        v.extend(inbox::methods());
        v
    })
}

/// Name → its declarations (one per version range), built once.
pub struct Registry {
    by_name: HashMap<&'static str, Vec<&'static Method>>,
}

/// The outcome of looking a method up in a version.
pub enum Lookup {
    Found(&'static Method),
    /// The method exists, but not in this version; here are the versions it does.
    OtherVersions(Vec<&'static Method>),
    Unknown,
}

impl Registry {
    pub fn new() -> Self {
        let mut by_name: HashMap<&'static str, Vec<&'static Method>> = HashMap::new();
        for m in all() {
            by_name.entry(m.name).or_default().push(m);
        }
        Registry { by_name }
    }

    pub fn lookup(&self, name: &str, version: Version) -> Lookup {
        match self.by_name.get(name) {
            None => Lookup::Unknown,
            Some(decls) => match decls.iter().find(|m| m.serves(version)) {
                Some(m) => Lookup::Found(m),
                None => Lookup::OtherVersions(decls.clone()),
            },
        }
    }

    /// Every declaration of one method.
    pub fn declarations(&self, name: &str) -> &[&'static Method] {
        self.by_name.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    /// The methods served in `version`, sorted by area then name.
    pub fn in_version(&self, version: Version) -> Vec<&'static Method> {
        let mut v: Vec<_> = all().iter().filter(|m| m.serves(version)).collect();
        v.sort_by_key(|m| (m.area, m.name));
        v
    }
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new()
    }
}

/// Method parameters after validation against the declaration.
#[derive(Debug, Clone)]
pub struct Args {
    params: Params,
    defaults: Vec<(&'static str, &'static str)>,
}

impl Args {
    /// Checks `params` against `decl`: required parameters present, integers in
    /// range, choices among the allowed values, URLs and timestamps well-formed.
    /// Undeclared parameters are ignored, as the original service did.
    pub fn validate(decl: &Method, params: Params) -> Result<Args, ApiError> {
        let mut defaults = Vec::new();
        for p in decl.params {
            if p.kind == Kind::Array {
                let values = params.get_list(p.name).unwrap_or_default();
                if p.required && values.is_empty() {
                    return Err(ApiError::MissingParam(p.name.into()));
                }
                for v in values {
                    if !p.values.is_empty() && !p.values.contains(&v) {
                        return Err(ApiError::InvalidParam(
                            p.name.into(),
                            format!("expected one of: {}", p.values.join(", ")),
                        ));
                    }
                }
                continue;
            }
            let Some(value) = params.get(p.name) else {
                if params.contains(p.name) {
                    // given as an array where a single value is expected
                    return Err(ApiError::InvalidParam(
                        p.name.into(),
                        "expected a single value".into(),
                    ));
                }
                if p.required {
                    return Err(ApiError::MissingParam(p.name.into()));
                }
                if let Some(d) = p.default {
                    defaults.push((p.name, d));
                }
                continue;
            };
            if p.required && value.trim().is_empty() {
                return Err(ApiError::MissingParam(p.name.into()));
            }
            check_value(p, value)?;
        }
        Ok(Args { params, defaults })
    }

    /// The value, or its declared default.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.get(name).or_else(|| {
            self.defaults
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, d)| *d)
        })
    }

    /// An integer parameter (already range-checked when declared as one).
    pub fn int(&self, name: &str) -> Option<i64> {
        self.get(name).and_then(|v| v.trim().parse().ok())
    }

    /// The values of a repeatable parameter (`name[]`), empty when absent.
    pub fn list(&self, name: &str) -> Vec<&str> {
        self.params.get_list(name).unwrap_or_default()
    }

    /// All raw parameters (protocol ones included).
    pub fn params(&self) -> &Params {
        &self.params
    }
}

fn check_value(p: &Param, value: &str) -> Result<(), ApiError> {
    let invalid = |why: String| Err(ApiError::InvalidParam(p.name.into(), why));
    match p.kind {
        Kind::Integer { min, max } => match value.trim().parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(()),
            _ => invalid(format!("expected an integer from {min} to {max}")),
        },
        Kind::Choice if !p.values.contains(&value) => {
            invalid(format!("expected one of: {}", p.values.join(", ")))
        }
        Kind::Timestamp => match crate::protocol::timestamp::Timestamp::parse(value) {
            Ok(_) => Ok(()),
            Err(e) => invalid(e.to_string()),
        },
        Kind::Url if !(value.starts_with("https://") || value.starts_with("http://")) => {
            invalid("expected an absolute http(s) URL".into())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declarations_are_consistent() {
        let reg = Registry::new();
        for m in all() {
            assert!(
                m.name.bytes().all(|c| c.is_ascii_lowercase() || c == b'-'),
                "{} is not kebab-case",
                m.name
            );
            assert!(!m.summary.is_empty(), "{} lacks a summary", m.name);
            assert!(!m.verbs.is_empty(), "{} has no verb", m.name);
            assert!(
                !m.answer.is_empty(),
                "{} does not declare its answer",
                m.name
            );
            assert!(
                !m.inline || (m.user_auth == UserAuth::No && !m.mutating && !m.admin),
                "{} runs inline but needs a user, changes state or is admin-only",
                m.name
            );
            for (name, _) in m.sample {
                assert!(
                    m.params.iter().any(|p| p.name == *name),
                    "sample of {} uses undeclared {name}",
                    m.name
                );
            }
            for p in m.params {
                if p.required {
                    assert!(
                        m.sample.iter().any(|(n, _)| *n == p.name),
                        "sample of {} lacks required {}",
                        m.name,
                        p.name
                    );
                }
                assert!(!auth_param(p.name), "{} redeclares {}", m.name, p.name);
            }
            // version ranges of one name never overlap
            let decls = reg.declarations(m.name);
            for a in decls {
                for b in decls {
                    if !std::ptr::eq(*a, *b) {
                        assert!(!a.serves(b.since), "{} overlaps itself", m.name);
                    }
                }
            }
        }
    }

    fn auth_param(name: &str) -> bool {
        crate::protocol::auth::PROTOCOL_PARAMS.contains(&name)
    }
}
