//! Tokens and the signed-in user (methods.md §B): an app asks for a token,
//! the user approves it in a browser (`web::authorize`), and the app signs
//! user calls with it (protocol.md §4).

use super::{Area, Ctx, ErrorDoc, Field, FieldType, Kind, Method, Param, UserAuth};
use crate::answer::tree::{Answer, Node};
use crate::error::ApiError;
use crate::protocol::timestamp::Timestamp;
use crate::protocol::user_auth::{self, Account, TokenRefusal, PENDING_LIFE_SECS};
use crate::store::tokens::{self, Token, TokenState};

/// Longest accepted token secret, in bytes.
const MAX_SECRET_BYTES: usize = 256;
/// Longest app name, in characters.
const MAX_APP_NAME_CHARS: usize = 100;

/// Longest app callback, in bytes.
const MAX_CALLBACK_BYTES: usize = 2000;

/// Languages of the authorization page.
pub const PAGE_LANGS: &[&str] = &["en", "de"];

const REQUEST_TOKEN_PARAMS: &[Param] = &[
    Param::new(
        "token_secret",
        "Your secret for this token (1–256 bytes); you sign user calls with it. \
         Never sent again: the server keeps it encrypted.",
    )
    .required(),
    Param::new(
        "app_name",
        "Your app's name, shown to the user (up to 100 characters).",
    )
    .required(),
    Param::new(
        "app_logo",
        "An https URL of your app's logo, shown to the user.",
    )
    .kind(Kind::Url),
    Param::new(
        "app_callback",
        "Where the browser goes after the user decided while signed in, with `token` and \
         `status=authorized|denied` appended; without it the user is asked to close the window. \
         An absolute http(s) URL of printable ASCII (percent-encode the rest), at most 2000 bytes; \
         under one of the key's registered callback prefixes when it has any.",
    )
    .kind(Kind::Url),
    Param::new("lang", "Language of the authorization page.")
        .kind(Kind::Choice)
        .values(PAGE_LANGS)
        .default("en"),
    Param::new(
        "ftp_access",
        "`yes` asks that the token and its secret may also sign in to the user's upload inbox \
         over FTP/SFTP (the original service's `ftp.panthermedia.net`). Stored with the token \
         and echoed as `<ftp_access>`; Panthera runs no FTP server itself, the inbox is served \
         by the operator's (guide \"Search\", section on the upload inbox).",
    )
    .kind(Kind::Choice)
    .values(&["yes", "no"])
    .default("no"),
];

const VALID_UNTIL_PARAMS: &[Param] = &[Param::new(
    "valid_until",
    "The new expiry, like `Thu, 26 Jul 2012 14:53:44 UTC`; in the future, at most 90 days ahead.",
)
.kind(Kind::Timestamp)
.required()];

const DEPOSIT_PARAMS: &[Param] = &[Param::new("lang", "Language of the deposit names.")
    .kind(Kind::Choice)
    .values(PAGE_LANGS)
    .default("en")];

const TOKEN_ERRORS: &[ErrorDoc] = &[ErrorDoc {
    code: 401,
    meaning: "auth_token missing, unknown, pending (not yet approved), denied, revoked or \
              expired, or a wrong access_token; each has its own message",
}];

const VALID_UNTIL_ERRORS: &[ErrorDoc] = &[
    TOKEN_ERRORS[0],
    ErrorDoc {
        code: 422,
        meaning: "valid_until in the past or more than 90 days ahead",
    },
];

const TOKEN: Field = Field::element("token", FieldType::Text, "The user token.");

const REQUEST_TOKEN_ANSWER: &[Field] = &[
    TOKEN,
    Field::element(
        "auth_url",
        FieldType::Url,
        "The page where the user allows or denies your app.",
    ),
    Field::element(
        "valid_until",
        FieldType::Timestamp,
        "When the pending token expires.",
    ),
    Field::element(
        "ftp_access",
        FieldType::YesNo,
        "Whether FTP access was asked for.",
    ),
];

const VALID_UNTIL_ANSWER: &[Field] = &[
    TOKEN,
    Field::element(
        "valid_until",
        FieldType::Timestamp,
        "When the token now expires.",
    ),
];

