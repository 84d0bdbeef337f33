//! Request parameters: query string plus an urlencoded or multipart body,
//! merged into one map that the signature check and the handlers read.
//!
//! Anything ambiguous (a name given twice, a name both plain and as an array)
//! is an error rather than "last one wins", because the signature is computed
//! over the parameters and two readings of one request must not exist.

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;

use bytes::Bytes;
use futures_util::FutureExt;

pub use crate::wire::{ParamError, PARAMETER_NAME};

/// The parameter name under which a raw (non-form) PUT body reaches the
/// handler; a client sending a parameter of that name gets a `400` for PUTs.
pub const RAW_BODY: &str = "__body";

/// Caps applied while parsing, so a request cannot make us build more than
/// this much. The body size itself is checked by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Total number of values; each array element counts.
    pub max_params: usize,
    /// Bytes of a decoded name, brackets included.
    pub max_name_bytes: usize,
    /// Bytes of a decoded value.
    pub max_value_bytes: usize,
}

/// One parameter: a single value, or the elements of `name[]` / `name[0]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParamValue {
    One(String),
    List(Vec<String>),
}

/// The request's parameters, keyed by name (array names without brackets).
/// Kept sorted because the signature base string wants them sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    map: BTreeMap<String, ParamValue>,
}

impl Params {
    /// The single value of `name`; `None` if absent or an array.
    pub fn get(&self, name: &str) -> Option<&str> {
        match self.map.get(name) {
            Some(ParamValue::One(v)) => Some(v),
            _ => None,
        }
    }

    /// The elements of array `name`; a single value reads as one element.
    pub fn get_list(&self, name: &str) -> Option<Vec<&str>> {
        match self.map.get(name)? {
            ParamValue::One(v) => Some(vec![v.as_str()]),
            ParamValue::List(vs) => Some(vs.iter().map(String::as_str).collect()),
        }
    }

    pub fn contains(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    /// All parameters, sorted by name (byte order).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ParamValue)> {
        self.map.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Adds a parameter; refuses to overwrite, like the parser.
    pub fn insert(&mut self, name: String, value: ParamValue) -> Result<(), ParamError> {
        if self.map.contains_key(&name) {
            return Err(ParamError::Duplicate(name));
        }
        self.map.insert(name, value);
        Ok(())
    }

    pub fn remove(&mut self, name: &str) -> Option<ParamValue> {
        self.map.remove(name)
    }
}

/// Parses the query string and the body into one [`Params`].
///
/// `content_type` selects the body format: urlencoded (also when absent),
/// `multipart/form-data`, or an error. Media type parameters other than the
/// multipart boundary (e.g. `charset`) are ignored: values must be UTF-8
/// whatever they claim. An empty body adds nothing, whatever its type.
/// The same name in query and body is a [`ParamError::Duplicate`].
pub fn parse(
    query: &str,
    content_type: Option<&str>,
    body: &[u8],
    limits: &Limits,
) -> Result<Params, ParamError> {
    let mut from_query = Collector::new(limits, 0);
    parse_urlencoded(query.as_bytes(), &mut from_query)?;

    let mut from_body = Collector::new(limits, from_query.count);
    match body_kind(content_type, body)? {
        BodyKind::Empty => {}
        BodyKind::Urlencoded => parse_urlencoded(body, &mut from_body)?,
        BodyKind::Multipart(ct) => parse_multipart(ct, body, &mut from_body)?,
    }

    let mut params = from_query.params;
    for (name, value) in from_body.params.map {
        params.insert(name, value)?;
    }
    Ok(params)
}

/// True when the body is read as `application/x-www-form-urlencoded` (the
/// OAuth base string covers such bodies and no others).
pub fn is_urlencoded_body(content_type: Option<&str>, body: &[u8]) -> bool {
    matches!(body_kind(content_type, body), Ok(BodyKind::Urlencoded))
}

enum BodyKind<'a> {
    Empty,
    Urlencoded,
    Multipart(&'a str),
}

fn body_kind<'a>(content_type: Option<&'a str>, body: &[u8]) -> Result<BodyKind<'a>, ParamError> {
    if body.is_empty() {
        return Ok(BodyKind::Empty);
    }
    let Some(ct) = content_type.map(str::trim).filter(|ct| !ct.is_empty()) else {
        return Ok(BodyKind::Urlencoded);
    };
    let essence = ct.split(';').next().unwrap_or_default().trim();
    if essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        Ok(BodyKind::Urlencoded)
    } else if essence.eq_ignore_ascii_case("multipart/form-data") {
        Ok(BodyKind::Multipart(ct))
    } else {
        Err(ParamError::UnsupportedContentType(ct.to_owned()))
    }
}

/// How a decoded name adds to the map.
enum Key<'a> {
    Plain,
    /// `base[]`
    Push(&'a str),
    /// `base[<digits>]`
    Indexed(&'a str),
}

fn classify(name: &str) -> Key<'_> {
    if let Some(base) = name.strip_suffix("[]") {
        return Key::Push(base);
    }
    if let Some((base, index)) = name
        .strip_suffix(']')
        .and_then(|rest| rest.rsplit_once('['))
    {
        if !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit()) {
            return Key::Indexed(base);
        }
    }
    Key::Plain
}

