//! The XML and JSON encoders on arbitrary text in attributes, text and CDATA:
//! the XML is always well-formed (quick-xml reads it to the end) and the JSON
//! always parses.
#![no_main]

use libfuzzer_sys::fuzz_target;
use panthera::answer::tree::{Answer, Node};
use panthera::answer::{json, xml};
use quick_xml::events::Event;
use quick_xml::Reader;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Split the input into a handful of strings to spread over the tree.
    let parts: Vec<&str> = text.split('\u{1}').collect();
    let part = |i: usize| parts.get(i).copied().unwrap_or("").to_string();
    let answer = Answer::new(vec![
        Node::new("item")
            .attr("a", part(0))
            .attr("b", part(1))
            .attr("a", part(2))
            .child(Node::leaf("title", part(3)))
            .child(Node::new("note").cdata(part(4)))
            .child(Node::new("x").attr("_content", part(5)).text(part(6))),
        Node::leaf("item", part(7)),
        Node::leaf("stat", part(8)),
    ]);

    let encoded = xml::encode_ok(&answer);
    let mut reader = Reader::from_str(&encoded);
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(Event::Text(t)) => {
                t.unescape().expect("valid escapes");
            }
            Ok(Event::Start(e)) | Ok(Event::Empty(e)) => {
                for a in e.attributes() {
                    a.expect("well-formed attribute")
                        .unescape_value()
                        .expect("valid attribute escapes");
                }
            }
            Ok(_) => {}
            Err(e) => panic!("ill-formed XML ({e}): {encoded}"),
        }
    }

    let encoded = json::encode_ok(&answer);
    let v: serde_json::Value = serde_json::from_str(&encoded).expect("valid JSON");
    assert_eq!(v["stat"], "ok");
});
