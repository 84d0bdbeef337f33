//! HTML rendering of the docs: small, no JavaScript, readable on a phone.

use std::fmt::Write;

use super::code::{self, Lang};
use super::samples::Samples;
use crate::app::AppState;
use crate::methods::{Method, UserAuth};
use crate::protocol::version::Version;

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
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

fn page(version: Version, title: &str, current: &str, body: &str) -> String {
    // Scrollable blocks must be reachable by keyboard (WCAG 2.1.1).
    let body = body
        .replace("<pre>", "<pre tabindex=\"0\">")
        .replace("<pre id=", "<pre tabindex=\"0\" id=")
        // a wide table scrolls inside its own box, never the page
        .replace(
            "<table>",
            "<div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-label=\"Table\"><table>",
        )
        .replace("</table>", "</table></div>");
    super::layout::page(version, title, current, &body, STYLE)
}

/// The line above a page's title: home, and a way to the sidebar on a phone.
fn breadcrumb(version: Version) -> String {
    format!(
        "<nav aria-label=\"Breadcrumb\" class=\"crumbs\"><a href=\"/v{version}/\">Panthera API v{version}</a> \
<a class=\"to-menu\" href=\"#sidebar\">Methods and guides</a></nav>"
    )
}

/// The documentation index of one version.
pub fn index(state: &AppState, version: Version) -> String {
    let mut b = String::new();
    let _ = write!(
        b,
        "<header><h1>Panthera API v{version}</h1><p>A signed form-POST REST service, \
wire-compatible with the PantherMedia web-service. Open any method URL in a browser to \
read its documentation; POST to it (signed) to call it.</p></header><main>"
    );
    b.push_str("<h2>Get started</h2><ol><li>Get an api key and secret (<code>panthera keys create --name myapp</code>; a demo key is printed at first start).</li>\
<li>Sign: <code>access_key = hex(HMAC_sha1(api_secret, timestamp + api_key + nonce))</code>, with <code>timestamp</code> like <code>Thu, 26 Jul 2012 14:53:44 UTC</code> (±300 s) and a fresh <code>nonce</code>.</li>\
<li>POST <code>api_key</code>, <code>access_key</code>, <code>timestamp</code>, <code>nonce</code> (and <code>algo</code>: sha1, sha256 or sha512) urlencoded to <a href=\"host-info\">host-info</a>.</li>\
<li>Answers are XML (<code>&lt;rsp stat=\"ok\"&gt;</code>), or JSON with <code>content_type=application/json</code>.</li></ol>");
    b.push_str("<h2>Guides</h2><ul>");
    for g in super::guides::GUIDES {
        let _ = write!(
            b,
            "<li><a href=\"/guide/{}\">{}</a></li>",
            g.stem,
            esc(g.title)
        );
    }
    b.push_str("</ul>");
    let _ = write!(
        b,
        "<p>Machine-readable: <a href=\"/openapi.json\">OpenAPI 3.1</a>, the \
<a href=\"/v{version}/postman.json\">Postman collection</a> (import it, set <code>api_key</code>, <code>api_secret</code> \
and for user methods <code>auth_token</code>, <code>token_secret</code>: it signs every call), \
<code>panthera docs export</code> (Markdown) and the \
<a href=\"get-method-info\">get-method-info</a> method.</p>"
    );
    b.push_str("<h2 id=\"user-authorization\">User authorization</h2>\
<pre>App ──request-token (HTTPS)──▶ Panthera ──token, auth_url──▶ App
App ──opens auth_url──▶ Browser ──sign in, Allow / Deny──▶ Panthera
Panthera ──303 app_callback?token=…&amp;status=authorized──▶ Browser
App ──get-user-profile + auth_token + access_token──▶ Panthera</pre>\
<p>Sign user calls with <code>auth_token</code> and <code>access_token = hex(HMAC_algo(token_secret, timestamp + auth_token + nonce))</code>. \
Pending tokens live 10 minutes; an approved token used with less than 30 minutes left gains 60; <a href=\"token-valid-until\">token-valid-until</a> sets up to 90 days. \
Users revoke apps at <a href=\"/account/apps\">/account/apps</a>.</p>\
<h2 id=\"oauth\">OAuth 1.0</h2><p>Instead of form credentials a call may carry an RFC 5849 <code>Authorization: OAuth …</code> header \
(<code>oauth_consumer_key</code> = api key, <code>oauth_token</code> = auth_token; HMAC-SHA1, HMAC-SHA256 or HMAC-SHA512; Unix <code>oauth_timestamp</code>), \
signed with <code>enc(api_secret)&amp;enc(token_secret)</code> over the method, URL, query, urlencoded body and oauth parameters. Never both schemes in one request.</p>");
    let mut area = None;
    for m in state.registry.in_version(version) {
        if area != Some(m.area) {
            if area.is_some() {
                b.push_str("</ul>");
            }
            let _ = write!(b, "<h2>{}</h2><ul>", esc(m.area.title()));
            area = Some(m.area);
        }
        let _ = write!(
            b,
            "<li><a href=\"/v{version}/{n}\">{n}</a> — {}</li>",
            prose(m.summary),
            n = m.name
        );
    }
    if area.is_some() {
        b.push_str("</ul>");
    }
    b.push_str("<h2 id=\"versions\">Versions</h2><p>What each version added or changed: the \
<a href=\"/guide/changelog\">API changelog</a>; choosing a version: <a href=\"/guide/versions\">Versions</a>.</p><ul>");
    for (v, s) in &state.versions.load().versions {
        let _ = write!(b, "<li><a href=\"/v{v}/\">v{v}</a>: {}</li>", s.as_str());
    }
    b.push_str("</ul></main>");
    page(version, &format!("API v{version}"), "", &b)
}

