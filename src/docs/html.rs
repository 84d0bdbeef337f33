//! HTML rendering of the docs: small, no JavaScript, readable on a phone.

use std::fmt::Write;

use super::code::{self, Lang};
use super::samples::Samples;
use crate::methods::AppState;
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

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:50rem;margin:0 auto;padding:1rem;color:#1b1b1b}\
a{color:#0b57d0}code,pre{font-family:ui-monospace,monospace;font-size:.9em}\
pre{background:#f4f4f4;padding:.75rem;overflow-x:auto;border-radius:4px}\
table{border-collapse:collapse;width:100%;display:block;overflow-x:auto}\
th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}\
th{background:#eee}nav{margin-bottom:1rem}dt{font-weight:600}dd{margin:0 0 .5rem 1rem}";

fn page(title: &str, body: &str) -> String {
    // Scrollable blocks must be reachable by keyboard (WCAG 2.1.1).
    let body = body
        .replace("<pre>", "<pre tabindex=\"0\">")
        .replace("<pre id=", "<pre tabindex=\"0\" id=")
        .replace("<table>", "<table tabindex=\"0\">");
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{} · Panthera API</title><style>{STYLE}</style></head>\
<body>{body}</body></html>\n",
        esc(title)
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
    b.push_str(
        "</ul><p>Machine-readable: <a href=\"/openapi.json\">OpenAPI 3.1</a> \
(also <code>panthera docs export</code> for Markdown and a Postman collection) and the \
<a href=\"get-method-info\">get-method-info</a> method.</p>",
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
    b.push_str("<h2>Versions</h2><ul>");
    for (v, s) in &state.versions.load().versions {
        let _ = write!(b, "<li><a href=\"/v{v}/\">v{v}</a>: {}</li>", s.as_str());
    }
    b.push_str("</ul></main>");
    page(&format!("API v{version}"), &b)
}

/// The page of one method in one version.
pub fn method_page(state: &AppState, version: Version, m: &Method, samples: &Samples) -> String {
    let base = state.public_url();
    let mut b = String::new();
    let _ = write!(
        b,
        "<nav><a href=\"/v{version}/\">Panthera API v{version}</a></nav><main><h1>{name}</h1>\
<p>{summary}</p><p>{desc}</p>",
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
    let _ = write!(
        b,
        "<h2>Endpoint</h2><pre>POST {base}/v{version}/{name}</pre>\
<dl><dt>User authentication</dt><dd>{user}</dd><dt>SSL</dt><dd>{ssl}</dd>\
<dt>Api key role</dt><dd>{role}</dd></dl>",
        name = m.name,
        user = m.user_auth.as_str(),
        ssl = if m.ssl { "required" } else { "not required" },
        role = if m.admin { "admin required" } else { "any" }
    );
    b.push_str("<h2>Parameters</h2><p>Every call also carries the <a href=\"/guide/app-authentication\">app credentials</a> \
<code>api_key</code>, <code>access_key</code>, <code>timestamp</code>, <code>nonce</code>, optional <code>algo</code> and <code>content_type</code>.</p>");
    if m.params.is_empty() {
        b.push_str("<p>This method takes no other parameters.</p>");
    } else {
        b.push_str("<table><thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Type</th><th scope=\"col\">Values</th><th scope=\"col\">Default</th><th scope=\"col\">Description</th></tr></thead><tbody>");
        for p in m.params {
            let values = match p.kind {
                crate::methods::Kind::Integer { min, max } => format!("{min} – {max}"),
                _ => p.values.join(", "),
            };
            let _ =
                write!(
                b,
                "<tr><td><code>{}</code>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                p.name,
                if p.required { " <abbr title=\"required\">*</abbr>" } else { "" },
                p.kind.name(),
                esc(&values),
                esc(p.default.unwrap_or("")),
                prose(p.description)
            );
        }
        b.push_str("</tbody></table><p>* required</p>");
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
    b.push_str("<h2>Errors</h2><table><thead><tr><th scope=\"col\">Code</th><th scope=\"col\">Meaning</th></tr></thead><tbody>");
    for e in m.error_docs() {
        let _ = write!(b, "<tr><td>{}</td><td>{}</td></tr>", e.code, esc(e.meaning));
    }
    b.push_str("</tbody></table>");
    let sample_body = sample_body(m);
    let _ = write!(
        b,
        "<h2>Sample request</h2><pre>POST /v{version}/{name} HTTP/1.1\nHost: {host}\nUser-Agent: my-app/1.0\n\
Content-Type: application/x-www-form-urlencoded\n\n{body}</pre>\
<h3>curl</h3><pre>curl -A my-app/1.0 {base}/v{version}/{name} \\\n  --data-urlencode \"api_key=$API_KEY\" \\\n  \
--data-urlencode \"timestamp=$TS\" --data-urlencode \"nonce=$NONCE\" \\\n  --data-urlencode \"access_key=$ACCESS_KEY\"{extra}</pre>",
        name = m.name,
        host = esc(base.trim_start_matches("http://").trim_start_matches("https://")),
        body = esc(&sample_body),
        extra = m
            .sample_params()
            .iter()
            .map(|(k, v)| format!(" \\\n  --data-urlencode \"{}={}\"", esc(k), esc(v)))
            .collect::<String>()
    );
    b.push_str("<h3>Code</h3><p>Each program reads <code>PANTHERA_URL</code>, <code>PANTHERA_API_KEY</code> \
and <code>PANTHERA_API_SECRET</code> from the environment.</p>");
    for lang in Lang::ALL {
        let _ = write!(
            b,
            "<details><summary>{}</summary><pre><code>{}</code></pre></details>",
            lang.title(),
            esc(&code::sample(lang, m, version))
        );
    }
    if let Some(s) = samples.get(m) {
        let _ = write!(
            b,
            "<h2>Sample answer</h2><p>Produced by running the sample above against a fresh demo database.</p>\
<h3>XML</h3><pre>HTTP/1.1 {status}\nContent-Type: text/xml;charset=UTF-8\n\n{xml}</pre>\
<h3>JSON</h3><pre>HTTP/1.1 {status}\nContent-Type: application/json\n\n{json}</pre>",
            status = s.status,
            xml = esc(&s.xml),
            json = esc(&pretty_json(&s.json))
        );
    }
    try_it(&mut b, version, m);
    b.push_str("</main>");
    page(m.name, &b)
}

fn pretty_json(s: &str) -> String {
    serde_json::from_str::<serde_json::Value>(s)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| s.to_string())
}

/// The try-it form; `tryit.js` signs and sends it (the only script of the docs).
fn try_it(b: &mut String, version: Version, m: &Method) {
    let _ = write!(
        b,
        "<h2 id=\"try-it\">Try it</h2><form id=\"tryit\" data-endpoint=\"/v{version}/{name}\">\
<p>Signs in your browser (WebCrypto): the secrets never leave this page, only the signature does. Needs JavaScript.</p>\
<p><label for=\"t-api_key\">api_key</label><br><input id=\"t-api_key\" name=\"api_key\" autocomplete=\"off\" size=\"40\" required></p>\
<p><label for=\"t-api_secret\">api_secret</label><br><input id=\"t-api_secret\" name=\"api_secret\" type=\"password\" autocomplete=\"off\" size=\"40\" required></p>\
<p><label for=\"t-algo\">algo</label><br><select id=\"t-algo\" name=\"algo\"><option>sha1</option><option>sha256</option><option>sha512</option></select></p>",
        name = m.name
    );
    if m.user_auth != UserAuth::No {
        b.push_str("<p><label for=\"t-auth_token\">auth_token</label><br><input id=\"t-auth_token\" name=\"auth_token\" autocomplete=\"off\" size=\"40\"></p>\
<p><label for=\"t-token_secret\">token_secret</label><br><input id=\"t-token_secret\" name=\"token_secret\" type=\"password\" autocomplete=\"off\" size=\"40\"></p>");
    }
    let sample = m.sample_params();
    for p in m.params {
        let value = sample
            .iter()
            .find(|(k, _)| *k == p.name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("");
        let _ = write!(
            b,
            "<p><label for=\"t-p-{n}\">{n}{req}</label><br><input id=\"t-p-{n}\" name=\"p:{n}\" value=\"{v}\" size=\"40\"></p>",
            n = p.name,
            req = if p.required { " (required)" } else { "" },
            v = esc(value)
        );
    }
    b.push_str("<p><label for=\"t-content_type\">content_type</label><br><select id=\"t-content_type\" name=\"content_type\">\
<option value=\"\">text/xml</option><option>application/json</option></select></p>\
<p><button type=\"submit\">Send</button></p></form>\
<h3>Raw request</h3><pre id=\"tryit-request\"></pre><h3>Signed string</h3><pre id=\"tryit-signed\"></pre>\
<h3>Raw answer</h3><pre id=\"tryit-answer\" aria-live=\"polite\"></pre><script src=\"/assets/tryit.js\" defer></script>");
}

/// A guide page.
pub fn guide(version: Version, g: &super::guides::Guide) -> String {
    let b = format!(
        "<nav><a href=\"/v{version}/\">Panthera API v{version}</a></nav><main>{}</main>",
        super::guides::render(g.markdown)
    );
    page(g.title, &b)
}

fn sample_body(m: &Method) -> String {
    let mut pairs = vec![
        ("api_key", "YOUR_API_KEY".to_string()),
        ("access_key", "HMAC_HEX".to_string()),
        ("timestamp", "Thu, 26 Jul 2012 14:53:44 UTC".to_string()),
        ("nonce", "Im ar andomS tring".to_string()),
        ("algo", "sha1".to_string()),
    ];
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
    page("Not in this version", &b)
}

/// 404 page: no such method.
pub fn unknown_method(version: Version, name: &str) -> String {
    let b = format!(
        "<main><h1>No method {}</h1><p>See <a href=\"/v{version}/\">the methods of v{version}</a>.</p></main>",
        esc(&name.chars().take(64).collect::<String>())
    );
    page("Unknown method", &b)
}
