//! HTML rendering of the docs: small, no JavaScript (but try-it and the
//! search box), readable on a phone. The pages are maud templates: every
//! value is escaped unless wrapped in `PreEscaped` (only the declarations'
//! prose, escaped by [`prose`], and the guides' Markdown rendered by
//! pulldown-cmark with raw HTML turned into text).

use std::fmt::Write;

use maud::{html, Markup, PreEscaped};

use super::code::{self, Lang};
use super::samples::Samples;
use crate::methods::fields::by_path;
use crate::methods::AppState;
use crate::methods::{Method, UserAuth};
use crate::protocol::version::Version;

/// Escapes text for HTML content and attribute values of the pages.
pub fn esc(s: &str) -> String {
    crate::error::escape_html(s, crate::error::HtmlText::Page)
}

/// Inline `code` spans written with backticks in declarations.
fn prose(s: &str) -> String {
    let mut out = String::new();
    for (i, part) in esc(s).split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{part}</code>");
        } else {
            out.push_str(part);
        }
    }
    out
}

/// The one style sheet, inline: long lines wrap, tables scroll inside their
/// own box, nothing is wider than a 390 px phone.
const STYLE: &str = "*,*::before,*::after{box-sizing:border-box}\
body{font:16px/1.5 system-ui,sans-serif;max-width:84rem;margin:0 auto;padding:0 1rem;color:#1b1b1b;overflow-wrap:anywhere}\
.layout{display:flex;flex-direction:column}.content{order:1;min-width:0;padding:1rem 0}\
.sidebar{order:2;border-top:1px solid #ccc;padding:1rem 0;font-size:.95em}\
.sidebar h2{font-size:.8em;text-transform:uppercase;letter-spacing:.04em;color:#444;margin:1.2rem 0 .3rem}\
.sidebar ul{list-style:none;margin:0;padding:0}.sidebar li{margin:.15rem 0}\
.sidebar a[aria-current]{font-weight:700;color:#1b1b1b}.brand{font-weight:700;font-size:1.1em;margin:0 0 .5rem}\
.search label{display:block;font-weight:600;font-size:.9em}.search input{width:100%;padding:.35rem .45rem;border:1px solid #8a94a6;border-radius:4px;font:inherit}\
.search-status{font-size:.85em;color:#444;margin:.25rem 0}.search li small{display:block;color:#444}\
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:.5rem;background:#fff;padding:.25rem .5rem}\
.crumbs{display:flex;justify-content:space-between;gap:1rem}\
@media (min-width:62rem){.layout{flex-direction:row;gap:2rem}.sidebar{order:0;flex:0 0 17rem;border-top:0;border-right:1px solid #ddd;\
position:sticky;top:0;max-height:100vh;overflow-y:auto;padding-right:1rem}.content{flex:1;max-width:54rem}.to-menu{display:none}}\
@media (min-width:88rem){body{max-width:120rem}.content{max-width:none}\
.method{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:2rem;align-items:start}\
.examples{background:#fafbfd;border-left:1px solid #ddd;padding-left:1.5rem}}\
a{color:#0b57d0}code,pre{font-family:ui-monospace,monospace;font-size:.9em}\
pre{background:#f4f4f4;padding:.75rem;white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word;border-radius:4px;max-width:100%}\
.scroll{overflow-x:auto;max-width:100%;margin:0 0 1rem}\
table{border-collapse:collapse;width:100%}\
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top;overflow-wrap:normal;word-break:normal}\
td:last-child{min-width:14rem}th{background:#eee}nav{margin-bottom:1rem}dt{font-weight:600}dd{margin:0 0 .5rem 1rem}\
.summary{font-size:1.1em}\
.tryit{border:1px solid #b8c4e0;border-radius:8px;background:#f6f8fd;padding:.75rem 1rem;margin:1rem 0}\
.tryit h2{margin-top:0}.tryit .note{font-size:.9em;color:#444}\
.fields{display:grid;grid-template-columns:repeat(auto-fill,minmax(13rem,1fr));gap:.5rem 1rem}\
.field label{display:block;font-weight:600;font-size:.9em}\
.field input,.field select{width:100%;max-width:100%;padding:.35rem .45rem;border:1px solid #8a94a6;border-radius:4px;font:inherit;background:#fff}\
.field input:focus,.field select:focus{outline:2px solid #0b57d0;outline-offset:1px}\
.tryit button{margin-top:.75rem;padding:.45rem 1.4rem;border:0;border-radius:4px;background:#0b57d0;color:#fff;font:inherit;font-weight:600;cursor:pointer}\
.tryit button:hover{background:#0842a0}.tryit h3{font-size:1em;margin:.75rem 0 .25rem}\
.tryit pre:empty{display:none}";

