//! The body of `set-user-media-metadata`: XML (`<media id_media="…"><title/>…`)
//! or JSON (`{"id_media": "…", "title": …}`), parsed into one checked update.
//! Bounded: depth, element count and field lengths are capped, DOCTYPEs are
//! refused, and any input yields a value or an error, never a panic.

use quick_xml::events::Event;
use quick_xml::reader::Reader;

use crate::store::media::MetadataUpdate;

/// Longest title, description and keyword (characters); most keywords.
pub const MAX_TITLE: usize = 250;
pub const MAX_DESCRIPTION: usize = 4000;
pub const MAX_KEYWORD: usize = 100;
pub const MAX_KEYWORDS: usize = 100;
const MAX_DEPTH: usize = 3;
const MAX_EVENTS: usize = 10_000;

/// The names a body (or form) may set.
pub const FIELDS: &[&str] = &[
    "title",
    "description",
    "keywords",
    "editorial",
    "model_release",
    "property_release",
];

/// A parsed body: which item, and what to change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Body {
    pub id_media: Option<i64>,
    pub update: MetadataUpdate,
}

/// Parses an XML or JSON body (told apart by its first character).
pub fn parse(body: &str) -> Result<Body, String> {
    let t = body.trim_start_matches('\u{feff}').trim_start();
    match t.chars().next() {
        Some('<') => parse_xml(t),
        Some('{') => parse_json(t),
        _ => Err("the body must be XML (<media …>) or JSON ({…})".into()),
    }
}

/// Sets one field from its text; the form parameters go through here too.
pub fn set_field(body: &mut Body, name: &str, value: &str) -> Result<(), String> {
    let u = &mut body.update;
    let dup = |n: &str| Err(format!("'{n}' given twice"));
    match name {
        "id_media" | "id" => {
            if body.id_media.is_some() {
                return dup("id_media");
            }
            body.id_media = Some(parse_id(value)?);
        }
        "title" => {
            if u.title.is_some() {
                return dup(name);
            }
            u.title = Some(bounded(name, value, MAX_TITLE)?);
        }
        "description" => {
            if u.description.is_some() {
                return dup(name);
            }
            u.description = Some(bounded(name, value, MAX_DESCRIPTION)?);
        }
        "keywords" => {
            if u.keywords.is_some() {
                return dup(name);
            }
            u.keywords = Some(keywords(value.split(','))?);
        }
        "editorial" | "model_release" | "property_release" => {
            let b = parse_bool(name, value)?;
            let slot = match name {
                "editorial" => &mut u.editorial,
                "model_release" => &mut u.model_release,
                _ => &mut u.property_release,
            };
            if slot.is_some() {
                return dup(name);
            }
            *slot = Some(b);
        }
        other => {
            return Err(format!(
                "unknown field '{}', expected id_media, {}",
                other.chars().take(40).collect::<String>(),
                FIELDS.join(", ")
            ))
        }
    }
    Ok(())
}

/// A media id: a positive integer.
pub fn parse_id(value: &str) -> Result<i64, String> {
    value
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| "id_media must be a positive integer".to_string())
}

fn bounded(name: &str, value: &str, max: usize) -> Result<String, String> {
    let v = value.trim();
    if v.chars().count() > max {
        return Err(format!("{name} is longer than {max} characters"));
    }
    if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(format!("{name} contains control characters"));
    }
    Ok(v.to_string())
}

/// Normalises keywords: trimmed, no empties, no duplicates (case-insensitive).
pub fn keywords<'a>(items: impl Iterator<Item = &'a str>) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for k in items.map(str::trim).filter(|k| !k.is_empty()) {
        let k = bounded("a keyword", k, MAX_KEYWORD)?;
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&k)) {
            out.push(k);
        }
        if out.len() > MAX_KEYWORDS {
            return Err(format!("more than {MAX_KEYWORDS} keywords"));
        }
    }
    Ok(out)
}

fn parse_bool(name: &str, value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "yes" | "true" | "1" => Ok(true),
        "no" | "false" | "0" | "" => Ok(false),
        _ => Err(format!("{name} must be yes or no")),
    }
}

