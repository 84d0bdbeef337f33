//! OAuth 1.0 (RFC 5849) as the alternative credential scheme (protocol.md §5):
//! the `Authorization: OAuth …` header, the signature base string (§3.4.1),
//! the parameter encoding (§3.6) and the HMAC signatures (§3.4.2).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::signature::{sign, Algo};

/// RFC 3986 unreserved characters stay, everything else is `%XX` (§3.6).
const RESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes per RFC 5849 §3.6.
pub fn encode(s: &str) -> String {
    utf8_percent_encode(s, RESERVED).to_string()
}

pub use crate::wire::OAuthError;

/// The parameters of an `Authorization: OAuth` header, decoded, in order,
/// without `realm` (which is not signed).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OAuthHeader {
    pub params: Vec<(String, String)>,
}

impl OAuthHeader {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// True when an `Authorization` value uses the OAuth scheme.
pub fn is_oauth(value: &str) -> bool {
    value
        .trim_start()
        .get(..6)
        .is_some_and(|s| s.eq_ignore_ascii_case("oauth "))
}

/// Parses `OAuth name="value", name="value"` (§3.5.1). Values are
/// percent-decoded; quotes are optional; a repeated name is refused.
pub fn parse_header(value: &str) -> Result<OAuthHeader, OAuthError> {
    let v = value.trim_start();
    if !is_oauth(v) {
        return Err(OAuthError::NotOAuth);
    }
    let mut rest = v.get(6..).unwrap_or("");
    let mut out = OAuthHeader::default();
    let mut seen_realm = false;
    loop {
        rest = rest.trim_start_matches([' ', '\t', '\r', '\n', ',']);
        if rest.is_empty() {
            break;
        }
        let eq = rest
            .find('=')
            .ok_or(OAuthError::Malformed("a parameter without '='"))?;
        let raw_name = rest[..eq].trim();
        if raw_name.is_empty() || raw_name.contains([',', '"', ' ']) {
            return Err(OAuthError::Malformed("a bad parameter name"));
        }
        rest = rest[eq + 1..].trim_start_matches([' ', '\t']);
        let raw_value;
        if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted
                .find('"')
                .ok_or(OAuthError::Malformed("an unterminated quoted value"))?;
            raw_value = &quoted[..end];
            rest = &quoted[end + 1..];
            let after = rest.trim_start_matches([' ', '\t']);
            if !(after.is_empty() || after.starts_with(',')) {
                return Err(OAuthError::Malformed("text after a quoted value"));
            }
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            raw_value = rest[..end].trim_end();
            rest = &rest[end..];
        }
        let name = decode(raw_name)?;
        let value = decode(raw_value)?;
        if name == "realm" {
            if seen_realm {
                return Err(OAuthError::Duplicate(name));
            }
            seen_realm = true;
            continue;
        }
        if out.params.iter().any(|(n, _)| *n == name) {
            return Err(OAuthError::Duplicate(name));
        }
        out.params.push((name, value));
    }
    if out.params.is_empty() {
        return Err(OAuthError::Malformed("no parameters"));
    }
    Ok(out)
}

fn decode(s: &str) -> Result<String, OAuthError> {
    percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| OAuthError::Malformed("a value is not UTF-8"))
}

/// Writes a header that [`parse_header`] reads back as `params`.
pub fn format_header(params: &[(String, String)]) -> String {
    let items: Vec<String> = params
        .iter()
        .map(|(n, v)| format!("{}=\"{}\"", encode(n), encode(v)))
        .collect();
    format!("OAuth {}", items.join(", "))
}

/// Name/value pairs of a query string or urlencoded body, decoded the
/// `application/x-www-form-urlencoded` way (`+` is a space). Undecodable bytes
/// are kept lossily: the signature then simply does not match.
pub fn form_pairs(s: &str) -> Vec<(String, String)> {
    s.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
            (form_decode(n), form_decode(v))
        })
        .collect()
}

fn form_decode(s: &str) -> String {
    let plus = s.replace('+', " ");
    percent_decode_str(&plus).decode_utf8_lossy().into_owned()
}

/// The signature base string (§3.4.1): `METHOD&enc(base_uri)&enc(normalized params)`,
/// with the parameters encoded, sorted by name then value, `oauth_signature` left out.
pub fn base_string(http_method: &str, base_uri: &str, params: &[(String, String)]) -> String {
    let mut encoded: Vec<(String, String)> = params
        .iter()
        .filter(|(n, _)| n != "oauth_signature")
        .map(|(n, v)| (encode(n), encode(v)))
        .collect();
    encoded.sort();
    let normalized = encoded
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    format!(
        "{}&{}&{}",
        http_method.to_ascii_uppercase(),
        encode(base_uri),
        encode(&normalized)
    )
}

/// A supported `oauth_signature_method`.
pub fn signature_algo(method: &str) -> Option<Algo> {
    match method {
        "HMAC-SHA1" => Some(Algo::Sha1),
        "HMAC-SHA256" => Some(Algo::Sha256),
        "HMAC-SHA512" => Some(Algo::Sha512),
        _ => None,
    }
}

