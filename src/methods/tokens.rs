//! Tokens and the signed-in user (methods.md §B): an app asks for a token,
//! the user approves it in a browser (`web::authorize`), and the app signs
//! user calls with it (protocol.md §4).

use super::{Area, Ctx, ErrorDoc, Kind, Method, Param, UserAuth, Verb};
use crate::answer::tree::{Answer, Node};
use crate::error::ApiError;
use crate::protocol::timestamp::Timestamp;
use crate::protocol::user_auth::{self, Account, TokenRefusal, PENDING_LIFE_SECS};
use crate::protocol::version::Version;
use crate::store::balances;
use crate::store::tokens::{self, Token, TokenState};

const V1_0: Version = Version::new(1, 0);

/// Longest accepted token secret, in bytes.
const MAX_SECRET_BYTES: usize = 256;
/// Longest app name, in characters.
const MAX_APP_NAME_CHARS: usize = 100;

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
        "Where the browser goes after the user decided, with `token` and \
         `status=authorized|denied` appended; without it the user is asked to close the window.",
    )
    .kind(Kind::Url),
    Param::new("lang", "Language of the authorization page.")
        .kind(Kind::Choice)
        .values(PAGE_LANGS)
        .default("en"),
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

pub fn methods() -> Vec<Method> {
    vec![
        Method {
            name: "request-token",
            area: Area::Tokens,
            since: V1_0,
            until: None,
            summary: "Starts the user authorization: a pending token and the page the user approves it at.",
            description: "Send the user's browser to `auth_url`; there they sign in and allow or \
                deny your app. The pending token is valid 10 minutes. Once allowed, sign user \
                calls with `auth_token` = `token` and `access_token` = \
                hex(HMAC_algo(token_secret, timestamp || auth_token || nonce)). HTTPS only.",
            params: REQUEST_TOKEN_PARAMS,
            user_auth: UserAuth::No,
            admin: false,
            mutating: true,
            ssl: true,
            verbs: &[Verb::Post],
            errors: &[ErrorDoc {
                code: 422,
                meaning: "token_secret or app_name too long, or app_logo not an https URL",
            }],
            sample: &[("token_secret", "MySecret"), ("app_name", "My Photo App")],
            handler: request_token,
            inline: false,
        },
        Method {
            name: "token-valid-until",
            area: Area::Tokens,
            since: V1_0,
            until: None,
            summary: "Sets when the token of this call expires, at most 90 days ahead.",
            description: "Tokens are extended by 60 minutes whenever they are used with less \
                than 30 minutes left; this sets a longer (or shorter) life outright.",
            params: VALID_UNTIL_PARAMS,
            user_auth: UserAuth::Required,
            admin: false,
            mutating: true,
            ssl: false,
            verbs: &[Verb::Post],
            errors: VALID_UNTIL_ERRORS,
            sample: &[("valid_until", "{now+30d}")],
            handler: token_valid_until,
            inline: false,
        },
        Method {
            name: "get-user-profile",
            area: Area::Tokens,
            since: V1_0,
            until: None,
            summary: "The signed-in user's profile and the expiry of the token.",
            description: "Answers the account the token acts for.",
            params: &[],
            user_auth: UserAuth::Required,
            admin: false,
            mutating: false,
            ssl: false,
            verbs: &[Verb::Post],
            errors: TOKEN_ERRORS,
            sample: &[],
            handler: user_profile,
            inline: false,
        },
        Method {
            name: "get-user-deposit",
            area: Area::Tokens,
            since: V1_0,
            until: None,
            summary: "The prepaid deposits of the user.",
            description: "With a token: the token's user. Without one: the account that owns the api key.",
            params: DEPOSIT_PARAMS,
            user_auth: UserAuth::Optional,
            admin: false,
            mutating: false,
            ssl: false,
            verbs: &[Verb::Post],
            errors: TOKEN_ERRORS,
            sample: &[],
            handler: user_deposit,
            inline: false,
        },
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
    let now = ctx.state.clock.now();
    let token = Token {
        token: tokens::new_id(),
        api_key: ctx.key.api_key.clone(),
        user_id: None,
        app_name: app_name.to_string(),
        app_logo: app_logo.to_string(),
        app_callback: arg("app_callback").to_string(),
        lang: arg("lang").to_string(),
        state: TokenState::Pending,
        created_at: now,
        decided_at: None,
        valid_until: now + PENDING_LIFE_SECS,
        last_used_at: None,
    };
    ctx.state.store.with(|c| {
        let sealed = tokens::seal_secret(ctx.state.store.keyring(), &token.token, secret)?;
        tokens::insert(c, &token, &sealed)
    })?;
    Ok(Answer::new(vec![
        Node::leaf("token", token.token.clone()),
        Node::leaf("auth_url", format!("{}/auth/{}", ctx.base_url, token.token)),
        Node::leaf(
            "valid_until",
            Timestamp::from_unix(token.valid_until).format(),
        ),
    ]))
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
        .with(|c| tokens::set_valid_until(c, &token.token, until))?;
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
    let d = ctx
        .state
        .store
        .with(|c| balances::get(c, &account.user.id))?;
    let deposit = Node::new("deposit")
        .attr("type", "credits")
        .attr("name", deposit_name(lang))
        .attr("deposit-remaining", d.credits)
        .attr("deposit-total", d.total)
        .attr("currency", &d.currency)
        .attr("valid-until", "");
    Ok(Answer::one(
        Node::new("deposits").attr("total", 1).child(deposit),
    ))
}