/// A whole page in the one layout.
fn page(version: Version, title: &str, current: &str, body: Markup) -> String {
    super::layout::page(version, title, current, &body.into_string(), STYLE)
}

/// Pulldown's HTML made keyboard-reachable (WCAG 2.1.1) and phone-sized:
/// blocks scroll inside their own box, never the page.
fn scrollable(html: &str) -> String {
    html.replace("<pre>", "<pre tabindex=\"0\">")
        .replace(
            "<table>",
            "<div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-label=\"Table\"><table>",
        )
        .replace("</table>", "</table></div>")
}

/// The line above a page's title: home, and a way to the sidebar on a phone.
fn breadcrumb(version: Version) -> Markup {
    html! {
        nav .crumbs aria-label="Breadcrumb" {
            a href={ "/v" (version) "/" } { "Panthera API v" (version) }
            " "
            a .to-menu href="#sidebar" { "Methods and guides" }
        }
    }
}

/// A table that scrolls inside its own box on a narrow screen.
fn table(label: &str, head: &[&str], rows: Markup) -> Markup {
    html! {
        div .scroll tabindex="0" role="region" aria-label=(label) {
            table {
                thead { tr { @for h in head { th scope="col" { (h) } } } }
                tbody { (rows) }
            }
        }
    }
}

/// A preformatted block, reachable by keyboard.
fn pre(text: &str) -> Markup {
    html! { pre tabindex="0" { (text) } }
}