/// Builds the parameters of one source (query or body), enforcing limits as
/// each value arrives.
struct Collector<'l> {
    limits: &'l Limits,
    /// Values seen so far, including earlier sources.
    count: usize,
    params: Params,
    /// Full `base[N]` names seen, so a repeated index is a duplicate.
    indexed: BTreeSet<String>,
}

impl<'l> Collector<'l> {
    fn new(limits: &'l Limits, count: usize) -> Self {
        Collector {
            limits,
            count,
            params: Params::default(),
            indexed: BTreeSet::new(),
        }
    }

    /// Called before anything of a new value is decoded.
    fn count_one(&mut self) -> Result<(), ParamError> {
        self.count = self.count.saturating_add(1);
        if self.count > self.limits.max_params {
            return Err(ParamError::TooMany {
                max: self.limits.max_params,
            });
        }
        Ok(())
    }

    fn check_name(&self, name: &[u8]) -> Result<(), ParamError> {
        if name.is_empty() {
            return Err(ParamError::EmptyName);
        }
        if name.len() > self.limits.max_name_bytes {
            return Err(ParamError::NameTooLong {
                max: self.limits.max_name_bytes,
            });
        }
        Ok(())
    }

    fn value_too_long(&self, name: &str) -> ParamError {
        ParamError::ValueTooLong {
            name: name.to_owned(),
            max: self.limits.max_value_bytes,
        }
    }

    fn add(&mut self, name: String, value: String) -> Result<(), ParamError> {
        let (base, indexed) = match classify(&name) {
            Key::Plain => return self.params.insert(name, ParamValue::One(value)),
            Key::Push(base) => (base, false),
            Key::Indexed(base) => (base, true),
        };
        if base.is_empty() {
            return Err(ParamError::EmptyName);
        }
        if indexed && self.indexed.contains(&name) {
            return Err(ParamError::Duplicate(name));
        }
        match self.params.map.get_mut(base) {
            Some(ParamValue::One(_)) => return Err(ParamError::Duplicate(base.to_owned())),
            Some(ParamValue::List(values)) => values.push(value),
            None => {
                self.params
                    .map
                    .insert(base.to_owned(), ParamValue::List(vec![value]));
            }
        }
        if indexed {
            self.indexed.insert(name);
        }
        Ok(())
    }
}

/// `a=1&b=2` with `+` as space; bad `%` escapes stay literal, as browsers
/// and PHP do, so clients that forget to escape `%` still get through.
fn parse_urlencoded(input: &[u8], out: &mut Collector<'_>) -> Result<(), ParamError> {
    for segment in input.split(|&b| b == b'&').filter(|s| !s.is_empty()) {
        out.count_one()?;
        let mut halves = segment.splitn(2, |&b| b == b'=');
        let raw_name = halves.next().unwrap_or_default();
        let raw_value = halves.next().unwrap_or_default();

        let name = decode(raw_name, out.limits.max_name_bytes).ok_or(ParamError::NameTooLong {
            max: out.limits.max_name_bytes,
        })?;
        out.check_name(&name)?;
        let name = String::from_utf8(name).map_err(|_| ParamError::InvalidUtf8 {
            name: PARAMETER_NAME.to_owned(),
        })?;

        let value = decode(raw_value, out.limits.max_value_bytes)
            .ok_or_else(|| out.value_too_long(&name))?;
        let value =
            String::from_utf8(value).map_err(|_| ParamError::InvalidUtf8 { name: name.clone() })?;
        out.add(name, value)?;
    }
    Ok(())
}