fn parse_xml(s: &str) -> Result<Body, String> {
    let mut reader = Reader::from_str(s);
    reader.config_mut().trim_text(true);
    let mut body = Body::default();
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut keyword_items: Option<Vec<String>> = None;
    let mut seen_root = false;
    for _ in 0..MAX_EVENTS {
        let event = reader
            .read_event()
            .map_err(|e| format!("malformed XML at byte {}: {e}", reader.buffer_position()))?;
        match event {
            Event::Start(_) | Event::Empty(_) if path.len() >= MAX_DEPTH => {
                return Err(format!("XML nested deeper than {MAX_DEPTH} levels"));
            }
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                open(&mut body, &mut path, &mut seen_root, &name, &e)?;
                if path.len() == 1 && name == "keywords" {
                    keyword_items = Some(Vec::new());
                }
                path.push(name);
                text.clear();
            }
            Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                open(&mut body, &mut path, &mut seen_root, &name, &e)?;
                if path.len() == 1 {
                    set_field(&mut body, &name, "")?;
                }
            }
            Event::Text(t) => {
                let v = t.unescape().map_err(|e| format!("bad text in XML: {e}"))?;
                if path.len() < 2 {
                    return Err("text outside a field element".into());
                }
                text.push_str(&v);
            }
            Event::CData(c) => {
                if path.len() < 2 {
                    return Err("text outside a field element".into());
                }
                text.push_str(std::str::from_utf8(&c).map_err(|_| "CDATA is not UTF-8")?);
            }
            Event::End(_) => {
                let name = path.pop().unwrap_or_default();
                match path.len() {
                    2 => {
                        // a <keyword> inside <keywords>
                        if let Some(items) = keyword_items.as_mut() {
                            items.push(std::mem::take(&mut text));
                        }
                    }
                    1 if name == "keywords"
                        && keyword_items.as_ref().is_some_and(|k| !k.is_empty()) =>
                    {
                        let items = keyword_items.take().unwrap_or_default();
                        set_field(&mut body, "keywords", &items.join(","))?;
                    }
                    1 => {
                        keyword_items = None;
                        set_field(&mut body, &name, &std::mem::take(&mut text))?;
                    }
                    _ => {}
                }
                text.clear();
            }
            Event::Eof => {
                if let Some(open) = path.last() {
                    return Err(format!("<{open}> is never closed"));
                }
                if !seen_root {
                    return Err("no <media> element".into());
                }
                return Ok(body);
            }
            Event::DocType(_) => return Err("DOCTYPE is not allowed".into()),
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
        }
    }
    Err(format!("XML with more than {MAX_EVENTS} parts"))
}

/// Checks an element being opened at `path` and reads the root's attributes.
fn open(
    body: &mut Body,
    path: &mut [String],
    seen_root: &mut bool,
    name: &str,
    e: &quick_xml::events::BytesStart<'_>,
) -> Result<(), String> {
    match path.len() {
        0 => {
            if *seen_root || name != "media" {
                return Err("the root element must be one <media>".into());
            }
            *seen_root = true;
            for a in e.attributes() {
                let a = a.map_err(|e| format!("bad attribute: {e}"))?;
                let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
                let v = a
                    .unescape_value()
                    .map_err(|e| format!("bad attribute value: {e}"))?;
                match key.as_str() {
                    "id_media" | "id" => set_field(body, "id_media", &v)?,
                    _ => {}
                }
            }
        }
        1 if name != "id_media" && !FIELDS.contains(&name) => {
            return Err(format!(
                "unknown element <{}>, expected id_media, {}",
                name.chars().take(40).collect::<String>(),
                FIELDS.join(", ")
            ))
        }
        2 if path[1] != "keywords" || name != "keyword" => {
            return Err("only <keywords> may hold elements (<keyword>)".into())
        }
        _ => {}
    }
    Ok(())
}

