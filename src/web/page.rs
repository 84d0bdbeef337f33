//! The frame of every page: a small, accessible HTML document (lang
//! attribute, labels, visible focus) with its own security headers.

use actix_web::http::header;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, HttpResponseBuilder};

use super::texts::{Lang, Texts};
use crate::docs::esc;

const STYLE: &str = "*{box-sizing:border-box}\
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f3f4f6;color:#1b1b1b}\
main{max-width:26rem;margin:2rem auto;background:#fff;padding:1.5rem 1.75rem;border-radius:12px;box-shadow:0 1px 4px rgba(0,0,0,.12)}\
h1{font-size:1.3rem;line-height:1.3;margin:.5rem 0 1rem}h2{font-size:1rem;margin:1.25rem 0 .5rem}\
.app{display:flex;align-items:center;gap:.9rem}.app h1{margin:0}\
.logo,.mono{width:56px;height:56px;border-radius:12px;flex:none;object-fit:cover}\
.mono{display:flex;align-items:center;justify-content:center;background:#0b57d0;color:#fff;font-size:1.6rem;font-weight:600}\
label{display:block;font-weight:600;margin:.75rem 0 .25rem}\
input[type=text],input[type=password]{width:100%;padding:.55rem .6rem;font:inherit;border:1px solid #8a8f98;border-radius:6px}\
.buttons{display:flex;gap:.75rem;margin-top:1.25rem}\
button{flex:1;font:inherit;font-weight:600;padding:.6rem 1rem;border-radius:6px;border:1px solid #0b57d0;background:#0b57d0;color:#fff;cursor:pointer}\
button.secondary{background:#fff;color:#0b57d0}\
input:focus,button:focus{outline:3px solid #f5b400;outline-offset:1px}\
.error{background:#fdecea;color:#8a1c12;border-radius:6px;padding:.5rem .75rem}\
.note{color:#4b5160;font-size:.9rem}a{color:#0b57d0}\
table{width:100%;border-collapse:collapse;font-size:.95rem}th,td{text-align:left;padding:.4rem .3rem;border-bottom:1px solid #e3e5e8;vertical-align:middle}\
td form button{padding:.3rem .6rem;font-size:.9rem}\
nav.langs{margin-top:1rem;font-size:.85rem;color:#4b5160}";

/// Content-Security-Policy of the pages: no scripts at all, styles inline,
/// logos from https only, never framed.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src https:; \
                   base-uri 'none'; frame-ancestors 'none'";

/// A complete page in `lang`; `here` is the path the language links point to.
pub fn render(lang: Lang, title: &str, body: &str, here: &str) -> String {
    let langs = [(Lang::En, "English"), (Lang::De, "Deutsch")]
        .iter()
        .map(|(l, name)| {
            if *l == lang {
                format!("<strong>{name}</strong>")
            } else {
                format!(
                    "<a href=\"{}?lang={}\" lang=\"{}\" hreflang=\"{}\">{name}</a>",
                    esc(here),
                    l.code(),
                    l.code(),
                    l.code()
                )
            }
        })
        .collect::<Vec<_>>()
        .join(" · ");
    format!(
        "<!DOCTYPE html>\n<html lang=\"{code}\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta name=\"referrer\" content=\"no-referrer\">\
<title>{title} · Panthera</title><style>{STYLE}</style></head>\
<body><main>{body}<nav class=\"langs\" aria-label=\"Language\">{langs}</nav></main></body></html>\n",
        code = lang.code(),
        title = esc(title),
    )
}

/// A page answer with the page headers (no caching comes from the middleware).
pub fn respond(status: u16, html: String) -> HttpResponse {
    builder(status).body(html)
}

/// A response builder with the page headers set.
pub fn builder(status: u16) -> HttpResponseBuilder {
    let mut b = HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::OK));
    b.insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    b
}

/// A `303 See Other` to `location` (after a form).
pub fn see_other(location: &str) -> HttpResponseBuilder {
    let mut b = builder(303);
    b.insert_header((header::LOCATION, location));
    b
}

/// `{name}` in a text replaced by an escaped value.
pub fn fill(text: &str, name: &str, value: &str) -> String {
    esc(text).replace(&format!("{{{name}}}"), &esc(value))
}

/// The page for a failure of ours (the cause goes to the log).
pub fn internal(lang: Lang, here: &str) -> HttpResponse {
    respond(
        500,
        message(lang, "Internal error", "Please try again later.", here),
    )
}

/// A `429` with `Retry-After`, after too many wrong passwords.
pub fn throttled(mut resp: HttpResponse, wait_secs: i64) -> HttpResponse {
    if let Ok(v) = header::HeaderValue::from_str(&wait_secs.to_string()) {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

/// An error or status line above a form (announced to screen readers).
pub fn alert(text: Option<&str>) -> String {
    text.map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", esc(e)))
        .unwrap_or_default()
}

/// The username and password fields of the sign-in forms.
pub fn credential_fields(t: &Texts, username: &str) -> String {
    format!(
        "<label for=\"username\">{}</label>\
<input type=\"text\" id=\"username\" name=\"username\" value=\"{}\" autocomplete=\"username\" autocapitalize=\"none\" required>\
<label for=\"password\">{}</label>\
<input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required>",
        esc(t.username),
        esc(username),
        esc(t.password)
    )
}

/// The fields the page forms post; absent ones are empty, and an
/// unreadable body reads as all empty (it then fails the CSRF check).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct Posted {
    pub csrf: String,
    pub username: String,
    pub password: String,
    /// `allow` or `deny` on the authorization page.
    pub decision: String,
    /// The token to revoke on the account page.
    pub token: String,
    pub lang: String,
}

impl Posted {
    pub fn parse(body: &[u8]) -> Posted {
        serde_urlencoded::from_bytes(body).unwrap_or_default()
    }
}

/// A simple message page.
pub fn message(lang: Lang, title: &str, body_html: &str, here: &str) -> String {
    render(
        lang,
        title,
        &format!("<h1>{}</h1><p>{body_html}</p>", esc(title)),
        here,
    )
}