const PROFILE_ANSWER: &[Field] = &[Field::group(
    "user",
    "The signed-in user.",
    &[
        Field::element("id", FieldType::Text, "The account id."),
        Field::element("username", FieldType::Text, "The username."),
        Field::element("firstname", FieldType::Text, "The first name."),
        Field::element("surname", FieldType::Text, "The surname."),
        Field::element("company", FieldType::Text, "The company."),
        Field::element("email", FieldType::Text, "The email address."),
        Field::element("status", FieldType::Text, "The account status."),
        Field::element(
            "token_valid_until",
            FieldType::Timestamp,
            "When the token of this call expires.",
        ),
    ],
)];

const DEPOSIT_ANSWER: &[Field] = &[
    super::downloads::API_KEY,
    Field::group(
        "deposits",
        "The user's deposits.",
        &[
            Field::attr("total", FieldType::Integer, "How many: always 1."),
            Field::group(
                "deposit",
                "The credits deposit.",
                &[
                    Field::attr("type", FieldType::Text, "`credits`."),
                    Field::attr("name", FieldType::Text, "Its name in `lang`."),
                    Field::attr("deposit-remaining", FieldType::Integer, "The credits left."),
                    Field::attr(
                        "deposit-remaining-percent",
                        FieldType::Text,
                        "What is left of all credits ever added, in percent (`n/a` before any).",
                    ),
                    Field::attr(
                        "deposit-total",
                        FieldType::Integer,
                        "All credits ever added.",
                    ),
                    Field::attr("currency", FieldType::Text, "The deposit's currency."),
                    Field::attr(
                        "valid-until",
                        FieldType::Text,
                        "`unlimited`: credits never expire.",
                    ),
                    Field::attr("term", FieldType::Text, "`unlimited`."),
                ],
            ),
        ],
    ),
];

pub fn methods() -> Vec<Method> {
    vec![
        Method::new(
            "request-token",
            Area::Tokens,
            "Starts the user authorization: a pending token and the page the user approves it at.",
            "Send the user's browser to `auth_url`; there they sign in and allow or \
                deny your app. The pending token is valid 10 minutes. Once allowed, sign user \
                calls with `auth_token` = `token` and `access_token` = \
                hex(HMAC_algo(token_secret, timestamp || auth_token || nonce)). HTTPS only.",
            request_token,
        )
        .params(REQUEST_TOKEN_PARAMS)
        .ssl()
        .mutating()
        .errors(&[
            ErrorDoc {
                code: 400,
                meaning: "app_callback not an absolute http(s) URL of printable ASCII \
                              (control characters, spaces, backslashes) or too long",
            },
            ErrorDoc {
                code: 422,
                meaning: "token_secret or app_name too long, app_logo not an https URL, \
                              or app_callback outside the callback prefixes registered for the key",
            },
        ])
        .sample(&[("token_secret", "MySecret"), ("app_name", "My Photo App")])
        .answer(REQUEST_TOKEN_ANSWER),
        Method::new(
            "token-valid-until",
            Area::Tokens,
            "Sets when the token of this call expires, at most 90 days ahead.",
            "Tokens are extended by 60 minutes whenever they are used with less \
                than 30 minutes left; this sets a longer (or shorter) life outright.",
            token_valid_until,
        )
        .params(VALID_UNTIL_PARAMS)
        .user(UserAuth::Required)
        .mutating()
        .errors(VALID_UNTIL_ERRORS)
        .sample(&[("valid_until", "{now+30d}")])
        .answer(VALID_UNTIL_ANSWER),
        Method::new(
            "get-user-profile",
            Area::Tokens,
            "The signed-in user's profile and the expiry of the token.",
            "Answers the account the token acts for.",
            user_profile,
        )
        .user(UserAuth::Required)
        .errors(TOKEN_ERRORS)
        .answer(PROFILE_ANSWER),
        Method::new(
            "get-user-deposit",
            Area::Tokens,
            "The prepaid deposits of the user.",
            "With a token: the token's user. Without one: the account that owns the \
                api key. One deposit of credits: `deposit-remaining-percent` is what is left of \
                all credits ever added (`n/a` before any), credits never expire \
                (`valid-until` and `term` are `unlimited`).",
            user_deposit,
        )
        .params(DEPOSIT_PARAMS)
        .user(UserAuth::Optional)
        .errors(TOKEN_ERRORS)
        .answer(DEPOSIT_ANSWER),
    ]
}

