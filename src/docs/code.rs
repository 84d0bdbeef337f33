//! Runnable code samples for a method call, one per language. Each reads
//! `PANTHERA_URL`, `PANTHERA_API_KEY` and `PANTHERA_API_SECRET` from the
//! environment, signs a fresh request and prints the answer; the test suite
//! executes them against a real server.

use crate::methods::{Method, UserAuth};
use crate::protocol::version::Version;

/// A language a sample is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Curl,
    Php,
    Python,
    JavaScript,
    Rust,
    /// The same call through the Python SDK (`clients/python`).
    PythonSdk,
    /// The same call through the JavaScript SDK (`clients/js`).
    JavaScriptSdk,
}

impl Lang {
    pub const ALL: [Lang; 7] = [
        Lang::Curl,
        Lang::Php,
        Lang::Python,
        Lang::PythonSdk,
        Lang::JavaScript,
        Lang::JavaScriptSdk,
        Lang::Rust,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Lang::Curl => "curl (sh + openssl)",
            Lang::Php => "PHP",
            Lang::Python => "Python",
            Lang::JavaScript => "JavaScript (Node.js 18+)",
            Lang::Rust => "Rust",
            Lang::PythonSdk => "Python SDK (panthera-client)",
            Lang::JavaScriptSdk => "JavaScript SDK (panthera-client)",
        }
    }

    /// The program that runs a sample file, for languages CI can run.
    pub fn runner(self) -> Option<&'static str> {
        match self {
            Lang::Curl => Some("sh"),
            Lang::Php => Some("php"),
            Lang::Python => Some("python3"),
            Lang::JavaScript => Some("node"),
            Lang::Rust => None,
            Lang::PythonSdk => Some("python3"),
            Lang::JavaScriptSdk => Some("node"),
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Lang::Curl => "sh",
            Lang::Php => "php",
            Lang::Python => "py",
            Lang::JavaScript => "mjs",
            Lang::Rust => "rs",
            Lang::PythonSdk => "py",
            Lang::JavaScriptSdk => "mjs",
        }
    }
}

/// Quotes for a single-quoted shell / PHP / Python / JS string literal.
fn sq(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\'', "\\'")
}

fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The sample program calling `m` under `version`.
pub fn sample(lang: Lang, m: &Method, version: Version) -> String {
    let path = format!("/v{version}/{}", m.name);
    match lang {
        Lang::Curl => curl(m, &path),
        Lang::Php => php(m, &path),
        Lang::Python => python(m, &path),
        Lang::JavaScript => javascript(m, &path),
        Lang::Rust => rust(m, &path),
        Lang::PythonSdk => python_sdk(m, version),
        Lang::JavaScriptSdk => javascript_sdk(m, version),
    }
}

/// The user-token pieces of a sample: the lines that sign with the token and
/// the parameters that carry it, for methods that take a user (the sample
/// then reads `PANTHERA_AUTH_TOKEN` and `PANTHERA_TOKEN_SECRET`); empty otherwise.
fn user_parts(
    m: &Method,
    sign: &'static str,
    params: &'static str,
) -> (&'static str, &'static str) {
    if m.user_auth != UserAuth::No {
        (sign, params)
    } else {
        ("", "")
    }
}

