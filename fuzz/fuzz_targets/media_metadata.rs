//! `media::body::parse` (the XML or JSON body of `set-user-media-metadata`)
//! on arbitrary text, as UTF-8 when it is and lossily: never panics, and
//! whatever it accepts respects the documented bounds. Form fields after
//! the body go through `set_field` the way the method applies them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use panthera::media::body::{
    self, Body, MAX_DESCRIPTION, MAX_KEYWORD, MAX_KEYWORDS, MAX_TITLE,
};

// Input layout: the body, then optionally NUL and `name=value` form fields
// separated by NUL. A seed without NUL bytes is just a body.
fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|&b| b == 0);
    let raw = parts.next().unwrap_or_default();
    let fields: Vec<String> = parts
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();

    if let Ok(text) = std::str::from_utf8(raw) {
        check(text, &fields);
    }
    check(&String::from_utf8_lossy(raw), &fields);
});

fn check(text: &str, fields: &[String]) {
    let mut b = match body::parse(text) {
        Ok(b) => b,
        Err(e) => {
            assert!(!e.is_empty());
            Body::default()
        }
    };
    bounded(&b);
    // As in methods::contributor::set_metadata: form fields after the body.
    for f in fields {
        let (name, value) = f.split_once('=').unwrap_or((f, ""));
        if body::set_field(&mut b, name, value).is_err() {
            break;
        }
        bounded(&b);
    }
}

fn bounded(b: &Body) {
    if let Some(id) = b.id_media {
        assert!(id > 0);
    }
    let u = &b.update;
    if let Some(t) = &u.title {
        assert!(t.chars().count() <= MAX_TITLE);
        assert_eq!(t.trim(), t);
        assert!(!has_control(t));
    }
    if let Some(d) = &u.description {
        assert!(d.chars().count() <= MAX_DESCRIPTION);
        assert!(!has_control(d));
    }
    if let Some(k) = &u.keywords {
        assert!(k.len() <= MAX_KEYWORDS, "{} keywords", k.len());
        for (i, w) in k.iter().enumerate() {
            assert!(!w.is_empty());
            assert_eq!(w.trim(), w);
            assert!(w.chars().count() <= MAX_KEYWORD);
            assert!(!has_control(w));
            assert!(!k[..i].iter().any(|o| o.eq_ignore_ascii_case(w)));
        }
    }
}

/// Control characters other than newline and tab.
fn has_control(s: &str) -> bool {
    s.chars().any(|c| c.is_control() && c != '\n' && c != '\t')
}