/// Decodes one urlencoded component, or `None` once it exceeds `max` bytes
/// (decoding stops there, so an oversized value is never built). `+` is a
/// space; `%` with two hex digits is a byte, any other `%` stays literal.
/// One pass into a buffer sized up front: this runs for every parameter of
/// every request (docs/performance.md).
fn decode(raw: &[u8], max: usize) -> Option<Vec<u8>> {
    if !raw.iter().any(|&b| b == b'%' || b == b'+') {
        return (raw.len() <= max).then(|| raw.to_vec());
    }
    let mut out = Vec::with_capacity(raw.len().min(max.saturating_add(1)));
    let mut i = 0;
    while i < raw.len() {
        if out.len() >= max.saturating_add(1) {
            return None;
        }
        let (byte, used) = match raw[i] {
            b'+' => (b' ', 1),
            b'%' => match (
                raw.get(i + 1).copied().and_then(hex_digit),
                raw.get(i + 2).copied().and_then(hex_digit),
            ) {
                (Some(hi), Some(lo)) => (hi << 4 | lo, 3),
                _ => (b'%', 1),
            },
            b => (b, 1),
        };
        out.push(byte);
        i += used;
    }
    (out.len() <= max).then_some(out)
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Parses a multipart body with `multer`. The body is already in memory, so
/// its stream never returns `Pending` and each future completes on its first
/// poll; `now_or_never` returning `None` would mean a truncated body.
fn parse_multipart(
    content_type: &str,
    body: &[u8],
    out: &mut Collector<'_>,
) -> Result<(), ParamError> {
    let boundary = multer::parse_boundary(content_type)
        .map_err(|e| ParamError::Malformed(format!("multipart content type: {e}")))?;
    let max_value = out.limits.max_value_bytes;
    let size_limit = multer::SizeLimit::new()
        .whole_stream(u64::try_from(body.len()).unwrap_or(u64::MAX))
        .per_field(u64::try_from(max_value).unwrap_or(u64::MAX));
    let constraints = multer::Constraints::new().size_limit(size_limit);
    let stream = futures_util::stream::once(futures_util::future::ready(Ok::<Bytes, Infallible>(
        Bytes::copy_from_slice(body),
    )));
    let mut multipart = multer::Multipart::with_constraints(stream, boundary, constraints);

    loop {
        let mut field = match multipart.next_field().now_or_never() {
            None => return Err(stalled()),
            Some(Err(e)) => return Err(multer_error(e, max_value)),
            Some(Ok(None)) => return Ok(()),
            Some(Ok(Some(field))) => field,
        };
        out.count_one()?;
        let name = match field.name() {
            Some(name) => name.to_owned(),
            None => {
                let disposition = field.headers().get("content-disposition");
                return Err(nameless_part(disposition.map(|v| v.as_bytes())));
            }
        };
        out.check_name(name.as_bytes())?;

        let mut value = Vec::new();
        loop {
            match field.chunk().now_or_never() {
                None => return Err(stalled()),
                Some(Err(e)) => return Err(multer_error(e, max_value)),
                Some(Ok(None)) => break,
                Some(Ok(Some(chunk))) => {
                    if chunk.len() > max_value.saturating_sub(value.len()) {
                        return Err(out.value_too_long(&name));
                    }
                    value.extend_from_slice(&chunk);
                }
            }
        }
        let value =
            String::from_utf8(value).map_err(|_| ParamError::InvalidUtf8 { name: name.clone() })?;
        out.add(name, value)?;
    }
}

fn stalled() -> ParamError {
    ParamError::Malformed("multipart body ends early".to_owned())
}

/// multer drops a name that is not UTF-8; report that as such instead of
/// as a missing name.
fn nameless_part(disposition: Option<&[u8]>) -> ParamError {
    match disposition {
        Some(value) if std::str::from_utf8(value).is_err() => ParamError::InvalidUtf8 {
            name: PARAMETER_NAME.to_owned(),
        },
        _ => ParamError::Malformed("multipart part without a name".to_owned()),
    }
}

fn multer_error(e: multer::Error, max_value: usize) -> ParamError {
    match e {
        multer::Error::FieldSizeExceeded { field_name, .. } => ParamError::ValueTooLong {
            name: field_name.unwrap_or_default(),
            max: max_value,
        },
        e => ParamError::Malformed(format!("multipart body: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const LIMITS: Limits = Limits {
        max_params: 256,
        max_name_bytes: 256,
        max_value_bytes: 65_536,
    };
    const URLENCODED: Option<&str> = Some("application/x-www-form-urlencoded");
    const BOUNDARY: &str = "XyZzY-boundary";
    const MULTIPART: Option<&str> = Some("multipart/form-data; boundary=XyZzY-boundary");

    fn body(query: &str, ct: Option<&str>, body: &str) -> Result<Params, ParamError> {
        parse(query, ct, body.as_bytes(), &LIMITS)
    }

    fn form(b: &str) -> Result<Params, ParamError> {
        body("", URLENCODED, b)
    }

    fn one(name: &str, value: &str) -> (String, ParamValue) {
        (name.to_owned(), ParamValue::One(value.to_owned()))
    }

    fn list(name: &str, values: &[&str]) -> (String, ParamValue) {
        (
            name.to_owned(),
            ParamValue::List(values.iter().map(|v| (*v).to_owned()).collect()),
        )
    }

    fn params(entries: Vec<(String, ParamValue)>) -> Params {
        Params {
            map: entries.into_iter().collect(),
        }
    }

    /// A multipart body; a part is (name, filename, value).
    fn multipart(parts: &[(Option<&str>, Option<&str>, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, filename, value) in parts {
            out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
            let mut disposition = "Content-Disposition: form-data".to_owned();
            if let Some(name) = name {
                disposition.push_str(&format!("; name=\"{name}\""));
            }
            if let Some(filename) = filename {
                disposition.push_str(&format!("; filename=\"{filename}\""));
            }
            out.extend_from_slice(disposition.as_bytes());
            out.extend_from_slice(b"\r\n");
            if filename.is_some() {
                out.extend_from_slice(b"Content-Type: application/octet-stream\r\n");
            }
            out.extend_from_slice(b"\r\n");
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        out
    }

    fn parse_multipart_parts(
        parts: &[(Option<&str>, Option<&str>, &[u8])],
    ) -> Result<Params, ParamError> {
        parse("", MULTIPART, &multipart(parts), &LIMITS)
    }

    // ---- urlencoded ----

    #[test]
    fn panthermedia_sample_body() {
        let b = "api_key=a5e7b1e2c4&access_key=96c3f2aa01&timestamp=Thu,%2026Jul%202012%2014:53:44%20UTC&nonce=Im%20ar%20andomS%20tring&algo=sha1";
        let p = form(b);
        assert_eq!(
            p,
            Ok(params(vec![
                one("api_key", "a5e7b1e2c4"),
                one("access_key", "96c3f2aa01"),
                one("timestamp", "Thu, 26Jul 2012 14:53:44 UTC"),
                one("nonce", "Im ar andomS tring"),
                one("algo", "sha1"),
            ]))
        );
    }

    #[test]
    fn raw_comma_colon_and_plus_spaces() {
        let p = form("timestamp=Thu,+26+Jul+2012+14:53:44+UTC&path=/a/b");
        assert_eq!(
            p.as_ref().ok().and_then(|p| p.get("timestamp")),
            Some("Thu, 26 Jul 2012 14:53:44 UTC")
        );
        assert_eq!(p.as_ref().ok().and_then(|p| p.get("path")), Some("/a/b"));
    }

    #[test]
    fn plus_decoding_happens_before_percent_decoding() {
        let p = form("a=1%2B1+2");
        assert_eq!(p.ok().as_ref().and_then(|p| p.get("a")), Some("1+1 2"));
    }

    #[test]
    fn segments_and_missing_equals() {
        let p = form("&&a=1&&b&c=&d=x=y&");
        assert_eq!(
            p,
            Ok(params(vec![
                one("a", "1"),
                one("b", ""),
                one("c", ""),
                one("d", "x=y"),
            ]))
        );
    }

    #[test]
    fn malformed_percent_kept_literally() {
        let p = form("a=100%&b=%zz&c=%4&d=%41%4a");
        assert_eq!(
            p,
            Ok(params(vec![
                one("a", "100%"),
                one("b", "%zz"),
                one("c", "%4"),
                one("d", "AJ"),
            ]))
        );
    }

    #[test]
    fn percent_encoded_utf8() {
        let p = form("q=%C3%A9t%C3%A9&%C3%BC=1");
        assert_eq!(p, Ok(params(vec![one("q", "été"), one("ü", "1")])));
    }

    #[test]
    fn invalid_utf8_value_and_name() {
        assert_eq!(
            form("q=%FF"),
            Err(ParamError::InvalidUtf8 { name: "q".into() })
        );
        assert_eq!(
            form("%FF=1"),
            Err(ParamError::InvalidUtf8 {
                name: PARAMETER_NAME.into()
            })
        );
        assert_eq!(
            parse("", URLENCODED, b"q=\xC3", &LIMITS),
            Err(ParamError::InvalidUtf8 { name: "q".into() })
        );
        assert_eq!(
            ParamError::InvalidUtf8 { name: "q".into() }.to_string(),
            "parameters must be UTF-8 (parameter 'q' is not)"
        );
        assert_eq!(
            ParamError::InvalidUtf8 {
                name: PARAMETER_NAME.into()
            }
            .to_string(),
            "parameters must be UTF-8 (a parameter name is not)"
        );
    }

    #[test]
    fn empty_name() {
        assert_eq!(form("=1"), Err(ParamError::EmptyName));
        assert_eq!(form("a=1&="), Err(ParamError::EmptyName));
        assert_eq!(form("[]=1"), Err(ParamError::EmptyName));
        assert_eq!(form("[0]=1"), Err(ParamError::EmptyName));
        assert_eq!(body("=x", None, ""), Err(ParamError::EmptyName));
    }

    // ---- content types ----

    #[test]
    fn content_type_variants() {
        let want = Ok(params(vec![one("a", "1")]));
        for ct in [
            Some("application/x-www-form-urlencoded"),
            Some("application/x-www-form-urlencoded; charset=UTF-8"),
            Some("Application/X-WWW-Form-Urlencoded;charset=utf-8"),
            Some("application/x-www-form-urlencoded ; Charset=\"UTF-8\""),
            None,
            Some(""),
        ] {
            assert_eq!(body("", ct, "a=1"), want, "{ct:?}");
        }
    }

    #[test]
    fn empty_body_with_any_content_type() {
        for ct in [
            None,
            URLENCODED,
            MULTIPART,
            Some("text/plain"),
            Some("multipart/form-data"),
        ] {
            assert_eq!(body("a=1", ct, ""), Ok(params(vec![one("a", "1")])));
        }
    }

    #[test]
    fn unsupported_content_type() {
        assert_eq!(
            body("", Some("application/json"), "{}"),
            Err(ParamError::UnsupportedContentType(
                "application/json".into()
            ))
        );
        assert_eq!(
            body("", Some("text/plain; charset=utf-8"), "a=1"),
            Err(ParamError::UnsupportedContentType(
                "text/plain; charset=utf-8".into()
            ))
        );
    }

    // ---- query + body ----

    #[test]
    fn query_and_body_merge() {
        let p = body("a=1&b=2", URLENCODED, "c=3");
        assert_eq!(
            p,
            Ok(params(vec![one("a", "1"), one("b", "2"), one("c", "3")]))
        );
    }

    #[test]
    fn query_only() {
        let p = body("api_key=k&nonce=n+1", None, "");
        assert_eq!(
            p,
            Ok(params(vec![one("api_key", "k"), one("nonce", "n 1")]))
        );
    }

    #[test]
    fn duplicates() {
        let dup = |n: &str| Err(ParamError::Duplicate(n.into()));
        assert_eq!(form("nonce=1&nonce=2"), dup("nonce"));
        assert_eq!(form("nonce=1&nonce=1"), dup("nonce"));
        assert_eq!(form("a=1&a[]=2"), dup("a"));
        assert_eq!(form("a[]=1&a=2"), dup("a"));
        assert_eq!(form("a[0]=1&a=2"), dup("a"));
        assert_eq!(form("a[0]=1&a[0]=2"), dup("a[0]"));
        assert_eq!(form("a=1&%61=2"), dup("a"));
        assert_eq!(body("nonce=1", URLENCODED, "nonce=2"), dup("nonce"));
        assert_eq!(body("s[]=1", URLENCODED, "s[]=2"), dup("s"));
        assert_eq!(
            ParamError::Duplicate("nonce".into()).to_string(),
            "parameter 'nonce' given twice"
        );
    }

    // ---- arrays ----

    #[test]
    fn array_forms() {
        let p = form("state[]=a&x=1&state[]=b&state%5B%5D=c&id[1]=p&id[0]=q&id[]=r");
        assert_eq!(
            p,
            Ok(params(vec![
                list("state", &["a", "b", "c"]),
                one("x", "1"),
                list("id", &["p", "q", "r"]),
            ]))
        );
    }

    #[test]
    fn non_numeric_brackets_are_plain_names() {
        let p = form("a[x]=1&a[=2&a]=3&a[1x]=4");
        assert_eq!(
            p,
            Ok(params(vec![
                one("a[x]", "1"),
                one("a[", "2"),
                one("a]", "3"),
                one("a[1x]", "4"),
            ]))
        );
    }

    #[test]
    fn accessors() {
        let p = form("s[]=a&s[]=b&t=1");
        let Ok(mut p) = p else {
            panic!("parse failed: {p:?}");
        };
        assert_eq!(p.get("s"), None);
        assert_eq!(p.get_list("s"), Some(vec!["a", "b"]));
        assert_eq!(p.get("t"), Some("1"));
        assert_eq!(p.get_list("t"), Some(vec!["1"]));
        assert_eq!(p.get_list("u"), None);
        assert!(p.contains("s") && p.contains("t") && !p.contains("s[]"));
        assert_eq!(p.len(), 2);
        assert!(!p.is_empty());
        let names: Vec<&str> = p.iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["s", "t"]);
        assert_eq!(
            p.insert("t".into(), ParamValue::One("2".into())),
            Err(ParamError::Duplicate("t".into()))
        );
        assert_eq!(p.insert("u".into(), ParamValue::One("3".into())), Ok(()));
        assert_eq!(p.remove("t"), Some(ParamValue::One("1".into())));
        assert_eq!(p.remove("t"), None);
        assert_eq!(p.len(), 2);
        assert!(Params::default().is_empty());
    }

    #[test]
    fn iter_is_sorted() {
        let p = form("b=1&a=2&C=3&aa=4").unwrap_or_default();
        let names: Vec<&str> = p.iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["C", "a", "aa", "b"]);
    }

    // ---- limits ----

    #[test]
    fn too_many() {
        let l = Limits {
            max_params: 3,
            ..LIMITS
        };
        assert!(parse("", URLENCODED, b"a=1&b=2&c=3", &l).is_ok());
        assert_eq!(
            parse("", URLENCODED, b"a=1&b=2&c=3&d=4", &l),
            Err(ParamError::TooMany { max: 3 })
        );
        // Array elements count one each.
        assert_eq!(
            parse("", URLENCODED, b"s[]=1&s[]=2&s[]=3&s[]=4", &l),
            Err(ParamError::TooMany { max: 3 })
        );
        // Query and body share the budget.
        assert_eq!(
            parse("a=1&b=2", URLENCODED, b"c=3&d=4", &l),
            Err(ParamError::TooMany { max: 3 })
        );
        // Empty segments are not parameters.
        assert!(parse("", URLENCODED, b"a=1&&&&b=2&&c=3&", &l).is_ok());
        assert_eq!(
            ParamError::TooMany { max: 256 }.to_string(),
            "too many parameters (at most 256)"
        );
    }

    #[test]
    fn name_too_long() {
        let l = Limits {
            max_name_bytes: 4,
            ..LIMITS
        };
        assert!(parse("", URLENCODED, b"abcd=1", &l).is_ok());
        assert!(parse("", URLENCODED, b"%61%62%63%64=1", &l).is_ok());
        assert_eq!(
            parse("", URLENCODED, b"abcde=1", &l),
            Err(ParamError::NameTooLong { max: 4 })
        );
        // Brackets count.
        assert_eq!(
            parse("", URLENCODED, b"abc[]=1", &l),
            Err(ParamError::NameTooLong { max: 4 })
        );
        assert_eq!(
            parse("abcde", None, b"", &l),
            Err(ParamError::NameTooLong { max: 4 })
        );
    }

    #[test]
    fn value_too_long() {
        let l = Limits {
            max_value_bytes: 3,
            ..LIMITS
        };
        assert!(parse("", URLENCODED, b"q=abc", &l).is_ok());
        assert!(parse("", URLENCODED, b"q=%41%42%43", &l).is_ok());
        assert_eq!(
            parse("", URLENCODED, b"q=abcd", &l),
            Err(ParamError::ValueTooLong {
                name: "q".into(),
                max: 3
            })
        );
        assert_eq!(
            parse("q=a+b+c", None, b"", &l),
            Err(ParamError::ValueTooLong {
                name: "q".into(),
                max: 3
            })
        );
        assert_eq!(
            ParamError::ValueTooLong {
                name: "q".into(),
                max: 65_536
            }
            .to_string(),
            "parameter 'q' is longer than 65536 bytes"
        );
    }

    // ---- multipart ----

    #[test]
    fn multipart_simple_fields() {
        let p = parse_multipart_parts(&[
            (Some("api_key"), None, b"a5e7"),
            (Some("timestamp"), None, b"Thu, 26 Jul 2012 14:53:44 UTC"),
            (Some("text"), None, "line 1\r\nl\u{e9}ne 2 %41+".as_bytes()),
            (Some("empty"), None, b""),
        ]);
        assert_eq!(
            p,
            Ok(params(vec![
                one("api_key", "a5e7"),
                one("timestamp", "Thu, 26 Jul 2012 14:53:44 UTC"),
                one("text", "line 1\r\nléne 2 %41+"),
                one("empty", ""),
            ]))
        );
    }

    #[test]
    fn multipart_arrays() {
        let p = parse_multipart_parts(&[
            (Some("state[]"), None, b"a"),
            (Some("state[]"), None, b"b"),
            (Some("id[0]"), None, b"x"),
            (Some("id[1]"), None, b"y"),
        ]);
        assert_eq!(
            p,
            Ok(params(vec![
                list("state", &["a", "b"]),
                list("id", &["x", "y"])
            ]))
        );
    }

    #[test]
    fn multipart_file_part() {
        let p = parse_multipart_parts(&[
            (Some("title"), None, b"t"),
            (Some("file"), Some("notes.txt"), b"file contents\n"),
        ]);
        assert_eq!(
            p,
            Ok(params(vec![
                one("title", "t"),
                one("file", "file contents\n")
            ]))
        );
        assert_eq!(
            parse_multipart_parts(&[(Some("file"), Some("x.bin"), b"\xff\xfe")]),
            Err(ParamError::InvalidUtf8 {
                name: "file".into()
            })
        );
    }

    #[test]
    fn multipart_errors() {
        assert!(matches!(
            parse_multipart_parts(&[(None, None, b"v")]),
            Err(ParamError::Malformed(_))
        ));
        assert!(matches!(
            parse_multipart_parts(&[(None, Some("f.txt"), b"v")]),
            Err(ParamError::Malformed(_))
        ));
        assert_eq!(
            parse_multipart_parts(&[(Some(""), None, b"v")]),
            Err(ParamError::EmptyName)
        );
        assert_eq!(
            parse_multipart_parts(&[(Some("a"), None, b"1"), (Some("a"), None, b"2")]),
            Err(ParamError::Duplicate("a".into()))
        );
        assert_eq!(
            parse_multipart_parts(&[(Some("a"), None, b"1"), (Some("a[]"), None, b"2")]),
            Err(ParamError::Duplicate("a".into()))
        );
        // Truncated: no closing boundary.
        let mut truncated = multipart(&[(Some("a"), None, b"1")]);
        truncated.truncate(truncated.len() - 10);
        assert!(matches!(
            parse("", MULTIPART, &truncated, &LIMITS),
            Err(ParamError::Malformed(_))
        ));
        // Not multipart at all.
        assert!(matches!(
            parse("", MULTIPART, b"a=1", &LIMITS),
            Err(ParamError::Malformed(_))
        ));
        // No boundary in the content type.
        assert!(matches!(
            parse("", Some("multipart/form-data"), b"--x\r\n", &LIMITS),
            Err(ParamError::Malformed(_))
        ));
        // Non-UTF-8 name: multer drops it; we say why.
        let mut raw = Vec::new();
        raw.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        raw.extend_from_slice(b"Content-Disposition: form-data; name=\"\xff\"\r\n\r\nv\r\n");
        raw.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        assert_eq!(
            parse("", MULTIPART, &raw, &LIMITS),
            Err(ParamError::InvalidUtf8 {
                name: PARAMETER_NAME.into()
            })
        );
    }

    #[test]
    fn multipart_content_type_case_and_quoting() {
        let b = multipart(&[(Some("a"), None, b"1")]);
        for ct in [
            "Multipart/Form-Data; boundary=XyZzY-boundary",
            "multipart/form-data; boundary=\"XyZzY-boundary\"",
            "multipart/form-data; charset=utf-8; boundary=XyZzY-boundary",
        ] {
            assert_eq!(
                parse("", Some(ct), &b, &LIMITS),
                Ok(params(vec![one("a", "1")])),
                "{ct}"
            );
        }
    }

    #[test]
    fn multipart_with_query_and_duplicate_across() {
        let b = multipart(&[(Some("a"), None, b"1")]);
        assert_eq!(
            parse("b=2", MULTIPART, &b, &LIMITS),
            Ok(params(vec![one("a", "1"), one("b", "2")]))
        );
        assert_eq!(
            parse("a=2", MULTIPART, &b, &LIMITS),
            Err(ParamError::Duplicate("a".into()))
        );
    }

    #[test]
    fn multipart_limits() {
        let b = multipart(&[
            (Some("a"), None, b"1"),
            (Some("s[]"), None, b"2"),
            (Some("s[]"), None, b"3"),
        ]);
        let l = Limits {
            max_params: 2,
            ..LIMITS
        };
        assert_eq!(
            parse("", MULTIPART, &b, &l),
            Err(ParamError::TooMany { max: 2 })
        );
        let l = Limits {
            max_params: 3,
            ..LIMITS
        };
        assert!(parse("", MULTIPART, &b, &l).is_ok());
        assert_eq!(
            parse("q=1", MULTIPART, &b, &l),
            Err(ParamError::TooMany { max: 3 })
        );

        let l = Limits {
            max_name_bytes: 2,
            ..LIMITS
        };
        assert_eq!(
            parse("", MULTIPART, &b, &l),
            Err(ParamError::NameTooLong { max: 2 })
        );

        let big = multipart(&[(Some("a"), None, b"1234"), (Some("f"), Some("f"), b"12345")]);
        let l = Limits {
            max_value_bytes: 4,
            ..LIMITS
        };
        assert_eq!(
            parse("", MULTIPART, &big, &l),
            Err(ParamError::ValueTooLong {
                name: "f".into(),
                max: 4
            })
        );
        let l = Limits {
            max_value_bytes: 5,
            ..LIMITS
        };
        assert!(parse("", MULTIPART, &big, &l).is_ok());
        let l = Limits {
            max_value_bytes: 0,
            ..LIMITS
        };
        assert_eq!(
            parse("", MULTIPART, &big, &l),
            Err(ParamError::ValueTooLong {
                name: "a".into(),
                max: 0
            })
        );
    }

    #[test]
    fn error_messages() {
        assert_eq!(
            ParamError::NameTooLong { max: 256 }.to_string(),
            "a parameter name is longer than 256 bytes"
        );
        assert_eq!(ParamError::EmptyName.to_string(), "parameter name is empty");
        assert!(ParamError::UnsupportedContentType("text/plain".into())
            .to_string()
            .contains("'text/plain'"));
        assert_eq!(
            ParamError::Malformed("x".into()).to_string(),
            "malformed request: x"
        );
    }

    // ---- property tests ----

    /// Tiny deterministic RNG so one proptest seed drives many encoding
    /// choices.
    struct Rng(u64);
    impl Rng {
        fn bit(&mut self) -> bool {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 & 1 == 1
        }
    }

    fn encode(s: &str, rng: &mut Rng) -> String {
        let mut out = String::new();
        for ch in s.chars() {
            let safe = ch.is_ascii_alphanumeric() || "-._~,:/!*'()@$;?".contains(ch);
            if ch == ' ' && rng.bit() {
                out.push('+');
            } else if (safe || !ch.is_ascii()) && rng.bit() {
                out.push(ch);
            } else {
                let mut buf = [0u8; 4];
                for b in ch.encode_utf8(&mut buf).bytes() {
                    if rng.bit() {
                        out.push_str(&format!("%{b:02X}"));
                    } else {
                        out.push_str(&format!("%{b:02x}"));
                    }
                }
            }
        }
        out
    }

    fn name_strategy() -> impl Strategy<Value = String> {
        // No '[' so a name never reads as an array.
        "[^\\[]{1,24}"
    }

    /// The decoder before it was hand-written: `+` to space, then
    /// `percent_encoding::percent_decode`, cut after `max + 1` bytes.
    fn reference_decode(raw: &[u8], max: usize) -> Option<Vec<u8>> {
        let plus: Vec<u8> = raw
            .iter()
            .map(|&b| if b == b'+' { b' ' } else { b })
            .collect();
        let decoded: Vec<u8> = percent_encoding::percent_decode(&plus)
            .take(max.saturating_add(1))
            .collect();
        (decoded.len() <= max).then_some(decoded)
    }

    proptest! {
        #[test]
        fn decode_matches_the_reference(
            raw in prop::collection::vec(prop::sample::select(
                b"%+aF0g9 =&\xff\x00zZ".to_vec()), 0..40),
            max in 0usize..48,
        ) {
            prop_assert_eq!(decode(&raw, max), reference_decode(&raw, max));
        }

        #[test]
        fn urlencoded_roundtrip(
            map in prop::collection::btree_map(name_strategy(), ".{0,40}", 0..20),
            seed in any::<u64>(),
            ct in prop::sample::select(vec![
                None,
                Some("application/x-www-form-urlencoded"),
                Some("application/x-www-form-urlencoded; charset=UTF-8"),
            ]),
        ) {
            let mut rng = Rng(seed | 1);
            let mut query = Vec::new();
            let mut body = Vec::new();
            for (name, value) in &map {
                let pair = format!("{}={}", encode(name, &mut rng), encode(value, &mut rng));
                if rng.bit() { query.push(pair) } else { body.push(pair) }
                if rng.bit() {
                    // Stray empty segments are skipped.
                    body.push(String::new());
                }
            }
            let got = parse(&query.join("&"), ct, body.join("&").as_bytes(), &LIMITS);
            let want = params(
                map.iter()
                    .map(|(n, v)| (n.clone(), ParamValue::One(v.clone())))
                    .collect(),
            );
            prop_assert_eq!(got, Ok(want));
        }

        #[test]
        fn urlencoded_arrays_roundtrip(
            values in prop::collection::vec(".{0,10}", 1..10),
            seed in any::<u64>(),
        ) {
            let mut rng = Rng(seed | 1);
            let body: Vec<String> = values
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let key = if rng.bit() { "s%5B%5D".to_owned() } else { format!("s[{i}]") };
                    format!("{key}={}", encode(v, &mut rng))
                })
                .collect();
            let got = parse("", None, body.join("&").as_bytes(), &LIMITS);
            prop_assert_eq!(got, Ok(params(vec![(
                "s".to_owned(),
                ParamValue::List(values.clone()),
            )])));
        }

        #[test]
        fn arbitrary_input_never_panics(
            query in any::<String>(),
            body in prop::collection::vec(any::<u8>(), 0..512),
            ct in prop::sample::select(vec![
                None,
                Some("application/x-www-form-urlencoded"),
                Some("multipart/form-data; boundary=XyZzY-boundary"),
                Some("multipart/form-data"),
                Some("text/plain"),
                Some(";;;"),
            ]),
            max_params in 0usize..8,
            max_name_bytes in 0usize..8,
            max_value_bytes in 0usize..8,
        ) {
            let small = Limits { max_params, max_name_bytes, max_value_bytes };
            let _ = parse(&query, ct, &body, &small);
            let _ = parse(&query, ct, &body, &LIMITS);
        }

        #[test]
        fn urlencodedish_bytes_never_panic(
            body in prop::collection::vec(
                prop::sample::select(b"ab=&+%[]0123456789AFfz\xc3\xa9\xff".to_vec()),
                0..256,
            ),
        ) {
            let _ = parse("", None, &body, &LIMITS);
            if let Ok(q) = std::str::from_utf8(&body) {
                let _ = parse(q, None, b"", &LIMITS);
            }
        }

        #[test]
        fn multipartish_bytes_never_panic(
            pieces in prop::collection::vec(
                prop_oneof![
                    Just(b"--XyZzY-boundary".to_vec()),
                    Just(b"--XyZzY-boundary--".to_vec()),
                    Just(b"\r\n".to_vec()),
                    Just(b"\r\n\r\n".to_vec()),
                    Just(b"\r".to_vec()),
                    Just(b"Content-Disposition: form-data; name=\"a\"".to_vec()),
                    Just(b"Content-Disposition: form-data; name=\"s[]\"; filename=\"f\"".to_vec()),
                    Just(b"Content-Disposition: form-data".to_vec()),
                    Just(b"Content-Type: text/plain".to_vec()),
                    Just(b"name=".to_vec()),
                    Just(b"\"".to_vec()),
                    Just(b"\xff".to_vec()),
                    prop::collection::vec(any::<u8>(), 0..16),
                ],
                0..24,
            ),
            max_params in 0usize..4,
            max_value_bytes in 0usize..16,
        ) {
            let body = pieces.concat();
            let small = Limits { max_params, max_name_bytes: 8, max_value_bytes };
            let _ = parse("", MULTIPART, &body, &small);
            let _ = parse("", MULTIPART, &body, &LIMITS);
        }

        /// Well-formed bodies, then damaged, so the fuzzing reaches past the
        /// first boundary and header block.
        #[test]
        fn damaged_multipart_never_panics(
            parts in prop::collection::vec(
                (
                    prop::sample::select(vec![Some("a"), Some("s[]"), Some("i[0]"), Some(""), None]),
                    prop::option::of("[a-z.]{0,5}"),
                    prop::collection::vec(any::<u8>(), 0..24),
                ),
                0..5,
            ),
            cut in any::<prop::sample::Index>(),
            insert_at in any::<prop::sample::Index>(),
            insert in prop::collection::vec(any::<u8>(), 0..6),
            mode in 0u8..3,
            max_params in 0usize..6,
            max_value_bytes in 0usize..32,
        ) {
            let parts: Vec<(Option<&str>, Option<&str>, &[u8])> = parts
                .iter()
                .map(|(n, f, v)| (*n, f.as_deref(), v.as_slice()))
                .collect();
            let mut body = multipart(&parts);
            match mode {
                0 => body.truncate(cut.index(body.len() + 1)),
                1 => {
                    let at = insert_at.index(body.len() + 1);
                    body.splice(at..at, insert);
                }
                _ => {}
            }
            let small = Limits { max_params, max_name_bytes: 8, max_value_bytes };
            let _ = parse("", MULTIPART, &body, &small);
            let _ = parse("", MULTIPART, &body, &LIMITS);
        }
    }
}