/// The signing key (§3.4.2): `enc(client secret)&enc(token secret)`.
pub fn signing_key(consumer_secret: &str, token_secret: &[u8]) -> Vec<u8> {
    let token_secret = String::from_utf8_lossy(token_secret);
    format!("{}&{}", encode(consumer_secret), encode(&token_secret)).into_bytes()
}

/// The base64 signature of `base` under `key`.
pub fn signature(algo: Algo, key: &[u8], base: &str) -> String {
    BASE64.encode(sign(algo, key, &[base.as_bytes()]))
}

/// Checks a base64 signature in constant time.
pub fn verify(algo: Algo, key: &[u8], base: &str, provided: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    let expected = sign(algo, key, &[base.as_bytes()]);
    expected.len() == provided.len() && bool::from(expected.ct_eq(provided))
}

/// The credentials an OAuth header carries, checked for form.
#[derive(Debug, Clone)]
pub struct OAuthCredentials {
    pub consumer_key: String,
    pub token: Option<String>,
    pub algo: Algo,
    pub timestamp: i64,
    pub nonce: String,
    pub signature: Vec<u8>,
}

impl OAuthCredentials {
    /// Reads and checks the protocol parameters of a parsed header.
    pub fn from_header(h: &OAuthHeader) -> Result<Self, OAuthError> {
        let need = |n: &'static str| h.get(n).ok_or(OAuthError::Missing(n));
        if h.get("oauth_version").is_some_and(|v| v != "1.0") {
            return Err(OAuthError::BadVersion);
        }
        let algo = signature_algo(need("oauth_signature_method")?).ok_or(OAuthError::BadMethod)?;
        let ts = need("oauth_timestamp")?;
        if ts.is_empty() || ts.len() > 12 || !ts.bytes().all(|b| b.is_ascii_digit()) {
            return Err(OAuthError::BadTimestamp);
        }
        let timestamp = ts.parse().map_err(|_| OAuthError::BadTimestamp)?;
        let signature = BASE64
            .decode(need("oauth_signature")?)
            .map_err(|_| OAuthError::BadSignatureEncoding)?;
        Ok(OAuthCredentials {
            consumer_key: need("oauth_consumer_key")?.to_string(),
            token: h
                .get("oauth_token")
                .filter(|t| !t.is_empty())
                .map(str::to_string),
            algo,
            timestamp,
            nonce: need("oauth_nonce")?.to_string(),
            signature,
        })
    }
}