fn parse_json(s: &str) -> Result<Body, String> {
    // A key given twice is refused, as in forms and XML: "last one wins"
    // would give one request two readings.
    let v = serde_json::from_str::<UniqueKeys>(s)
        .map_err(|e| {
            if e.is_data() {
                e.to_string()
            } else {
                format!("malformed JSON: {e}")
            }
        })?
        .0;
    let obj = v.as_object().ok_or("the JSON body must be an object")?;
    // `{"media": {...}}` is accepted as well as the bare object
    let obj = match obj.get("media").and_then(|m| m.as_object()) {
        Some(inner) if obj.len() == 1 => inner,
        _ => obj,
    };
    let mut body = Body::default();
    for (k, v) in obj {
        let text = match v {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => if *b { "yes" } else { "no" }.to_string(),
            serde_json::Value::Null => String::new(),
            serde_json::Value::Array(items) if k == "keywords" => {
                let mut parts = Vec::new();
                for i in items {
                    let s = i.as_str().ok_or("keywords must be strings")?;
                    if s.contains(',') {
                        return Err("a keyword cannot contain a comma".into());
                    }
                    parts.push(s);
                }
                parts.join(",")
            }
            _ => {
                return Err(format!(
                    "'{}' must be a string",
                    k.chars().take(40).collect::<String>()
                ))
            }
        };
        set_field(&mut body, k, &text)?;
    }
    Ok(body)
}

/// A JSON value in which no object names a key twice (`serde_json::Value`
/// itself keeps the last one).
struct UniqueKeys(serde_json::Value);

impl<'de> serde::Deserialize<'de> for UniqueKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UniqueKeysVisitor).map(UniqueKeys)
    }
}

struct UniqueKeysVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueKeysVisitor {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Self::Value, E> {
        Ok(n.into())
    }

    fn visit_u64<E>(self, n: u64) -> Result<Self::Value, E> {
        Ok(n.into())
    }

