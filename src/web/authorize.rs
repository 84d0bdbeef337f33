//! The authorization page at a token's `auth_url`: the user sees which app
//! asks, signs in and allows it, or denies it (no sign-in needed to say no);
//! then the browser goes to the app's callback or is told to close the window.
//! Only a signed-in decision goes to the callback: an anonymous Deny would
//! let anyone use this page to send visitors to any URL (an open redirect).

use std::sync::Arc;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};

use super::page::{self, fill, Posted};
use super::signin::{self, SignIn};
use super::texts::{Lang, Texts};
use super::{cookies, csrf, session};
use crate::docs::esc;
use crate::methods::AppState;
use crate::ops::forwarded;
use crate::protocol::user_auth::PENDING_LIFE_SECS;
use crate::store::tokens::{Token, TokenState};
use crate::store::StoreError;

const PURPOSE: &str = "authorize";

/// The page language: `?lang=`, else the one the app asked for.
fn lang(req: &HttpRequest, token_lang: &str) -> Lang {
    Lang::from_query(req.query_string())
        .or_else(|| Lang::parse(token_lang))
        .unwrap_or(Lang::En)
}

fn here(token: &str) -> String {
    format!("/auth/{token}")
}

/// Loads a token still waiting for an answer; else the page to show instead.
fn pending(state: &AppState, req: &HttpRequest, id: &str) -> Result<Token, Box<HttpResponse>> {
    let found = state.store.tokens().find(id).map_err(|e| {
        tracing::error!(error = %e, "token lookup failed");
        Box::new(page::internal(Lang::En, &here(id)))
    })?;
    let now = state.clock.now();
    match found {
        Some(t) if t.state == TokenState::Pending && t.valid_until >= now => Ok(t),
        other => {
            let l = lang(req, other.as_ref().map_or("en", |t| t.lang.as_str()));
            let status = if other.is_some() { 410 } else { 404 };
            Err(Box::new(gone(l, status, id)))
        }
    }
}

/// The name the requesting api key was registered under: unlike `app_name`,
/// the app cannot choose it per request, so it helps the user spot a fake.
fn key_name(state: &AppState, token: &Token) -> String {
    state
        .store
        .keys()
        .find(&token.api_key, state.clock.now())
        .ok()
        .flatten()
        .map_or_else(|| token.api_key.clone(), |k| k.name)
}

/// The page for a token that is unknown, expired or already answered.
fn gone(l: Lang, status: u16, id: &str) -> HttpResponse {
    let t = l.texts();
    page::respond(
        status,
        page::message(l, t.gone_title, &esc(t.gone_body), &here(id)),
    )
}

/// The app's logo, or its initial when it has none.
fn logo(token: &Token) -> String {
    if token.app_logo.is_empty() {
        let initial = token
            .app_name
            .chars()
            .next()
            .unwrap_or('?')
            .to_uppercase()
            .to_string();
        format!(
            "<span class=\"mono\" aria-hidden=\"true\">{}</span>",
            esc(&initial)
        )
    } else {
        format!(
            "<img class=\"logo\" src=\"{}\" alt=\"\" width=\"56\" height=\"56\">",
            esc(&token.app_logo)
        )
    }
}

/// The form, with an optional message above the fields.
fn form_page(
    state: &AppState,
    lang: Lang,
    token: &Token,
    browser: &str,
    error: Option<&str>,
    username: &str,
) -> String {
    let t: &Texts = lang.texts();
    let csrf_token = csrf::token(&state.server_key, PURPOSE, &token.token, browser);
    let body = format!(
        "<div class=\"app\">{logo}<h1>{heading}</h1></div>\
<p>{explain}</p><p class=\"note\">{registered}</p>\
<form method=\"post\" action=\"{action}\">\
<input type=\"hidden\" name=\"csrf\" value=\"{csrf_token}\">\
<input type=\"hidden\" name=\"lang\" value=\"{code}\">\
<h2>{sign_in}</h2>{error}{fields}\
<div class=\"buttons\"><button type=\"submit\" name=\"decision\" value=\"allow\">{allow}</button>\
<button type=\"submit\" name=\"decision\" value=\"deny\" class=\"secondary\" formnovalidate>{deny}</button></div>\
</form>\
<p class=\"note\">{hint} <a href=\"/account/apps?lang={code}\">{apps}</a>.</p>",
        logo = logo(token),
        heading = fill(t.authorize_heading, "app", &token.app_name),
        explain = esc(t.authorize_explain),
        registered = fill(t.registered_as, "key", &key_name(state, token)),
        action = esc(&here(&token.token)),
        code = lang.code(),
        sign_in = esc(t.sign_in_to_allow),
        error = page::alert(error),
        fields = page::credential_fields(t, username),
        allow = esc(t.allow),
        deny = esc(t.deny),
        hint = esc(t.manage_hint),
        apps = esc(t.your_apps),
    );
    page::render(lang, t.authorize_title, &body, &here(&token.token))
}