/// Every parameter the base string covers: the query, an urlencoded body,
/// and the header's oauth_* parameters.
pub fn signed_params(
    query: &str,
    urlencoded_body: Option<&str>,
    header: &OAuthHeader,
) -> Vec<(String, String)> {
    let mut all = form_pairs(query);
    if let Some(body) = urlencoded_body {
        all.extend(form_pairs(body));
    }
    all.extend(header.params.iter().cloned());
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    /// RFC 5849 §3.4.1.1: the example request and its base string.
    #[test]
    fn rfc5849_base_string_example() {
        let header = parse_header(
            "OAuth realm=\"Example\",\n oauth_consumer_key=\"9djdj82h48djs9d2\",\n \
             oauth_token=\"kkk9d7dh3k39sjv7\",\n oauth_signature_method=\"HMAC-SHA1\",\n \
             oauth_timestamp=\"137131201\",\n oauth_nonce=\"7d8f3e4a\",\n \
             oauth_signature=\"bYT5CMsGcbgUdFHObYMEfcx6bsw%3D\"",
        )
        .unwrap();
        let params = signed_params(
            "b5=%3D%253D&a3=a&c%40=&a2=r%20b",
            Some("c2&a3=2+q"),
            &header,
        );
        assert_eq!(
            base_string("POST", "http://example.com/request", &params),
            "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q\
%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9dj\
dj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_method%3DHMAC-SHA1\
%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
        );
    }

    /// RFC 5849 §1.2: the photos example, temporary credentials request.
    #[test]
    fn rfc5849_photos_initiate() {
        let header = parse_header(
            "OAuth realm=\"Photos\", oauth_consumer_key=\"dpf43f3p2l4k3l03\", \
             oauth_signature_method=\"HMAC-SHA1\", oauth_timestamp=\"137131200\", \
             oauth_nonce=\"wIjqoS\", oauth_callback=\"http%3A%2F%2Fprinter.example.com%2Fready\", \
             oauth_signature=\"74KNZJeDHnMBp0EMJ9ZHt%2FXKycU%3D\"",
        )
        .unwrap();
        let base = base_string(
            "POST",
            "https://photos.example.net/initiate",
            &signed_params("", None, &header),
        );
        assert_eq!(
            base,
            "POST&https%3A%2F%2Fphotos.example.net%2Finitiate&oauth_callback%3Dhttp%253A%252F%252\
Fprinter.example.com%252Fready%26oauth_consumer_key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3DwIjqoS%2\
6oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131200"
        );
        let key = signing_key("kd94hf93k423kf44", b"");
        assert_eq!(
            signature(Algo::Sha1, &key, &base),
            "74KNZJeDHnMBp0EMJ9ZHt/XKycU="
        );
        let creds = OAuthCredentials::from_header(&header).unwrap();
        assert!(verify(Algo::Sha1, &key, &base, &creds.signature));
    }

    /// RFC 5849 §1.2: the photos example, the protected resource request.
    #[test]
    fn rfc5849_photos_resource() {
        let header = parse_header(
            "OAuth realm=\"Photos\", oauth_consumer_key=\"dpf43f3p2l4k3l03\", \
             oauth_token=\"nnch734d00sl2jdk\", oauth_signature_method=\"HMAC-SHA1\", \
             oauth_timestamp=\"137131202\", oauth_nonce=\"chapoH\", \
             oauth_signature=\"MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D\"",
        )
        .unwrap();
        let base = base_string(
            "GET",
            "http://photos.example.net/photos",
            &signed_params("file=vacation.jpg&size=original", None, &header),
        );
        let key = signing_key("kd94hf93k423kf44", b"pfkkdhi9sl3r4s00");
        assert_eq!(
            signature(Algo::Sha1, &key, &base),
            "MdpQcU8iPSUjWoN/UDMsK2sui9I="
        );
    }

    /// OAuth Core 1.0 Appendix A.5: the same resource with oauth_version.
    #[test]
    fn oauth_core_photos_example() {
        let params = pairs(&[
            ("file", "vacation.jpg"),
            ("size", "original"),
            ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
            ("oauth_token", "nnch734d00sl2jdk"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "1191242096"),
            ("oauth_nonce", "kllo9940pd9333jh"),
            ("oauth_version", "1.0"),
        ]);
        let base = base_string("GET", "http://photos.example.net/photos", &params);
        assert_eq!(
            base,
            "GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg%26oauth_consumer_\
key%3Ddpf43f3p2l4k3l03%26oauth_nonce%3Dkllo9940pd9333jh%26oauth_signature_method%3DHMAC-SHA1%26\
oauth_timestamp%3D1191242096%26oauth_token%3Dnnch734d00sl2jdk%26oauth_version%3D1.0%26size%3Dorigi\
nal"
        );
        let key = signing_key("kd94hf93k423kf44", b"pfkkdhi9sl3r4s00");
        assert_eq!(
            signature(Algo::Sha1, &key, &base),
            "tR3+Ty81lMeYAr/Fid0kMTYa/WM="
        );
    }

    #[test]
    fn header_forms() {
        let h = parse_header("oauth oauth_consumer_key=abc,oauth_nonce=\"a%20b\"").unwrap();
        assert_eq!(h.get("oauth_consumer_key"), Some("abc"));
        assert_eq!(h.get("oauth_nonce"), Some("a b"));
        assert_eq!(parse_header("Basic abc"), Err(OAuthError::NotOAuth));
        assert!(parse_header("OAuth a=\"1\", a=\"2\"").is_err());
        assert!(parse_header("OAuth a=\"1").is_err());
        assert!(parse_header("OAuth a").is_err());
        assert!(parse_header("OAuth ").is_err());
        assert!(parse_header("OAuth a=\"1\"x").is_err());
    }

    #[test]
    fn credentials_are_checked() {
        let h = |extra: &str| {
            parse_header(&format!(
                "OAuth oauth_consumer_key=\"k\", oauth_nonce=\"n\", oauth_signature=\"AAAA\", \
                 oauth_timestamp=\"1\", {extra}"
            ))
            .unwrap()
        };
        assert!(
            OAuthCredentials::from_header(&h("oauth_signature_method=\"HMAC-SHA256\"")).is_ok()
        );
        assert_eq!(
            OAuthCredentials::from_header(&h("oauth_signature_method=\"PLAINTEXT\"")).unwrap_err(),
            OAuthError::BadMethod
        );
        assert_eq!(
            OAuthCredentials::from_header(&h(
                "oauth_signature_method=\"HMAC-SHA1\", oauth_version=\"2.0\""
            ))
            .unwrap_err(),
            OAuthError::BadVersion
        );
    }

    proptest! {
        #[test]
        fn the_parser_never_panics(s in ".{0,200}") {
            let _ = parse_header(&s);
            let _ = parse_header(&format!("OAuth {s}"));
            let _ = form_pairs(&s);
        }

        #[test]
        fn headers_round_trip(
            params in proptest::collection::btree_map("[a-z_]{1,12}", ".{0,30}", 1..8)
        ) {
            let params: Vec<(String, String)> = params
                .into_iter()
                .filter(|(n, _)| n != "realm")
                .collect();
            prop_assume!(!params.is_empty());
            let parsed = parse_header(&format_header(&params)).unwrap();
            prop_assert_eq!(parsed.params, params);
        }

        #[test]
        fn encoding_keeps_only_unreserved(s in ".{0,40}") {
            let e = encode(&s);
            prop_assert!(e.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)));
            prop_assert_eq!(percent_decode_str(&e).decode_utf8().unwrap(), s.as_str());
        }
    }
}