/// The page of one method in one version.
pub fn method_page(state: &AppState, version: Version, m: &Method, samples: &Samples) -> String {
    let base = state.public_url();
    let mut b = String::new();
    let _ = write!(
        b,
        "{crumbs}<main><h1>{name}</h1>\
<p class=\"summary\">{summary}</p><p>{desc}</p>",
        crumbs = breadcrumb(version),
        name = m.name,
        summary = prose(m.summary),
        desc = prose(m.description)
    );
    let decls = state.registry.declarations(m.name);
    let _ = write!(b, "<p>Since version {}.", m.since);
    if decls.len() > 1 {
        b.push_str(" Other versions:");
        for d in decls.iter().filter(|d| !std::ptr::eq(**d, m)) {
            let _ = write!(
                b,
                " <a href=\"/v{v}/{n}\">v{v}</a>",
                v = d.since,
                n = d.name
            );
        }
    }
    b.push_str("</p>");
    let user = match m.user_auth {
        UserAuth::Required => "required: sign with a user token (<code>auth_token</code> + <code>access_token</code>, or an OAuth 1.0 header), see <a href=\"/guide/user-authorization\">user authorization</a>",
        UserAuth::Optional => "optional: with a user token (<code>auth_token</code> + <code>access_token</code>, or an OAuth 1.0 header) the call acts for that user, without one for the owner of the api key",
        UserAuth::No => "not required",
    };
    let _ = write!(
        b,
        "<h2 id=\"endpoint\">Endpoint</h2><pre>POST {base}/v{version}/{name}</pre>\
<dl><dt>User authentication</dt><dd>{user}</dd><dt>SSL</dt><dd>{ssl}</dd>\
<dt>Api key role</dt><dd>{role}</dd></dl>",
        name = m.name,
        ssl = if m.ssl { "required" } else { "not required" },
        role = if m.admin { "admin required" } else { "any" }
    );
    try_it(&mut b, version, m);
    parameters(&mut b, m);
    errors(&mut b, m);
    let sample_body = sample_body(m);
    let _ = write!(
        b,
        "<h2 id=\"sample-request\">Sample request</h2><pre>POST /v{version}/{name} HTTP/1.1\nHost: {host}\nUser-Agent: my-app/1.0\n\
Content-Type: application/x-www-form-urlencoded\n\n{body}</pre>",
        name = m.name,
        host = esc(base.trim_start_matches("http://").trim_start_matches("https://")),
        body = esc(&sample_body),
    );
    b.push_str("<h3>Code</h3><p>Each program reads <code>PANTHERA_URL</code>, <code>PANTHERA_API_KEY</code> \
and <code>PANTHERA_API_SECRET</code> from the environment");
    if m.user_auth != UserAuth::No {
        b.push_str(", and the user token from <code>PANTHERA_AUTH_TOKEN</code> and <code>PANTHERA_TOKEN_SECRET</code>");
    }
    b.push_str(".</p>");
    for lang in Lang::ALL {
        let _ = write!(
            b,
            "<details{open}><summary>{}</summary><pre><code>{}</code></pre></details>",
            lang.title(),
            esc(&code::sample(lang, m, version)),
            open = if lang == Lang::Curl { " open" } else { "" }
        );
    }
    if let Some(s) = samples.get(m) {
        let _ = write!(
            b,
            "<h2 id=\"sample-answer\">Sample answer</h2><p>Produced by running the sample above against a fresh demo database.</p>\
<h3>XML</h3><pre>HTTP/1.1 {status}\nContent-Type: text/xml;charset=UTF-8\n\n{xml}</pre>\
<h3>JSON</h3><pre>HTTP/1.1 {status}\nContent-Type: application/json\n\n{json}</pre>",
            status = s.status,
            xml = esc(&s.xml),
            json = esc(&pretty_json(&s.json))
        );
    }
    b.push_str("</main>");
    page(version, m.name, m.name, &b)
}