/// The documentation index of one version.
pub fn index(state: &AppState, version: Version) -> String {
    let b = html! {
        header {
            h1 { "Panthera API v" (version) }
            p { "A signed form-POST REST service, wire-compatible with the PantherMedia web-service. \
    Open any method URL in a browser to read its documentation; POST to it (signed) to call it." }
        }
        main {
            h2 { "Get started" }
            ol {
                li { "Get an api key and secret (" code { "panthera keys create --name myapp" } "; a demo key is printed at first start)." }
                li { "Sign: " code { "access_key = hex(HMAC_sha1(api_secret, timestamp + api_key + nonce))" } ", with "
                     code { "timestamp" } " like " code { "Thu, 26 Jul 2012 14:53:44 UTC" } " (±300 s) and a fresh " code { "nonce" } "." }
                li { "POST " code { "api_key" } ", " code { "access_key" } ", " code { "timestamp" } ", " code { "nonce" }
                     " (and " code { "algo" } ": sha1, sha256 or sha512) urlencoded to " a href="host-info" { "host-info" } "." }
                li { "Answers are XML (" code { "<rsp stat=\"ok\">" } "), or JSON with " code { "content_type=application/json" } "." }
            }
            h2 { "Guides" }
            ul { @for g in super::guides::GUIDES { li { a href={ "/guide/" (g.stem) } { (g.title) } } } }
            p {
                "Machine-readable: " a href="/openapi.json" { "OpenAPI 3.1" } ", the "
                a href={ "/v" (version) "/postman.json" } { "Postman collection" }
                " (import it, set " code { "api_key" } ", " code { "api_secret" } " and for user methods "
                code { "auth_token" } ", " code { "token_secret" } ": it signs every call), "
                code { "panthera docs export" } " (Markdown) and the " a href="get-method-info" { "get-method-info" } " method."
            }
            h2 #user-authorization { "User authorization" }
            (pre("App ──request-token (HTTPS)──▶ Panthera ──token, auth_url──▶ App\n\
    App ──opens auth_url──▶ Browser ──sign in, Allow / Deny──▶ Panthera\n\
    Panthera ──303 app_callback?token=…&status=authorized──▶ Browser\n\
    App ──get-user-profile + auth_token + access_token──▶ Panthera"))
            p {
                "Sign user calls with " code { "auth_token" } " and "
                code { "access_token = hex(HMAC_algo(token_secret, timestamp + auth_token + nonce))" } ". \
    Pending tokens live 10 minutes; an approved token used with less than 30 minutes left gains 60; "
                a href="token-valid-until" { "token-valid-until" } " sets up to 90 days. Users revoke apps at "
                a href="/account/apps" { "/account/apps" } "."
            }
            h2 #oauth { "OAuth 1.0" }
            p {
                "Instead of form credentials a call may carry an RFC 5849 " code { "Authorization: OAuth …" } " header ("
                code { "oauth_consumer_key" } " = api key, " code { "oauth_token" } " = auth_token; HMAC-SHA1, HMAC-SHA256 or HMAC-SHA512; Unix "
                code { "oauth_timestamp" } "), signed with " code { "enc(api_secret)&enc(token_secret)" }
                " over the method, URL, query, urlencoded body and oauth parameters. Never both schemes in one request."
            }
            @for (area, list) in areas(state, version) {
                h2 { (area.title()) }
                ul {
                    @for m in list {
                        li { a href={ "/v" (version) "/" (m.name) } { (m.name) } " — " (PreEscaped(prose(m.summary))) }
                    }
                }
            }
            h2 #versions { "Versions" }
            p { "What each version added or changed: the " a href="/guide/changelog" { "API changelog" }
                "; choosing a version: " a href="/guide/versions" { "Versions" } "." }
            ul {
                @for (v, st) in &state.versions.load().versions {
                    li { a href={ "/v" (v) "/" } { "v" (v) } ": " (st.as_str()) }
                }
            }
        }
    };
    page(version, &format!("API v{version}"), "", b)
}

/// The methods of `version` grouped by area, in the list's order.
fn areas(state: &AppState, version: Version) -> Vec<(crate::methods::Area, Vec<&'static Method>)> {
    let mut groups: Vec<(crate::methods::Area, Vec<&Method>)> = Vec::new();
    for m in state.registry.in_version(version) {
        match groups.last_mut() {
            Some((a, list)) if *a == m.area => list.push(m),
            _ => groups.push((m.area, vec![m])),
        }
    }
    groups
}

