//! The `filters` and `extra_info` parameters of `search` on arbitrary text:
//! never panic, refuse only with a 400, and what parses parses the same
//! with spaces added after `:`, `,` and `;` (where each `;`-separated part
//! has one `:` at most: a second one belongs to the value, say an author).
#![no_main]

use libfuzzer_sys::fuzz_target;
use panthera::error::ApiError;
use panthera::media::query::{parse_extra_info, Filters};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Filters::parse(text) {
        Ok(f) if text.split(';').all(|part| part.matches(':').count() <= 1) => {
            let spaced = text
                .replace(':', ": ")
                .replace(';', "; ")
                .replace(',', ", ");
            assert_eq!(Filters::parse(&spaced).ok(), Some(f));
        }
        Ok(_) => {}
        Err(e) => assert!(matches!(e, ApiError::InvalidParam(..))),
    }
    if let Err(e) = parse_extra_info(Some(text)) {
        assert!(matches!(e, ApiError::InvalidParam(..)));
    }
});