/// The parameter table: the user-token parameters of user methods first,
/// then the method's own.
fn parameters(b: &mut String, m: &Method) {
    b.push_str("<h2 id=\"parameters\">Parameters</h2><p>Every call also carries the <a href=\"/guide/app-authentication\">app credentials</a> \
<code>api_key</code>, <code>access_key</code>, <code>timestamp</code>, <code>nonce</code>, optional <code>algo</code> and <code>content_type</code>.</p>");
    if m.params.is_empty() && m.user_auth == UserAuth::No {
        b.push_str("<p>This method takes no other parameters.</p>");
        return;
    }
    b.push_str("<table><thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Type</th><th scope=\"col\">Values</th><th scope=\"col\">Default</th><th scope=\"col\">Description</th></tr></thead><tbody>");
    let star = " <abbr title=\"required\">*</abbr>";
    if m.user_auth != UserAuth::No {
        let req = if m.user_auth == UserAuth::Required {
            star
        } else {
            ""
        };
        let _ = write!(
            b,
            "<tr><td><code>auth_token</code>{req}</td><td>text</td><td></td><td></td><td>The user token the user approved (see <a href=\"/guide/user-authorization\">user authorization</a>).</td></tr>\
<tr><td><code>access_token</code>{req}</td><td>text</td><td></td><td></td><td><code>hex(HMAC_algo(token_secret, timestamp + auth_token + nonce))</code>, with the <code>timestamp</code>, <code>nonce</code> and <code>algo</code> of the <code>access_key</code>. \
Instead of both, an <code>Authorization: OAuth …</code> header with <code>oauth_token</code> (<a href=\"/guide/oauth\">OAuth 1.0</a>).</td></tr>"
        );
    }
    for p in m.params {
        let values = match p.kind {
            crate::methods::Kind::Integer { min, max } => format!("{min} – {max}"),
            _ => p.values.join(", "),
        };
        let _ = write!(
            b,
            "<tr><td><code>{}</code>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            p.name,
            if p.required { star } else { "" },
            p.kind.name(),
            esc(&values),
            esc(p.default.unwrap_or("")),
            prose(p.description)
        );
    }
    b.push_str("</tbody></table>");
    let required = m.params.iter().any(|p| p.required) || m.user_auth == UserAuth::Required;
    if required {
        b.push_str("<p>* required</p>");
    }
    if m.mutating {
        b.push_str(
            "<p>This method changes data. Send an optional <code>idempotency_key</code> \
(1–255 printable characters) to make retries safe: a retry with the same key within 24 hours \
returns the first answer and changes nothing; the same key with different parameters (or another \
PUT body) is refused with 422; while the first call still runs, a retry gets 409. Keys are kept per \
api key and per user the call acts for: another user's call with the same key runs on its own.</p>",
        );
    }
}