/// The page of one method in one version.
pub fn method_page(state: &AppState, version: Version, m: &Method, samples: &Samples) -> String {
    let base = state.public_url();
    let decls = state.registry.declarations(m.name);
    let user = match m.user_auth {
        UserAuth::Required => html! {
            "required: sign with a user token (" code { "auth_token" } " + " code { "access_token" }
            ", or an OAuth 1.0 header), see " a href="/guide/user-authorization" { "user authorization" }
        },
        UserAuth::Optional => html! {
            "optional: with a user token (" code { "auth_token" } " + " code { "access_token" }
            ", or an OAuth 1.0 header) the call acts for that user, without one for the owner of the api key"
        },
        UserAuth::No => html! { "not required" },
    };
    let host = base
        .trim_start_matches("http://")
        .trim_start_matches("https://");
    let raw = format!(
        "POST /v{version}/{name} HTTP/1.1\nHost: {host}\nUser-Agent: my-app/1.0\n\
Content-Type: application/x-www-form-urlencoded\n\n{body}",
        name = m.name,
        body = sample_body(m)
    );
    let b = html! {
        (breadcrumb(version))
        main {
            h1 { (m.name) }
            p .summary { (PreEscaped(prose(m.summary))) }
            p { (PreEscaped(prose(m.description))) }
            p {
                "Since version " (m.since) "."
                @if decls.len() > 1 {
                    " Other versions:"
                    @for d in decls.iter().filter(|d| !std::ptr::eq(**d, m)) {
                        " " a href={ "/v" (d.since) "/" (d.name) } { "v" (d.since) }
                    }
                }
            }
            div .method {
            div .reference {
            h2 #endpoint { "Endpoint" }
            (pre(&format!("POST {base}/v{version}/{}", m.name)))
            dl {
                dt { "User authentication" } dd { (user) }
                dt { "SSL" } dd { (if m.ssl { "required" } else { "not required" }) }
                dt { "Api key role" } dd { (if m.admin { "admin required" } else { "any" }) }
            }
            (try_it(version, m))
            (parameters(m))
            (errors(m))
            (answer(m))
            }
            div .examples {
            h2 #sample-request { "Sample request" }
            (pre(&raw))
            h3 { "Code" }
            p {
                "Each program reads " code { "PANTHERA_URL" } ", " code { "PANTHERA_API_KEY" } " and "
                code { "PANTHERA_API_SECRET" } " from the environment"
                @if m.user_auth != UserAuth::No {
                    ", and the user token from " code { "PANTHERA_AUTH_TOKEN" } " and " code { "PANTHERA_TOKEN_SECRET" }
                }
                "."
            }
            @for lang in Lang::ALL {
                details open[lang == Lang::Curl] {
                    summary { (lang.title()) }
                    pre tabindex="0" { code { (code::sample(lang, m, version)) } }
                }
            }
            @if let Some(s) = samples.get(m) {
                h2 #sample-answer { "Sample answer" }
                p { "Produced by running the sample above against a fresh demo database." }
                h3 { "XML" }
                (pre(&format!("HTTP/1.1 {}\nContent-Type: text/xml;charset=UTF-8\n\n{}", s.status, s.xml)))
                h3 { "JSON" }
                (pre(&format!("HTTP/1.1 {}\nContent-Type: application/json\n\n{}", s.status, pretty_json(&s.json))))
            }
            }
            }
        }
    };
    page(version, m.name, m.name, b)
}

/// The parameter table: the user-token parameters of user methods first,
/// then the method's own.
fn parameters(m: &Method) -> Markup {
    let star = html! { " " abbr title="required" { "*" } };
    let token_required = m.user_auth == UserAuth::Required;
    let required = m.params.iter().any(|p| p.required) || token_required;
    let rows = html! {
        @if m.user_auth != UserAuth::No {
            tr {
                td { code { "auth_token" } @if token_required { (star) } }
                td { "text" } td {} td {}
                td { "The user token the user approved (see " a href="/guide/user-authorization" { "user authorization" } ")." }
            }
            tr {
                td { code { "access_token" } @if token_required { (star) } }
                td { "text" } td {} td {}
                td {
                    code { "hex(HMAC_algo(token_secret, timestamp + auth_token + nonce))" } ", with the "
                    code { "timestamp" } ", " code { "nonce" } " and " code { "algo" } " of the " code { "access_key" }
                    ". Instead of both, an " code { "Authorization: OAuth …" } " header with " code { "oauth_token" }
                    " (" a href="/guide/oauth" { "OAuth 1.0" } ")."
                }
            }
        }
        @for p in m.params {
            tr {
                td { code { (p.name) } @if p.required { (star) } }
                td { (p.kind.name()) }
                td {
                    @match p.kind {
                        crate::methods::Kind::Integer { min, max } => { (min) " – " (max) }
                        _ => { (p.values.join(", ")) }
                    }
                }
                td { (p.default.unwrap_or("")) }
                td { (PreEscaped(prose(p.description))) }
            }
        }
    };
    html! {
        h2 #parameters { "Parameters" }
        p {
            "Every call also carries the " a href="/guide/app-authentication" { "app credentials" } " "
            code { "api_key" } ", " code { "access_key" } ", " code { "timestamp" } ", " code { "nonce" }
            ", optional " code { "algo" } " and " code { "content_type" } "."
        }
        @if m.params.is_empty() && m.user_auth == UserAuth::No {
            p { "This method takes no other parameters." }
        } @else {
            (table("Parameters", &["Name", "Type", "Values", "Default", "Description"], rows))
            @if required { p { "* required" } }
        }
        @if m.mutating {
            p {
                "This method changes data. Send an optional " code { "idempotency_key" }
                " (1–255 printable characters) to make retries safe: a retry with the same key within 24 hours \
    returns the first answer and changes nothing; the same key with different parameters (or another \
    PUT body) is refused with 422; while the first call still runs, a retry gets 409. Keys are kept per \
    api key and per user the call acts for: another user's call with the same key runs on its own."
            }
        }
    }
}