/// The form as an answer, setting the CSRF cookie when the browser has none.
fn form_response(
    state: &AppState,
    req: &HttpRequest,
    status: u16,
    lang: Lang,
    token: &Token,
    error: Option<&str>,
    username: &str,
) -> HttpResponse {
    let (browser, new) = csrf::browser_id(req, cookies::secure(state, req));
    let mut b = page::builder(status);
    csrf::remember(&mut b, state, req, &browser, new);
    b.body(form_page(state, lang, token, &browser, error, username))
}

/// `GET /auth/{token}`.
pub async fn show(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> HttpResponse {
    match pending(&state, &req, &path) {
        Ok(token) => {
            let l = lang(&req, &token.lang);
            form_response(&state, &req, 200, l, &token, None, "")
        }
        Err(page) => *page,
    }
}

/// `POST /auth/{token}`.
pub async fn decide(
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    let state: Arc<AppState> = state.into_inner();
    let token = match pending(&state, &req, &path) {
        Ok(t) => t,
        Err(page) => return *page,
    };
    let form = Posted::parse(&body);
    let l = Lang::parse(&form.lang).unwrap_or_else(|| lang(&req, &token.lang));
    let t = l.texts();
    let secure = cookies::secure(&state, &req);
    if !csrf::check(
        &state.server_key,
        PURPOSE,
        &token.token,
        &req,
        secure,
        &form.csrf,
    ) {
        return form_response(
            &state,
            &req,
            403,
            l,
            &token,
            Some(t.form_expired),
            &form.username,
        );
    }
    let now = state.clock.now();
    match form.decision.as_str() {
        "deny" => {
            // No password needed to say no; but only a browser signed in
            // (a session) is sent on to the app's callback.
            let signed_in = session::current(&state, &req).is_some();
            let done = state.store.tokens().decide(
                &token.token,
                TokenState::Denied,
                None,
                now,
                token.valid_until,
            );
            let decided = Decided {
                state: TokenState::Denied,
                signed_in: None,
                to_callback: signed_in,
            };
            finish(&state, &req, l, &token, done, decided)
        }
        "allow" => {
            let addr = forwarded::client_ip(&req, &state.ops.trusted_proxies);
            let outcome = signin::attempt(
                Arc::clone(&state),
                form.username.trim().to_string(),
                form.password,
                addr,
            )
            .await;
            match outcome {
                Ok(SignIn::Ok(user)) => {
                    let until = now + PENDING_LIFE_SECS;
                    let done = state.store.tokens().decide(
                        &token.token,
                        TokenState::Authorized,
                        Some(&user.id),
                        now,
                        until,
                    );
                    let decided = Decided {
                        state: TokenState::Authorized,
                        signed_in: Some(&user.id),
                        to_callback: true,
                    };
                    finish(&state, &req, l, &token, done, decided)
                }
                Ok(SignIn::Wrong) => form_response(
                    &state,
                    &req,
                    401,
                    l,
                    &token,
                    Some(t.wrong_credentials),
                    &form.username,
                ),
                Ok(SignIn::Inactive) => form_response(
                    &state,
                    &req,
                    403,
                    l,
                    &token,
                    Some(t.inactive),
                    &form.username,
                ),
                Ok(SignIn::Throttled(wait)) => {
                    let msg = t.throttled.replace("{n}", &wait.to_string());
                    let resp =
                        form_response(&state, &req, 429, l, &token, Some(&msg), &form.username);
                    page::throttled(resp, wait)
                }
                Err(e) => {
                    tracing::error!(error = %e, "sign-in failed");
                    page::internal(l, &here(&token.token))
                }
            }
        }
        _ => form_response(&state, &req, 400, l, &token, None, &form.username),
    }
}

/// What was decided, and by whom.
struct Decided<'a> {
    state: TokenState,
    /// The user who signed in with this decision: stays signed in.
    signed_in: Option<&'a str>,
    /// A signed-in decision: the browser may go on to the app's callback.
    to_callback: bool,
}

