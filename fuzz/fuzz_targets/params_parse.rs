//! `params::parse` on arbitrary query, content type and body: never panics,
//! never hangs, and never yields more values than the limit allows.
#![no_main]

use libfuzzer_sys::fuzz_target;
use panthera::protocol::params::{self, Limits, ParamValue};

const LIMITS: Limits = Limits {
    max_params: 64,
    max_name_bytes: 64,
    max_value_bytes: 1024,
};

// Input layout: byte 0 picks the content type, byte 1 the length of the
// query (taken from the start of the rest), the remainder is the body.
fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    let Some((&qlen, rest)) = rest.split_first() else {
        return;
    };
    let (query, body) = rest.split_at(usize::from(qlen).min(rest.len()));
    let Ok(query) = std::str::from_utf8(query) else {
        return;
    };
    let content_type = match kind % 5 {
        0 => None,
        1 => Some("application/x-www-form-urlencoded"),
        2 => Some("application/x-www-form-urlencoded; charset=UTF-8"),
        3 => Some("multipart/form-data; boundary=XyZzY"),
        _ => Some("text/plain"),
    };
    if let Ok(p) = params::parse(query, content_type, body, &LIMITS) {
        let values: usize = p
            .iter()
            .map(|(_, v)| match v {
                ParamValue::One(_) => 1,
                ParamValue::List(l) => l.len(),
            })
            .sum();
        assert!(values <= LIMITS.max_params);
        for (name, v) in p.iter() {
            assert!(!name.is_empty());
            assert!(name.len() <= LIMITS.max_name_bytes);
            match v {
                ParamValue::One(s) => assert!(s.len() <= LIMITS.max_value_bytes),
                ParamValue::List(l) => assert!(l.iter().all(|s| s.len() <= LIMITS.max_value_bytes)),
            }
        }
    }
});