/// The errors the method itself returns, one row per code, and one link to
/// the errors every call can meet.
fn errors(b: &mut String, m: &Method) {
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
    b.push_str("<h2 id=\"errors\">Errors</h2>");
    if rows.is_empty() {
        b.push_str("<p>This method has no errors of its own.</p>");
    } else {
        b.push_str("<table><thead><tr><th scope=\"col\">Code</th><th scope=\"col\">Meaning</th></tr></thead><tbody>");
        for (code, meanings) in &rows {
            let _ = write!(
                b,
                "<tr><td>{code}</td><td>{}</td></tr>",
                meanings
                    .iter()
                    .map(|s| esc(s))
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
        b.push_str("</tbody></table>");
    }
    let _ = write!(
        b,
        "<p>Every call can also meet the <a href=\"/guide/errors\">common protocol errors</a> ({}).</p>",
        common
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
}

fn pretty_json(s: &str) -> String {
    serde_json::from_str::<serde_json::Value>(s)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| s.to_string())
}

/// The try-it form; `tryit.js` signs and sends it (the only script of the docs).
fn try_it(b: &mut String, version: Version, m: &Method) {
    let field = |b: &mut String, id: &str, label: &str, input: &str| {
        let _ = write!(
            b,
            "<div class=\"field\"><label for=\"{id}\">{label}</label>{input}</div>"
        );
    };
    let _ = write!(
        b,
        "<section class=\"tryit\" aria-labelledby=\"try-it\"><h2 id=\"try-it\">Try it</h2><form id=\"tryit\" data-endpoint=\"/v{version}/{name}\">\
<p class=\"note\">Signs in your browser (WebCrypto): the secrets never leave this page, only the signature does. Needs JavaScript.</p><div class=\"fields\">",
        name = m.name
    );
    field(
        b,
        "t-api_key",
        "api_key",
        "<input id=\"t-api_key\" name=\"api_key\" autocomplete=\"off\" required>",
    );
    field(b, "t-api_secret", "api_secret", "<input id=\"t-api_secret\" name=\"api_secret\" type=\"password\" autocomplete=\"off\" required>");
    if m.user_auth != UserAuth::No {
        field(
            b,
            "t-auth_token",
            "auth_token",
            "<input id=\"t-auth_token\" name=\"auth_token\" autocomplete=\"off\">",
        );
        field(b, "t-token_secret", "token_secret", "<input id=\"t-token_secret\" name=\"token_secret\" type=\"password\" autocomplete=\"off\">");
    }
    let sample = m.sample_params();
    for p in m.params {
        let value = sample
            .iter()
            .find(|(k, _)| *k == p.name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        field(
            b,
            &format!("t-p-{}", p.name),
            &format!("{}{}", p.name, if p.required { " (required)" } else { "" }),
            &format!(
                "<input id=\"t-p-{n}\" name=\"p:{n}\" value=\"{v}\">",
                n = p.name,
                v = esc(value)
            ),
        );
    }
    field(b, "t-algo", "algo", "<select id=\"t-algo\" name=\"algo\"><option>sha1</option><option>sha256</option><option>sha512</option></select>");
    field(
        b,
        "t-content_type",
        "content_type",
        "<select id=\"t-content_type\" name=\"content_type\">\
<option value=\"\">text/xml</option><option>application/json</option></select>",
    );
    b.push_str("</div><button type=\"submit\">Send</button></form>\
<h3>Raw request</h3><pre id=\"tryit-request\"></pre><h3>Signed strings</h3><pre id=\"tryit-signed\"></pre>\
<h3>Raw answer</h3><pre id=\"tryit-answer\" aria-live=\"polite\"></pre></section><script src=\"/assets/tryit.js\" defer></script>");
}

/// A guide page.
pub fn guide(version: Version, g: &super::guides::Guide) -> String {
    let b = format!(
        "{}<main>{}</main>",
        breadcrumb(version),
        super::guides::render(g.markdown)
    );
    page(version, g.title, g.stem, &b)
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
    let mut b = format!(
        "<main><h1>{} is not in v{version}</h1><p>It exists in:</p><ul>",
        esc(name)
    );
    for d in decls {
        let _ = write!(
            b,
            "<li><a href=\"/v{v}/{n}\">v{v}</a></li>",
            v = d.since,
            n = d.name
        );
    }
    let _ = write!(
        b,
        "</ul><p><a href=\"/v{version}/\">All methods of v{version}</a></p></main>"
    );
    page(version, "Not in this version", "", &b)
}

/// 404 page: no such method.
pub fn unknown_method(version: Version, name: &str) -> String {
    let b = format!(
        "<main><h1>No method {}</h1><p>See <a href=\"/v{version}/\">the methods of v{version}</a>.</p></main>",
        esc(&name.chars().take(64).collect::<String>())
    );
    page(version, "Unknown method", "", &b)
}