/// After the decision: to the app's callback (signed-in decisions only), or
/// the close-this-window page; a user who signed in stays signed in for the
/// account page.
fn finish(
    state: &AppState,
    req: &HttpRequest,
    l: Lang,
    token: &Token,
    done: Result<bool, StoreError>,
    decided: Decided<'_>,
) -> HttpResponse {
    let outcome = decided.state;
    let t = l.texts();
    match done {
        Ok(true) => {}
        Ok(false) => return gone(l, 410, &token.token),
        Err(e) => {
            tracing::error!(error = %e, "storing the decision failed");
            return page::internal(l, &here(&token.token));
        }
    }
    let status = if outcome == TokenState::Authorized {
        "authorized"
    } else {
        "denied"
    };
    tracing::info!(token_app = %token.app_name, status, "token decided");
    let location = decided
        .to_callback
        .then(|| redirect_to(&token.app_callback, &token.token, status))
        .flatten();
    let mut b = match location {
        Some(location) => {
            let mut b = page::builder(303);
            b.insert_header((header::LOCATION, location));
            b
        }
        None => page::builder(200),
    };
    if let Some(user_id) = decided.signed_in {
        if let Err(e) = session::start(&mut b, state, req, user_id) {
            tracing::warn!(error = %e, "no session after authorizing");
        }
    }
    let (title, body) = if outcome == TokenState::Authorized {
        (t.authorized_title, t.authorized_body)
    } else {
        (t.denied_title, t.denied_body)
    };
    b.body(page::message(
        l,
        title,
        &fill(body, "app", &token.app_name),
        &here(&token.token),
    ))
}

/// The `Location` of the callback, when there is one that is safe to send:
/// request-token checks callbacks, but a value stored before it did (control
/// characters, another scheme) must not become a broken header or a 500; the
/// close-this-window page serves instead.
fn redirect_to(callback: &str, token: &str, status: &str) -> Option<HeaderValue> {
    if callback.is_empty() {
        return None;
    }
    if let Some(why) = crate::methods::tokens::callback_problem(callback) {
        tracing::warn!(
            why,
            "stored app_callback not usable, showing the page instead"
        );
        return None;
    }
    HeaderValue::from_str(&callback_url(callback, token, status)).ok()
}

/// `callback?token=…&status=…`, keeping a query the callback already has.
pub fn callback_url(callback: &str, token: &str, status: &str) -> String {
    let (base, fragment) = callback
        .split_once('#')
        .map_or((callback, None), |(b, f)| (b, Some(f)));
    let sep = if base.contains('?') { '&' } else { '?' };
    let query =
        serde_urlencoded::to_string([("token", token), ("status", status)]).unwrap_or_default();
    match fragment {
        Some(f) => format!("{base}{sep}{query}#{f}"),
        None => format!("{base}{sep}{query}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callbacks_keep_their_query_and_fragment() {
        assert_eq!(
            callback_url("https://a.example/cb", "t1", "authorized"),
            "https://a.example/cb?token=t1&status=authorized"
        );
        assert_eq!(
            callback_url("https://a.example/cb?x=1#f", "t1", "denied"),
            "https://a.example/cb?x=1&token=t1&status=denied#f"
        );
    }

    #[test]
    fn unusable_stored_callbacks_give_no_location() {
        assert!(redirect_to("", "t1", "denied").is_none());
        assert!(redirect_to("https://a.example/cb\r\nX: y", "t1", "denied").is_none());
        assert!(redirect_to("javascript:alert(1)", "t1", "denied").is_none());
        assert!(redirect_to("https://bücher.example/", "t1", "denied").is_none());
        assert_eq!(
            redirect_to("https://a.example/cb", "t1", "denied").unwrap(),
            "https://a.example/cb?token=t1&status=denied"
        );
    }
}
