//! HTML rendering of the docs: small, no JavaScript, readable on a phone.

use std::fmt::Write;

use crate::app::AppState;
use crate::methods::{Method, COMMON_ERRORS};
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
th{background:#eee}nav{margin-bottom:1rem}";

fn page(title: &str, body: &str) -> String {
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
    for (v, s) in &state.versions.versions {
        let _ = write!(b, "<li><a href=\"/v{v}/\">v{v}</a>: {}</li>", s.as_str());
    }
    b.push_str("</ul></main>");
    page(&format!("API v{version}"), &b)
}

/// The page of one method in one version.
pub fn method_page(state: &AppState, version: Version, m: &Method) -> String {
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
<dl><dt>User authentication</dt><dd>{user}</dd><dt>SSL</dt><dd>{ssl}</dd></dl>",
        name = m.name,
        user = m.user_auth.as_str(),
        ssl = if m.ssl { "required" } else { "not required" }
    );
    b.push_str("<h2>Parameters</h2><p>Every call also carries the <a href=\"/v1.0/#app-authentication\">app credentials</a> \
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
    b.push_str("<h2>Errors</h2><table><thead><tr><th scope=\"col\">Code</th><th scope=\"col\">Meaning</th></tr></thead><tbody>");
    for e in m.errors.iter().chain(COMMON_ERRORS) {
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
            .sample
            .iter()
            .map(|(k, v)| format!(" \\\n  --data-urlencode \"{}={}\"", esc(k), esc(v)))
            .collect::<String>()
    );
    b.push_str("</main>");
    page(m.name, &b)
}

fn sample_body(m: &Method) -> String {
    let mut pairs = vec![
        ("api_key", "YOUR_API_KEY".to_string()),
        ("access_key", "HMAC_HEX".to_string()),
        ("timestamp", "Thu, 26 Jul 2012 14:53:44 UTC".to_string()),
        ("nonce", "Im ar andomS tring".to_string()),
        ("algo", "sha1".to_string()),
    ];
    for (k, v) in m.sample {
        pairs.push((k, v.to_string()));
    }
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
