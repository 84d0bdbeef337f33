//! The account page: a signed-in user sees the apps they allowed and revokes
//! them. Signing in here (or on the authorization page) starts a session.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use super::page::{self, fill, Posted};
use super::signin::{self, SignIn};
use super::texts::Lang;
use super::{cookies, csrf, session};
use crate::docs::esc;
use crate::methods::AppState;
use crate::ops::forwarded;
use crate::protocol::timestamp::Timestamp;
use crate::store::users;

const HERE: &str = "/account/apps";
const SIGNIN_PURPOSE: &str = "signin";
const ACCOUNT_PURPOSE: &str = "account";

fn lang(req: &HttpRequest, form_lang: Option<&str>) -> Lang {
    form_lang
        .and_then(Lang::parse)
        .or_else(|| Lang::from_query(req.query_string()))
        .or_else(|| {
            req.headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or(Lang::En)
}

fn internal(l: Lang) -> HttpResponse {
    page::internal(l, HERE)
}

fn signin_page(
    state: &AppState,
    req: &HttpRequest,
    status: u16,
    l: Lang,
    error: Option<&str>,
) -> HttpResponse {
    let t = l.texts();
    let (browser, new) = csrf::browser_id(req, cookies::secure(state, req));
    let token = csrf::token(&state.server_key, SIGNIN_PURPOSE, "", &browser);
    let body = format!(
        "<h1>{apps}</h1><p>{intro}</p>{error}\
<form method=\"post\" action=\"/account/signin\">\
<input type=\"hidden\" name=\"csrf\" value=\"{token}\"><input type=\"hidden\" name=\"lang\" value=\"{code}\">\
{fields}\
<div class=\"buttons\"><button type=\"submit\">{sign_in}</button></div></form>",
        apps = esc(t.your_apps),
        intro = esc(t.sign_in_intro),
        code = l.code(),
        error = page::alert(error),
        fields = page::credential_fields(t, ""),
        sign_in = esc(t.sign_in),
    );
    let mut b = page::builder(status);
    csrf::remember(&mut b, state, req, &browser, new);
    b.body(page::render(l, t.your_apps, &body, HERE))
}

/// `GET /account/apps`: the allowed apps, or the sign-in form.
pub async fn show(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let l = lang(&req, None);
    let Some((session_id, user)) = session::current(&state, &req) else {
        return signin_page(&state, &req, 200, l, None);
    };
    let t = l.texts();
    let now = state.clock.now();
    let Ok(list) = state.store.tokens().authorized_for_user(&user.id, now) else {
        return internal(l);
    };
    let csrf_token = csrf::token(&state.server_key, ACCOUNT_PURPOSE, &session_id, "");
    let revoked = req.query_string().split('&').any(|p| p == "revoked=1");
    let mut body = format!(
        "<h1>{}</h1><p>{}</p>",
        esc(t.your_apps),
        fill(t.signed_in_as, "user", &user.username)
    );
    if revoked {
        body.push_str(&format!("<p role=\"status\">{}</p>", esc(t.revoked)));
    }
    if list.is_empty() {
        body.push_str(&format!("<p>{}</p>", esc(t.no_apps)));
    } else {
        body.push_str(&format!(
            "<p>{}</p><table><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\"><span class=\"note\">{}</span></th></tr></thead><tbody>",
            esc(t.apps_intro),
            esc(t.app),
            esc(t.allowed_on),
            esc(t.valid_until),
            esc(t.revoke)
        ));
        for tok in &list {
            let day = |ts: i64| {
                let f = Timestamp::from_unix(ts).format();
                f.get(5..16).unwrap_or(&f).to_string()
            };
            body.push_str(&format!(
                "<tr><td>{name}</td><td>{allowed}</td><td>{until}</td><td><form method=\"post\" action=\"/account/apps/revoke\">\
<input type=\"hidden\" name=\"csrf\" value=\"{csrf_token}\"><input type=\"hidden\" name=\"token\" value=\"{id}\">\
<input type=\"hidden\" name=\"lang\" value=\"{code}\">\
<button type=\"submit\" class=\"secondary\" aria-label=\"{revoke} {name}\">{revoke}</button></form></td></tr>",
                name = esc(&tok.app_name),
                allowed = esc(&day(tok.decided_at.unwrap_or(tok.created_at))),
                until = esc(&Timestamp::from_unix(tok.valid_until).format()),
                id = esc(&tok.token),
                code = l.code(),
                revoke = esc(t.revoke),
            ));
        }
        body.push_str("</tbody></table>");
    }
    body.push_str(&format!(
        "<form method=\"post\" action=\"/account/signout\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf_token}\">\
<div class=\"buttons\"><button type=\"submit\" class=\"secondary\">{}</button></div></form>",
        esc(t.sign_out)
    ));
    page::respond(200, page::render(l, t.your_apps, &body, HERE))
}

/// `POST /account/signin`.
pub async fn sign_in(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    let state: Arc<AppState> = state.into_inner();
    let f = Posted::parse(&body);
    let l = lang(&req, Some(&f.lang));
    let t = l.texts();
    let secure = cookies::secure(&state, &req);
    if !csrf::check(&state.server_key, SIGNIN_PURPOSE, "", &req, secure, &f.csrf) {
        return signin_page(&state, &req, 403, l, Some(t.form_expired));
    }
    let addr = forwarded::client_ip(&req, &state.ops.trusted_proxies);
    match signin::attempt(
        Arc::clone(&state),
        f.username.trim().to_string(),
        f.password,
        addr,
    )
    .await
    {
        Ok(SignIn::Ok(user)) => {
            let mut b = page::see_other(&format!("{HERE}?lang={}", l.code()));
            match session::start(&mut b, &state, &req, &user.id) {
                Ok(()) => b.finish(),
                Err(_) => internal(l),
            }
        }
        Ok(SignIn::Wrong) => signin_page(&state, &req, 401, l, Some(t.wrong_credentials)),
        Ok(SignIn::Inactive) => signin_page(&state, &req, 403, l, Some(t.inactive)),
        Ok(SignIn::Throttled(wait)) => {
            let resp = signin_page(
                &state,
                &req,
                429,
                l,
                Some(&t.throttled.replace("{n}", &wait.to_string())),
            );
            page::throttled(resp, wait)
        }
        Err(e) => {
            tracing::error!(error = %e, "sign-in failed");
            internal(l)
        }
    }
}

/// The signed-in session of a form post, with its CSRF token checked.
fn checked_session(
    state: &AppState,
    req: &HttpRequest,
    f: &Posted,
) -> Option<(String, users::User)> {
    let (id, user) = session::current(state, req)?;
    csrf::verify(&state.server_key, ACCOUNT_PURPOSE, &id, "", &f.csrf).then_some((id, user))
}

/// `POST /account/apps/revoke`: withdraws one of the user's tokens.
pub async fn revoke(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    let f = Posted::parse(&body);
    let l = lang(&req, Some(&f.lang));
    let Some((_, user)) = checked_session(&state, &req, &f) else {
        return signin_page(&state, &req, 403, l, Some(l.texts().form_expired));
    };
    let now = state.clock.now();
    match state.store.tokens().revoke(&f.token, &user.id, now) {
        Ok(true) => page::see_other(&format!("{HERE}?lang={}&revoked=1", l.code())).finish(),
        Ok(false) => page::see_other(&format!("{HERE}?lang={}", l.code())).finish(),
        Err(_) => internal(l),
    }
}

/// `POST /account/signout`.
pub async fn sign_out(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    let f = Posted::parse(&body);
    let l = lang(&req, Some(&f.lang));
    let mut b = page::see_other(HERE);
    if let Some((id, _)) = checked_session(&state, &req, &f) {
        if session::end(&mut b, &state, &req, &id).is_err() {
            return internal(l);
        }
    }
    b.finish()
}