    fn visit_f64<E>(self, n: f64) -> Result<Self::Value, E> {
        Ok(serde_json::Number::from_f64(n).map_or(serde_json::Value::Null, Into::into))
    }

    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(serde_json::Value::String(s.to_owned()))
    }

    fn visit_string<E>(self, s: String) -> Result<Self::Value, E> {
        Ok(serde_json::Value::String(s))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(serde_json::Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(UniqueKeys(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(serde_json::Value::Array(items))
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut obj = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let UniqueKeys(v) = map.next_value()?;
            if obj.contains_key(&key) {
                return Err(serde::de::Error::custom(format!(
                    "'{}' given twice",
                    key.chars().take(40).collect::<String>()
                )));
            }
            obj.insert(key, v);
        }
        Ok(serde_json::Value::Object(obj))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn xml_with_attributes_text_cdata_and_keyword_elements() {
        let b = parse(
            "<?xml version=\"1.0\"?><media id_media=\"12\"><title>Fox &amp; hound</title>\
             <description><![CDATA[a <b>bold</b> fox]]></description>\
             <keywords><keyword>fox</keyword><keyword> Fox </keyword><keyword>dog</keyword></keywords>\
             <editorial>yes</editorial><model_release/></media>",
        )
        .unwrap();
        assert_eq!(b.id_media, Some(12));
        assert_eq!(b.update.title.as_deref(), Some("Fox & hound"));
        assert_eq!(b.update.description.as_deref(), Some("a <b>bold</b> fox"));
        assert_eq!(b.update.keywords, Some(vec!["fox".into(), "dog".into()]));
        assert_eq!(b.update.editorial, Some(true));
        assert_eq!(b.update.model_release, Some(false));
        let b = parse("<media><id_media>5</id_media><keywords>a, b,,a</keywords></media>").unwrap();
        assert_eq!(
            (b.id_media, b.update.keywords),
            (Some(5), Some(vec!["a".into(), "b".into()]))
        );
    }

    #[test]
    fn bad_xml_is_refused() {
        for bad in [
            "<media><title>x</title><title>y</title></media>",
            "<media><color>red</color></media>",
            "<other/>",
            "<media/><media/>",
            "<!DOCTYPE x [<!ENTITY a \"b\">]><media/>",
            "<media><title>&ent;</title></media>",
            "<media><title><b>x</b></title></media>",
            "<media><title>x</media>",
            "<media><title>x",
            "<media id_media=\"1\">",
            "<media id_media=\"-1\"/>",
            "plain",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let long = format!(
            "<media><title>{}</title></media>",
            "x".repeat(MAX_TITLE + 1)
        );
        assert!(parse(&long).is_err());
    }

    #[test]
    fn json_bodies() {
        let b =
            parse(r#"{"id_media": 7, "title": "T", "keywords": ["a", "b"], "editorial": true}"#)
                .unwrap();
        assert_eq!(b.id_media, Some(7));
        assert_eq!(b.update.keywords, Some(vec!["a".into(), "b".into()]));
        assert_eq!(b.update.editorial, Some(true));
        let b = parse(r#"{"media": {"id_media": "8", "description": "d"}}"#).unwrap();
        assert_eq!(b.id_media, Some(8));
        assert!(parse(r#"{"title": {"x": 1}}"#).is_err());
        assert!(parse(r#"[1]"#).is_err());
    }

    #[test]
    fn json_keys_given_twice_are_refused() {
        for (body, key) in [
            (r#"{"id_media": 7, "title": "a", "title": "b"}"#, "title"),
            (
                r#"{"media": {"id_media": 7, "editorial": true, "editorial": false}}"#,
                "editorial",
            ),
            (
                r#"{"media": {"id_media": 7}, "media": {"id_media": 8}}"#,
                "media",
            ),
            (r#"{"id_media": 7, "title": {"x": 1, "x": 2}}"#, "x"),
            (r#"{"id": 7, "id_media": 8}"#, "id_media"),
        ] {
            let e = parse(body).unwrap_err();
            assert!(
                e.starts_with(&format!("'{key}' given twice")),
                "{body}: {e}"
            );
        }
        // the same name in different objects is fine
        let b = parse(r#"{"media": {"id_media": 9, "title": "t"}}"#).unwrap();
        assert_eq!(b.id_media, Some(9));
    }

    fn xml_escape(s: &str) -> String {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    }

    proptest! {
        #[test]
        fn never_panics_on_any_input(s in "\\PC{0,200}") {
            let _ = parse(&s);
            let _ = parse(&format!("<media>{s}</media>"));
            let _ = parse(&format!("{{\"title\": {s}}}"));
        }

        #[test]
        fn never_panics_on_xml_like_input(s in "[<>/a-z_=\"'&;! \\[\\]CDATA-]{0,120}") {
            let _ = parse(&s);
            let _ = parse(&format!("<media id_media=\"1\">{s}"));
        }

        #[test]
        fn json_with_a_key_given_twice_is_refused(
            key in proptest::sample::select(vec![
                "id_media", "title", "description", "keywords", "editorial",
                "model_release", "property_release", "unknown", "",
            ]),
            first in "[a-z ]{0,12}",
            second in "[a-z ]{0,12}",
            before in proptest::collection::btree_map("[a-z_]{1,10}", "[a-z]{0,5}", 0..4),
            wrapped: bool,
        ) {
            // other keys first (never `key` itself), then `key` twice
            let mut fields: Vec<String> = before
                .iter()
                .filter(|(k, _)| k.as_str() != key)
                .map(|(k, v)| format!("{k:?}: {v:?}"))
                .collect();
            fields.push(format!("{key:?}: {first:?}"));
            fields.push(format!("{key:?}: {second:?}"));
            let object = format!("{{{}}}", fields.join(", "));
            let body = if wrapped { format!("{{\"media\": {object}}}") } else { object };
            let e = parse(&body).unwrap_err();
            prop_assert!(e.starts_with(&format!("'{key}' given twice")), "{}: {}", body, e);
        }

        #[test]
        fn written_fields_read_back(
            id in 1i64..1_000_000,
            title in "[^\\p{C}]{0,60}",
            kws in proptest::collection::vec("[a-z][a-z ]{0,10}[a-z]", 0..8),
            editorial: bool,
        ) {
            let xml = format!(
                "<media id_media=\"{id}\"><title>{}</title><keywords>{}</keywords><editorial>{}</editorial></media>",
                xml_escape(&title),
                xml_escape(&kws.join(",")),
                if editorial { "yes" } else { "no" }
            );
            let b = parse(&xml).unwrap();
            prop_assert_eq!(b.id_media, Some(id));
            prop_assert_eq!(b.update.title, Some(title.trim().to_string()));
            prop_assert_eq!(b.update.keywords, Some(keywords(kws.iter().map(String::as_str)).unwrap()));
            prop_assert_eq!(b.update.editorial, Some(editorial));
        }
    }
}