/// The errors the method itself returns, one row per code, and one link to
/// the errors every call can meet.
fn errors(m: &Method) -> Markup {
    let common: Vec<u16> = crate::methods::COMMON_ERRORS
        .iter()
        .map(|e| e.code)
        .collect();
    let mut rows: Vec<(u16, Vec<&str>)> = Vec::new();
    // error_docs() ends with the common errors: keep what comes before them
    let all: Vec<_> = m.error_docs().collect();
    let own = &all[..all.len().saturating_sub(common.len())];
    for e in own {
        match rows.iter_mut().find(|(c, _)| *c == e.code) {
            Some((_, meanings)) => meanings.push(e.meaning),
            None => rows.push((e.code, vec![e.meaning])),
        }
    }
    if m.user_auth != UserAuth::No && !rows.iter().any(|(c, _)| *c == 401) {
        rows.push((401, vec!["the user token is missing (where required), unknown, pending, denied, revoked or expired, or the access_token is wrong"]));
    }
    if m.ssl && !rows.iter().any(|(c, _)| *c == 403) {
        rows.push((
            403,
            vec!["Forbidden (SSL is required): the call came over plain HTTP"],
        ));
    }
    rows.sort_by_key(|(c, _)| *c);
    let common = common
        .iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    html! {
        h2 #errors { "Errors" }
        @if rows.is_empty() {
            p { "This method has no errors of its own." }
        } @else {
            (table("Errors", &["Code", "Meaning"], html! {
                @for (code, meanings) in &rows {
                    tr { td { (code) } td { (meanings.join("; ")) } }
                }
            }))
        }
        p { "Every call can also meet the " a href="/guide/errors" { "common protocol errors" } " (" (common) ")." }
    }
}

/// The answer table: every element and attribute the method answers, by
/// path (`items/media/@id`), with its type, meaning and when it is present.
fn answer(m: &Method) -> Markup {
    let all = by_path(m.answer);
    html! {
        h2 #answer { "Answer" }
        p {
            "The elements inside " code { "<rsp stat=\"ok\">" } " (in JSON, keys beside "
            code { "\"stat\"" } "): an attribute is written " code { "element/@attribute" }
            " and is a plain key in JSON; an element that repeats is an array in JSON when there are several; "
            "every value is a string (see " a href="/guide/xml-json" { "the XML ⇄ JSON rules" } ")."
        }
        (table("Answer", &["Element / attribute", "Type", "Meaning", "When present"], html! {
            @for (path, f) in &all {
                tr {
                    td { code { (path) } }
                    td { (f.ty.name()) @if f.repeated { ", repeated" } }
                    td { (PreEscaped(prose(f.meaning))) }
                    td { (PreEscaped(prose(f.presence()))) }
                }
            }
        }))
    }
}

fn pretty_json(s: &str) -> String {
    serde_json::from_str::<serde_json::Value>(s)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| s.to_string())
}

