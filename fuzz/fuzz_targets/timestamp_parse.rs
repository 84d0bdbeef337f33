//! `Timestamp::parse` on arbitrary text: never panics, and whatever it
//! accepts formats back to a string that parses to the same instant.
#![no_main]

use libfuzzer_sys::fuzz_target;
use panthera::protocol::timestamp::Timestamp;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(ts) = Timestamp::parse(text) {
        let again = Timestamp::parse(&ts.format()).expect("canonical form parses");
        assert_eq!(again.unix(), ts.unix());
    }
});