fn curl(m: &Method, path: &str) -> String {
    let (tok, tokf) = user_parts(
        m,
        "ACCESS_TOKEN=$(printf '%s' \"$TS$PANTHERA_AUTH_TOKEN$NONCE\" \\\n  | openssl dgst -sha1 -hmac \"$PANTHERA_TOKEN_SECRET\" | sed 's/^.*= //')\n",
        " \\\n  --data-urlencode \"auth_token=$PANTHERA_AUTH_TOKEN\" \\\n  --data-urlencode \"access_token=$ACCESS_TOKEN\"",
    );
    let mut extra = String::new();
    for (k, v) in m.sample_params() {
        extra.push_str(&format!(
            " \\\n  --data-urlencode {}",
            sh_quote(&format!("{k}={v}"))
        ));
    }
    format!(
        r#"#!/bin/sh
set -eu
URL=${{PANTHERA_URL:-http://127.0.0.1:8080}}
TS=$(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S UTC')
NONCE=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
ACCESS_KEY=$(printf '%s' "$TS$PANTHERA_API_KEY$NONCE" \
  | openssl dgst -sha1 -hmac "$PANTHERA_API_SECRET" | sed 's/^.*= //')
{tok}curl -sS -A my-app/1.0 "$URL{path}" \
  --data-urlencode "api_key=$PANTHERA_API_KEY" \
  --data-urlencode "access_key=$ACCESS_KEY" \
  --data-urlencode "timestamp=$TS" \
  --data-urlencode "nonce=$NONCE"{tokf}{extra}
"#
    )
}

fn php(m: &Method, path: &str) -> String {
    let (tok, tokf) = user_parts(
        m,
        "$auth_token = getenv('PANTHERA_AUTH_TOKEN');\n$access_token = hash_hmac('sha1', $timestamp . $auth_token . $nonce, getenv('PANTHERA_TOKEN_SECRET'));\n",
        "    'auth_token' => $auth_token,\n    'access_token' => $access_token,\n",
    );
    let extra: String = m
        .sample_params()
        .iter()
        .map(|(k, v)| format!("    '{}' => '{}',\n", sq(k), sq(v)))
        .collect();
    format!(
        r#"<?php
$url = getenv('PANTHERA_URL') ?: 'http://127.0.0.1:8080';
$api_key = getenv('PANTHERA_API_KEY');
$api_secret = getenv('PANTHERA_API_SECRET');

$timestamp = str_replace('+0000', 'UTC', gmdate(DATE_RSS));
$nonce = bin2hex(random_bytes(8));
$access_key = hash_hmac('sha1', $timestamp . $api_key . $nonce, $api_secret);
{tok}
$ch = curl_init($url . '{path}');
curl_setopt($ch, CURLOPT_USERAGENT, 'my-app/1.0');
curl_setopt($ch, CURLOPT_RETURNTRANSFER, true);
curl_setopt($ch, CURLOPT_POSTFIELDS, http_build_query(array(
    'api_key' => $api_key,
    'access_key' => $access_key,
    'timestamp' => $timestamp,
    'nonce' => $nonce,
{tokf}{extra})));
echo curl_exec($ch), "\n";
"#
    )
}

fn python(m: &Method, path: &str) -> String {
    let (tok, tokf) = user_parts(
        m,
        "auth_token = os.environ['PANTHERA_AUTH_TOKEN']\naccess_token = hmac.new(os.environ['PANTHERA_TOKEN_SECRET'].encode(),\n                        (timestamp + auth_token + nonce).encode(), hashlib.sha1).hexdigest()\n",
        "    'auth_token': auth_token,\n    'access_token': access_token,\n",
    );
    let extra: String = m
        .sample_params()
        .iter()
        .map(|(k, v)| format!("    '{}': '{}',\n", sq(k), sq(v)))
        .collect();
    format!(
        r#"import hashlib, hmac, os, secrets, time, urllib.error, urllib.parse, urllib.request

url = os.environ.get('PANTHERA_URL', 'http://127.0.0.1:8080')
api_key = os.environ['PANTHERA_API_KEY']
api_secret = os.environ['PANTHERA_API_SECRET']

timestamp = time.strftime('%a, %d %b %Y %H:%M:%S UTC', time.gmtime())
nonce = secrets.token_hex(8)
access_key = hmac.new(api_secret.encode(), (timestamp + api_key + nonce).encode(),
                      hashlib.sha1).hexdigest()
{tok}body = urllib.parse.urlencode({{
    'api_key': api_key,
    'access_key': access_key,
    'timestamp': timestamp,
    'nonce': nonce,
{tokf}{extra}}}).encode()
request = urllib.request.Request(url + '{path}', data=body,
                                 headers={{'User-Agent': 'my-app/1.0'}})
try:
    with urllib.request.urlopen(request) as response:
        print(response.read().decode())
except urllib.error.HTTPError as e:
    print(e.read().decode())
"#
    )
}

fn javascript(m: &Method, path: &str) -> String {
    let (tok, tokf) = user_parts(
        m,
        "const authToken = process.env.PANTHERA_AUTH_TOKEN;\nconst accessToken = createHmac('sha1', process.env.PANTHERA_TOKEN_SECRET)\n  .update(timestamp + authToken + nonce).digest('hex');\n",
        "  auth_token: authToken,\n  access_token: accessToken,\n",
    );
    let extra: String = m
        .sample_params()
        .iter()
        .map(|(k, v)| format!("  '{}': '{}',\n", sq(k), sq(v)))
        .collect();
    format!(
        r#"import {{ createHmac, randomBytes }} from 'node:crypto';

const url = process.env.PANTHERA_URL ?? 'http://127.0.0.1:8080';
const apiKey = process.env.PANTHERA_API_KEY;
const apiSecret = process.env.PANTHERA_API_SECRET;

const timestamp = new Date().toUTCString(); // "Sun, 22 Nov 2026 08:22:53 GMT"
const nonce = randomBytes(8).toString('hex');
const accessKey = createHmac('sha1', apiSecret)
  .update(timestamp + apiKey + nonce).digest('hex');
{tok}
const response = await fetch(url + '{path}', {{
  method: 'POST',
  headers: {{ 'User-Agent': 'my-app/1.0' }},
  body: new URLSearchParams({{
  api_key: apiKey,
  access_key: accessKey,
  timestamp,
  nonce,
{tokf}{extra}  }}),
}});
console.log(await response.text());
"#
    )
}

fn rust(m: &Method, path: &str) -> String {
    let (tok, tokf) = user_parts(
        m,
        "    let auth_token = std::env::var(\"PANTHERA_AUTH_TOKEN\")?;\n    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(std::env::var(\"PANTHERA_TOKEN_SECRET\")?.as_bytes())?;\n    mac.update(format!(\"{timestamp}{auth_token}{nonce}\").as_bytes());\n    let access_token = hex::encode(mac.finalize().into_bytes());\n",
        "        (\"auth_token\", auth_token),\n        (\"access_token\", access_token),\n",
    );
    let extra: String = m
        .sample_params()
        .iter()
        .map(|(k, v)| {
            format!(
                "        (\"{}\", \"{}\".to_string()),\n",
                k.escape_default(),
                v.escape_default()
            )
        })
        .collect();
    format!(
        r#"// Cargo.toml: hmac = "0.12", sha1 = "0.10", hex = "0.4", httpdate = "1",
//             rand = "0.8", ureq = "2", serde_urlencoded = "0.7"
use hmac::{{Hmac, Mac}};
use rand::Rng;

fn main() -> Result<(), Box<dyn std::error::Error>> {{
    let url = std::env::var("PANTHERA_URL").unwrap_or("http://127.0.0.1:8080".into());
    let api_key = std::env::var("PANTHERA_API_KEY")?;
    let api_secret = std::env::var("PANTHERA_API_SECRET")?;

    let timestamp = httpdate::fmt_http_date(std::time::SystemTime::now());
    let nonce = format!("{{:016x}}", rand::thread_rng().gen::<u64>());
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(api_secret.as_bytes())?;
    mac.update(format!("{{timestamp}}{{api_key}}{{nonce}}").as_bytes());
    let access_key = hex::encode(mac.finalize().into_bytes());
{tok}
    let form = [
        ("api_key", api_key),
        ("access_key", access_key),
        ("timestamp", timestamp),
        ("nonce", nonce),
{tokf}{extra}    ];
    let body = serde_urlencoded::to_string(&form)?;
    let answer = match ureq::post(&format!("{{url}}{path}"))
        .set("User-Agent", "my-app/1.0")
        .set("Content-Type", "application/x-www-form-urlencoded")
        .send_string(&body)
    {{
        Ok(r) | Err(ureq::Error::Status(_, r)) => r.into_string()?,
        Err(e) => return Err(e.into()),
    }};
    println!("{{answer}}");
    Ok(())
}}
"#
    )
}

/// The sample's parameters as `'name': 'value'` pairs, the same literal in
/// Python and JavaScript.
fn sdk_params(m: &Method) -> String {
    m.sample_params()
        .iter()
        .map(|(k, v)| format!("'{}': '{}'", sq(k), sq(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn python_sdk(m: &Method, version: Version) -> String {
    let (tok, _) = user_parts(
        m,
        "# with_token(): the SDK adds auth_token and access_token to every call\nclient = client.with_token(os.environ['PANTHERA_AUTH_TOKEN'], os.environ['PANTHERA_TOKEN_SECRET'])\n",
        "",
    );
    let params = sdk_params(m);
    format!(
        r#"# pip install ./clients/python   (from the Panthera repository)
import json, os
from panthera_client import Client

client = Client(os.environ.get('PANTHERA_URL', 'http://127.0.0.1:8080'),
                os.environ['PANTHERA_API_KEY'], os.environ['PANTHERA_API_SECRET'],
                version='{version}')
{tok}answer = client.call('{name}', {{{params}}})
print(json.dumps(answer, indent=2, ensure_ascii=False))
"#,
        name = m.name,
    )
}

fn javascript_sdk(m: &Method, version: Version) -> String {
    let (tok, _) = user_parts(
        m,
        "// withToken(): the SDK adds auth_token and access_token to every call\nclient = client.withToken(process.env.PANTHERA_AUTH_TOKEN, process.env.PANTHERA_TOKEN_SECRET);\n",
        "",
    );
    let params = sdk_params(m);
    format!(
        r#"// npm install ./clients/js   (from the Panthera repository)
import {{ Client }} from 'panthera-client';

let client = new Client({{
  url: process.env.PANTHERA_URL ?? 'http://127.0.0.1:8080',
  apiKey: process.env.PANTHERA_API_KEY,
  apiSecret: process.env.PANTHERA_API_SECRET,
  version: '{version}',
}});
{tok}const answer = await client.call('{name}', {{ {params} }});
console.log(JSON.stringify(answer, null, 2));
"#,
        name = m.name,
    )
}