/// The try-it form; `tryit.js` signs and sends it.
fn try_it(version: Version, m: &Method) -> Markup {
    let sample = m.sample_params();
    let value = |name: &str| {
        sample
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    html! {
        section .tryit aria-labelledby="try-it" {
            h2 #try-it { "Try it" }
            form #tryit data-endpoint={ "/v" (version) "/" (m.name) } {
                p .note { "Signs in your browser (WebCrypto): the secrets never leave this page, only the signature does. Needs JavaScript." }
                div .fields {
                    div .field { label for="t-api_key" { "api_key" } input #t-api_key name="api_key" autocomplete="off" required; }
                    div .field { label for="t-api_secret" { "api_secret" } input #t-api_secret name="api_secret" type="password" autocomplete="off" required; }
                    @if m.user_auth != UserAuth::No {
                        div .field { label for="t-auth_token" { "auth_token" } input #t-auth_token name="auth_token" autocomplete="off"; }
                        div .field { label for="t-token_secret" { "token_secret" } input #t-token_secret name="token_secret" type="password" autocomplete="off"; }
                    }
                    @for p in m.params {
                        div .field {
                            label for={ "t-p-" (p.name) } { (p.name) @if p.required { " (required)" } }
                            input id={ "t-p-" (p.name) } name={ "p:" (p.name) } value=(value(p.name));
                        }
                    }
                    div .field {
                        label for="t-algo" { "algo" }
                        select #t-algo name="algo" { option { "sha1" } option { "sha256" } option { "sha512" } }
                    }
                    div .field {
                        label for="t-content_type" { "content_type" }
                        select #t-content_type name="content_type" { option value="" { "text/xml" } option { "application/json" } }
                    }
                }
                button type="submit" { "Send" }
            }
            h3 { "Raw request" } pre #tryit-request tabindex="0" {}
            h3 { "Signed strings" } pre #tryit-signed tabindex="0" {}
            h3 { "Raw answer" } pre #tryit-answer tabindex="0" aria-live="polite" {}
        }
        script src="/assets/tryit.js" defer {}
    }
}

/// A guide page.
pub fn guide(version: Version, g: &super::guides::Guide) -> String {
    let b = html! {
        (breadcrumb(version))
        main { (PreEscaped(scrollable(&super::guides::render(g.markdown)))) }
    };
    page(version, g.title, g.stem, b)
}

fn sample_body(m: &Method) -> String {
    let mut pairs = vec![
        ("api_key", "YOUR_API_KEY".to_string()),
        ("access_key", "HMAC_HEX".to_string()),
        ("timestamp", "Thu, 26 Jul 2012 14:53:44 UTC".to_string()),
        ("nonce", "Im ar andomS tring".to_string()),
        ("algo", "sha1".to_string()),
    ];
    if m.user_auth != UserAuth::No {
        pairs.push(("auth_token", "YOUR_AUTH_TOKEN".to_string()));
        pairs.push(("access_token", "HMAC_HEX_OF_THE_TOKEN".to_string()));
    }
    pairs.extend(m.sample_params());
    serde_urlencoded::to_string(&pairs).unwrap_or_default()
}

/// 404 page: the method exists in other versions.
pub fn not_in_version(version: Version, name: &str, decls: &[&Method]) -> String {
    let b = html! {
        main {
            h1 { (name) " is not in v" (version) }
            p { "It exists in:" }
            ul { @for d in decls { li { a href={ "/v" (d.since) "/" (d.name) } { "v" (d.since) } } } }
            p { a href={ "/v" (version) "/" } { "All methods of v" (version) } }
        }
    };
    page(version, "Not in this version", "", b)
}

/// 404 page: no such method.
pub fn unknown_method(version: Version, name: &str) -> String {
    let name: String = name.chars().take(64).collect();
    let b = html! {
        main {
            h1 { "No method " (name) }
            p { "See " a href={ "/v" (version) "/" } { "the methods of v" (version) } "." }
        }
    };
    page(version, "Unknown method", "", b)
}