fn request_token(ctx: &Ctx<'_>) -> Result<Answer, ApiError> {
    let arg = |n: &str| ctx.args.get(n).unwrap_or_default();
    let invalid = |n: &str, why: &str| Err(ApiError::Unprocessable(n.into(), why.into()));
    let secret = arg("token_secret");
    if secret.len() > MAX_SECRET_BYTES {
        return invalid("token_secret", "at most 256 bytes");
    }
    let app_name = arg("app_name").trim();
    if app_name.chars().count() > MAX_APP_NAME_CHARS {
        return invalid("app_name", "at most 100 characters");
    }
    let app_logo = arg("app_logo");
    if !app_logo.is_empty() && !app_logo.starts_with("https://") {
        return invalid("app_logo", "must be an https URL");
    }
    let app_callback = arg("app_callback");
    if !app_callback.is_empty() {
        if let Some(why) = callback_problem(app_callback) {
            return Err(ApiError::InvalidParam("app_callback".into(), why.into()));
        }
        let allowed = ctx.state.store.key_callbacks().list(&ctx.key.api_key)?;
        if !callback_allowed(&allowed, app_callback) {
            return invalid(
                "app_callback",
                "not under a callback prefix registered for this api key",
            );
        }
    }
    let now = ctx.state.clock.now();
    let token = Token {
        token: tokens::new_id(),
        api_key: ctx.key.api_key.clone(),
        user_id: None,
        app_name: app_name.to_string(),
        app_logo: app_logo.to_string(),
        app_callback: app_callback.to_string(),
        lang: arg("lang").to_string(),
        state: TokenState::Pending,
        created_at: now,
        decided_at: None,
        valid_until: now + PENDING_LIFE_SECS,
        last_used_at: None,
    };
    let ftp_access = arg("ftp_access") == "yes";
    ctx.state
        .store
        .tokens()
        .request(&token, secret, ftp_access)?;
    Ok(Answer::new(vec![
        Node::leaf("token", token.token.clone()),
        Node::leaf("auth_url", format!("{}/auth/{}", ctx.base_url, token.token)),
        Node::leaf(
            "valid_until",
            Timestamp::from_unix(token.valid_until).format(),
        ),
        Node::leaf("ftp_access", if ftp_access { "yes" } else { "no" }),
    ]))
}

/// Why `url` cannot be an app callback (or a callback prefix): it must be an
/// absolute `http(s)://` URL with a host, of printable ASCII without spaces
/// or backslashes (so it always makes a valid `Location` header and browsers
/// read its host the way we do), at most 2000 bytes.
pub fn callback_problem(url: &str) -> Option<&'static str> {
    let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
    else {
        return Some("expected an absolute http(s) URL");
    };
    if url.len() > MAX_CALLBACK_BYTES {
        return Some("at most 2000 bytes");
    }
    if !url.bytes().all(|b| b.is_ascii_graphic()) {
        return Some(
            "control characters, spaces and non-ASCII are not allowed (percent-encode them)",
        );
    }
    if url.contains('\\') {
        return Some("backslashes are not allowed");
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    if host.is_empty() || host.starts_with(':') {
        return Some("the URL has no host");
    }
    None
}

/// Whether `callback` may be used by a key with these registered prefixes:
/// any URL when it has none (as before prefixes existed), else one that
/// starts with one of them.
pub fn callback_allowed(prefixes: &[String], callback: &str) -> bool {
    prefixes.is_empty() || prefixes.iter().any(|p| callback.starts_with(p.as_str()))
}

/// Why `prefix` cannot be registered as a callback prefix: a valid callback
/// whose host is closed by a `/` (else `https://app.example` would let
/// `https://app.example.evil.test` through).
pub fn callback_prefix_problem(prefix: &str) -> Option<&'static str> {
    if let Some(why) = callback_problem(prefix) {
        return Some(why);
    }
    let rest = prefix.split_once("://").map_or("", |(_, r)| r);
    match rest.find(['/', '?', '#']) {
        Some(i) if rest.as_bytes().get(i) == Some(&b'/') => None,
        _ => {
            Some("must include the path after the host, at least a '/', e.g. https://app.example/")
        }
    }
}

/// The signed-in account and its token (methods that require a user).
fn signed_in<'a>(ctx: &Ctx<'a>) -> Result<(&'a Account, &'a Token), ApiError> {
    ctx.account
        .and_then(|a| a.token.as_ref().map(|t| (a, t)))
        .ok_or_else(|| TokenRefusal::Missing.into())
}

fn token_valid_until(ctx: &Ctx<'_>) -> Result<Answer, ApiError> {
    let (_, token) = signed_in(ctx)?;
    let wanted = Timestamp::parse(ctx.args.get("valid_until").unwrap_or_default())
        .map_err(|e| ApiError::InvalidParam("valid_until".into(), e.to_string()))?;
    let until = user_auth::check_valid_until(wanted.unix(), ctx.state.clock.now())?;
    ctx.state
        .store
        .tokens()
        .set_valid_until(&token.token, until)?;
    Ok(Answer::new(vec![
        Node::leaf("token", token.token.clone()),
        Node::leaf("valid_until", Timestamp::from_unix(until).format()),
    ]))
}

fn user_profile(ctx: &Ctx<'_>) -> Result<Answer, ApiError> {
    let (account, token) = signed_in(ctx)?;
    let u = &account.user;
    Ok(Answer::one(
        Node::new("user")
            .child(Node::leaf("id", u.id.clone()))
            .child(Node::leaf("username", u.username.clone()))
            .child(Node::leaf("firstname", u.firstname.clone()))
            .child(Node::leaf("surname", u.surname.clone()))
            .child(Node::leaf("company", u.company.clone()))
            .child(Node::leaf("email", u.email.clone()))
            .child(Node::leaf("status", u.status.clone()))
            .child(Node::leaf(
                "token_valid_until",
                Timestamp::from_unix(token.valid_until).format(),
            )),
    ))
}

/// The display name of the credits deposit in `lang`.
fn deposit_name(lang: &str) -> &'static str {
    match lang {
        "de" => "Guthaben",
        _ => "Credits",
    }
}

fn user_deposit(ctx: &Ctx<'_>) -> Result<Answer, ApiError> {
    let account = ctx.account.ok_or(TokenRefusal::NoOwner)?;
    let lang = ctx.args.get("lang").unwrap_or("en");
    // The credits download-media charges: one deposit per account.
    let d = ctx.state.store.balances().get(&account.user.id)?;
    // Credits never expire: the original writes `unlimited` there.
    let percent = if d.total > 0 {
        (d.credits.saturating_mul(100) / d.total).to_string()
    } else {
        "n/a".to_string()
    };
    let deposit = Node::new("deposit")
        .attr("type", "credits")
        .attr("name", deposit_name(lang))
        .attr("deposit-remaining", d.credits)
        .attr("deposit-remaining-percent", percent)
        .attr("deposit-total", d.total)
        .attr("currency", &d.currency)
        .attr("valid-until", "unlimited")
        .attr("term", "unlimited");
    Ok(Answer::new(vec![
        super::downloads::api_key_echo(ctx),
        Node::new("deposits").attr("total", 1).child(deposit),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callbacks_must_be_plain_absolute_urls() {
        assert_eq!(callback_problem("https://app.example/cb?x=1#f"), None);
        assert_eq!(callback_problem("http://127.0.0.1:9000/cb"), None);
        for bad in [
            "https://app.example/cb\r\nSet-Cookie: x=1",
            "https://app.example/c b",
            "https://app.example/\u{7f}",
            "https://bücher.example/",
            "https://app.example\\@evil.example/",
            "javascript:alert(1)",
            "https:///path",
            "https://:443/",
            "https://",
        ] {
            assert!(callback_problem(bad).is_some(), "{bad:?}");
        }
        assert!(callback_problem(&format!("https://a.example/{}", "x".repeat(2000))).is_some());
    }

    #[test]
    fn prefixes_close_the_host_and_limit_callbacks() {
        assert_eq!(callback_prefix_problem("https://app.example/"), None);
        assert_eq!(callback_prefix_problem("https://app.example:8443/cb"), None);
        assert!(callback_prefix_problem("https://app.example").is_some());
        assert!(callback_prefix_problem("https://app.example?x").is_some());
        let p = vec!["https://app.example/cb".to_string()];
        assert!(callback_allowed(&p, "https://app.example/cb?x=1"));
        assert!(!callback_allowed(&p, "https://evil.example/cb"));
        assert!(callback_allowed(&[], "https://evil.example/cb"));
    }
}
