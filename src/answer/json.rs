//! JSON encoding of the answer tree (protocol.md §7), mechanical so it can
//! never disagree with the XML:
//!
//! - the items are the children of an imaginary `rsp`; `stat` is a key beside them;
//! - an element without attributes and children is a string (its text, or `""`);
//! - otherwise an object: attributes as plain keys, then children grouped by name
//!   in order of first occurrence (one → its value, several → an array), then the
//!   text under `_content`. All scalars are strings.
//!
//! Keys are never duplicated. Precedence when names clash: a child beats an
//! attribute and `_content`; the text beats an attribute named `_content`; the
//! first of repeated attributes wins (as in the XML). At top level `stat` beats
//! an item named `stat`, since every JSON answer must carry `stat` (§6).
//!
//! serde_json is used only to escape strings; the output is built directly.

use super::tree::{Answer, Node};

/// Written if encoding failed, which writing into a `Vec` cannot do; kept so
/// a caller always gets a valid answer without a panic path.
const FALLBACK: &str = r#"{"stat":"fail","err":{"code":500,"msg":"answer encoding failed"}}"#;

type Result = std::result::Result<(), serde_json::Error>;

/// `{"stat":"ok", ...items}`, compact, no trailing newline.
pub fn encode_ok(answer: &Answer) -> String {
    let hint: usize = answer.items.iter().map(size_hint).sum();
    let mut buf = Vec::with_capacity(16 + hint + hint / 8);
    buf.extend_from_slice(br#"{"stat":"ok""#);
    let done = write_members(&mut buf, &[], None, &answer.items, false, Some("stat"));
    buf.push(b'}');
    finish(done, buf)
}

/// `{"stat":"fail","err":{"code":N,"msg":"..."}}` with `code` as a number.
pub fn encode_fail(code: u16, msg: &str) -> String {
    let mut buf = Vec::with_capacity(48 + msg.len() + msg.len() / 8);
    buf.extend_from_slice(br#"{"stat":"fail","err":{"code":"#);
    buf.extend_from_slice(code.to_string().as_bytes());
    buf.extend_from_slice(br#","msg":"#);
    let done = write_str(&mut buf, msg);
    buf.extend_from_slice(b"}}");
    finish(done, buf)
}

fn finish(done: Result, buf: Vec<u8>) -> String {
    match done.ok().and_then(|()| String::from_utf8(buf).ok()) {
        Some(s) => s,
        None => FALLBACK.to_owned(),
    }
}

/// Unescaped byte size of a node, to size the buffer in one go.
fn size_hint(node: &Node) -> usize {
    let attrs: usize = node.attrs.iter().map(|(k, v)| k.len() + v.len() + 6).sum();
    let text = node.text.as_ref().map_or(0, |t| t.len() + 14);
    let children: usize = node.children.iter().map(size_hint).sum();
    node.name.len() + 6 + attrs + text + children
}

/// Writes a JSON string; serde_json escapes, unless nothing needs escaping
/// (the common case): then a plain copy, cheaper than its byte-wise writer.
fn write_str(buf: &mut Vec<u8>, s: &str) -> Result {
    // `fold` rather than `all`: no early exit, so the scan vectorises.
    let dirty = s.bytes().fold(false, |acc, b| {
        acc | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if !dirty {
        buf.reserve(s.len() + 2);
        buf.push(b'"');
        buf.extend_from_slice(s.as_bytes());
        buf.push(b'"');
        return Ok(());
    }
    serde_json::to_writer(&mut *buf, s)
}

fn write_key(buf: &mut Vec<u8>, first: &mut bool, key: &str) -> Result {
    if !*first {
        buf.push(b',');
    }
    *first = false;
    write_str(buf, key)?;
    buf.push(b':');
    Ok(())
}

/// One element's value: a string, or an object of its members.
fn write_value(buf: &mut Vec<u8>, node: &Node) -> Result {
    // Empty text is no text, matching the XML where `<a></a>` is `<a/>`.
    let text = node.text.as_deref().filter(|t| !t.is_empty());
    if node.attrs.is_empty() && node.children.is_empty() {
        return write_str(buf, text.unwrap_or(""));
    }
    buf.push(b'{');
    write_members(buf, &node.attrs, text, &node.children, true, None)?;
    buf.push(b'}');
    Ok(())
}

/// A run of children sharing a name: where it starts and how many there are.
struct Group<'a> {
    name: &'a str,
    first: usize,
    count: usize,
}

/// Writes the members of an object whose opening brace is already out;
/// `first` says no member precedes them, `reserved` is a key already written.
fn write_members(
    buf: &mut Vec<u8>,
    attrs: &[(super::tree::Name, String)],
    text: Option<&str>,
    children: &[Node],
    mut first: bool,
    reserved: Option<&str>,
) -> Result {
    // Linear lookup: distinct names per element are few, so this beats hashing.
    let mut groups: Vec<Group<'_>> = Vec::new();
    for (i, child) in children.iter().enumerate() {
        let name: &str = &child.name;
        if reserved == Some(name) {
            continue;
        }
        match groups.iter_mut().find(|g| g.name == name) {
            Some(g) => g.count += 1,
            None => groups.push(Group {
                name,
                first: i,
                count: 1,
            }),
        }
    }
    let has_child = |name: &str| groups.iter().any(|g| g.name == name);

    for (i, (key, value)) in attrs.iter().enumerate() {
        let key: &str = key;
        let shadowed = has_child(key)
            || (text.is_some() && key == "_content")
            || attrs[..i].iter().any(|(k, _)| k == key);
        if shadowed {
            continue;
        }
        write_key(buf, &mut first, key)?;
        write_str(buf, value)?;
    }

    for group in &groups {
        write_key(buf, &mut first, group.name)?;
        let mut members = children[group.first..]
            .iter()
            .filter(|c| c.name == group.name);
        if group.count == 1 {
            if let Some(child) = members.next() {
                write_value(buf, child)?;
            }
        } else {
            buf.push(b'[');
            for (j, child) in members.enumerate() {
                if j > 0 {
                    buf.push(b',');
                }
                write_value(buf, child)?;
            }
            buf.push(b']');
        }
    }

    if let Some(text) = text {
        if !has_child("_content") {
            write_key(buf, &mut first, "_content")?;
            write_str(buf, text)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    #[test]
    fn empty_answer() {
        assert_eq!(encode_ok(&Answer::default()), r#"{"stat":"ok"}"#);
    }

    #[test]
    fn deposits_example() {
        let a = Answer::one(
            Node::new("deposits")
                .attr("total", 2)
                .child(
                    Node::new("deposit")
                        .attr("type", "a")
                        .attr("deposit-remaining", 5),
                )
                .child(
                    Node::new("deposit")
                        .attr("type", "b")
                        .attr("deposit-remaining", 0),
                ),
        );
        assert_eq!(
            encode_ok(&a),
            r#"{"stat":"ok","deposits":{"total":"2","deposit":[{"type":"a","deposit-remaining":"5"},{"type":"b","deposit-remaining":"0"}]}}"#
        );
    }

    #[test]
    fn attributes_only_is_object() {
        let a = Answer::one(Node::new("media").attr("id", 7));
        assert_eq!(encode_ok(&a), r#"{"stat":"ok","media":{"id":"7"}}"#);
    }

    #[test]
    fn text_only_is_string_and_empty_is_empty_string() {
        let a = Answer::new(vec![
            Node::leaf("title", "Cat"),
            Node::new("empty"),
            Node::leaf("blank", ""),
        ]);
        assert_eq!(
            encode_ok(&a),
            r#"{"stat":"ok","title":"Cat","empty":"","blank":""}"#
        );
    }

    #[test]
    fn attributes_and_text_use_content() {
        let a = Answer::one(Node::new("price").attr("currency", "EUR").text("9.90"));
        assert_eq!(
            encode_ok(&a),
            r#"{"stat":"ok","price":{"currency":"EUR","_content":"9.90"}}"#
        );
    }

    #[test]
    fn children_and_text_use_content() {
        let a = Answer::one(Node::new("p").text("t").child(Node::leaf("q", "1")));
        assert_eq!(
            encode_ok(&a),
            r#"{"stat":"ok","p":{"q":"1","_content":"t"}}"#
        );
    }

    #[test]
    fn single_child_is_object_repeated_is_array() {
        let a = Answer::one(
            Node::new("list")
                .child(Node::new("one").attr("id", 1))
                .child(Node::leaf("many", "x"))
                .child(Node::new("other"))
                .child(Node::leaf("many", "y")),
        );
        assert_eq!(
            encode_ok(&a),
            r#"{"stat":"ok","list":{"one":{"id":"1"},"many":["x","y"],"other":""}}"#
        );
    }

    #[test]
    fn top_level_items_are_grouped() {
        let a = Answer::new(vec![
            Node::leaf("m", "1"),
            Node::leaf("n", "2"),
            Node::leaf("m", "3"),
        ]);
        assert_eq!(encode_ok(&a), r#"{"stat":"ok","m":["1","3"],"n":"2"}"#);
    }

    #[test]
    fn clashes_never_duplicate_keys() {
        let a = Answer::new(vec![
            Node::new("e")
                .attr("x", "attr")
                .attr("y", "1")
                .attr("y", "2")
                .attr("_content", "attr")
                .text("text")
                .child(Node::leaf("x", "child")),
            Node::new("f")
                .text("text")
                .child(Node::leaf("_content", "child")),
            Node::leaf("stat", "item"),
        ]);
        assert_eq!(
            encode_ok(&a),
            r#"{"stat":"ok","e":{"y":"1","x":"child","_content":"text"},"f":{"_content":"child"}}"#
        );
    }

    #[test]
    fn strings_are_escaped() {
        let a = Answer::one(
            Node::new("t")
                .attr("a\"b", "q\"\\\n\u{1}")
                .text("é\u{2028}"),
        );
        assert_eq!(
            encode_ok(&a),
            "{\"stat\":\"ok\",\"t\":{\"a\\\"b\":\"q\\\"\\\\\\n\\u0001\",\"_content\":\"é\u{2028}\"}}"
        );
    }

    #[test]
    fn fail_encoding() {
        assert_eq!(
            encode_fail(404, "media not found"),
            r#"{"stat":"fail","err":{"code":404,"msg":"media not found"}}"#
        );
        assert_eq!(
            encode_fail(422, "bad \"x\""),
            r#"{"stat":"fail","err":{"code":422,"msg":"bad \"x\""}}"#
        );
    }

    /// Strings rich in the cases that break encoders, as whole pieces so that
    /// sequences like `]]>` and `\r\n` actually occur.
    fn tricky_string() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            4 => any::<char>().prop_map(String::from),
            2 => prop::char::range('\u{0}', '\u{1F}').prop_map(String::from),
            3 => prop::sample::select(vec![
                ']', '>', '<', '&', '"', '\'', '\\', '/', '\r', '\n', '\u{FFFE}', '\u{FFFF}', '\u{2028}', '\u{7F}',
            ])
            .prop_map(String::from),
            2 => prop::sample::select(vec!["]]>", "]]", "]]]>", "<![CDATA[", "\r\n", "&amp;", "&#13;"])
                .prop_map(String::from),
        ];
        prop::collection::vec(piece, 0..16).prop_map(|v| v.concat())
    }

    fn tree(depth: u32) -> BoxedStrategy<Node> {
        let name = prop::sample::select(vec!["a", "b", "c"]);
        let key = prop::sample::select(vec!["k", "l", "a", "_content"]);
        let attrs = prop::collection::vec((key, "[a-z0-9]{0,3}"), 0..3);
        let text = prop::option::of("[a-z ]{0,4}");
        let leaf = (name, attrs, text).prop_map(|(n, attrs, text)| Node {
            name: n.into(),
            attrs: attrs.into_iter().map(|(k, v)| (k.into(), v)).collect(),
            text,
            cdata: false,
            children: Vec::new(),
        });
        if depth == 0 {
            return leaf.boxed();
        }
        (leaf, prop::collection::vec(tree(depth - 1), 0..5))
            .prop_map(|(node, children)| node.children(children))
            .boxed()
    }

    /// Order-preserving JSON, so the reference model can check key order too.
    enum J {
        Str(String),
        Arr(Vec<J>),
        Obj(Vec<(String, J)>),
    }

    impl J {
        fn render(&self, out: &mut String) {
            match self {
                J::Str(s) => out.push_str(&serde_json::to_string(s).expect("string")),
                J::Arr(items) => {
                    out.push('[');
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        item.render(out);
                    }
                    out.push(']');
                }
                J::Obj(members) => {
                    out.push('{');
                    for (i, (k, v)) in members.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        out.push_str(&serde_json::to_string(k).expect("key"));
                        out.push(':');
                        v.render(out);
                    }
                    out.push('}');
                }
            }
        }
    }

    /// Reference model of the rule, written the obvious (quadratic) way.
    fn members(
        attrs: &[(super::super::tree::Name, String)],
        text: Option<&str>,
        children: &[Node],
    ) -> Vec<(String, J)> {
        let mut names: Vec<&str> = Vec::new();
        for c in children {
            if !names.contains(&&*c.name) {
                names.push(&c.name);
            }
        }
        let mut out: Vec<(String, J)> = Vec::new();
        for (k, v) in attrs {
            let clash = names.contains(&&**k) || (k == "_content" && text.is_some());
            if !clash && !out.iter().any(|(o, _)| o == k) {
                out.push((k.to_string(), J::Str(v.clone())));
            }
        }
        for name in &names {
            let mut vals: Vec<J> = children
                .iter()
                .filter(|c| c.name == *name)
                .map(model)
                .collect();
            let v = if vals.len() == 1 {
                vals.remove(0)
            } else {
                J::Arr(vals)
            };
            out.push((name.to_string(), v));
        }
        if let Some(t) = text {
            if !names.contains(&"_content") {
                out.push(("_content".into(), J::Str(t.into())));
            }
        }
        out
    }

    fn model(node: &Node) -> J {
        let text = node.text.as_deref().filter(|t| !t.is_empty());
        if node.attrs.is_empty() && node.children.is_empty() {
            J::Str(text.unwrap_or("").into())
        } else {
            J::Obj(members(&node.attrs, text, &node.children))
        }
    }

    /// Checks the array-iff-repeated rule for one element against its JSON value.
    fn check_grouping(children: &[Node], value: &Value) -> std::result::Result<(), TestCaseError> {
        let obj = match value {
            Value::Object(o) => o,
            _ => {
                prop_assert!(children.is_empty());
                return Ok(());
            }
        };
        for child in children {
            let same: Vec<&Node> = children.iter().filter(|c| c.name == child.name).collect();
            let v = obj.get(&*child.name).expect("child key present");
            if same.len() > 1 {
                let arr = v.as_array().expect("repeated name is an array");
                prop_assert_eq!(arr.len(), same.len());
                for (c, item) in same.iter().zip(arr) {
                    check_grouping(&c.children, item)?;
                }
            } else {
                prop_assert!(!v.is_array(), "single name must not be an array");
                check_grouping(&child.children, v)?;
            }
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn strings_round_trip(text in tricky_string(), attr in tricky_string(), key in tricky_string(), msg in tricky_string()) {
            let a = Answer::one(
                Node::new("e")
                    .attr("v", &attr)
                    .child(Node::leaf("t", text.clone()))
                    .child(Node::new("c").cdata(text.clone()))
                    .child(Node::new("w").attr(key.clone(), "1").text(text.clone())),
            );
            let v: Value = serde_json::from_str(&encode_ok(&a)).expect("valid JSON");
            prop_assert_eq!(&v["stat"], "ok");
            prop_assert_eq!(v["e"]["v"].as_str(), Some(attr.as_str()));
            prop_assert_eq!(v["e"]["t"].as_str(), Some(text.as_str()));
            prop_assert_eq!(v["e"]["c"].as_str(), Some(text.as_str()));
            if key != "_content" || text.is_empty() {
                prop_assert_eq!(v["e"]["w"][key.as_str()].as_str(), Some("1"));
            }
            if !text.is_empty() {
                prop_assert_eq!(v["e"]["w"]["_content"].as_str(), Some(text.as_str()));
            }

            let f: Value = serde_json::from_str(&encode_fail(500, &msg)).expect("valid JSON");
            prop_assert_eq!(f["err"]["msg"].as_str(), Some(msg.as_str()));
            prop_assert_eq!(f["err"]["code"].as_u64(), Some(500));
        }

        #[test]
        fn repeated_names_become_arrays(items in prop::collection::vec(tree(3), 0..5)) {
            let json = encode_ok(&Answer::new(items.clone()));
            let v: Value = serde_json::from_str(&json).expect("valid JSON");
            prop_assert_eq!(&v["stat"], "ok");
            check_grouping(&items, &v)?;

            let mut top = vec![("stat".to_string(), J::Str("ok".into()))];
            top.extend(members(&[], None, &items));
            let mut want = String::new();
            J::Obj(top).render(&mut want);
            prop_assert_eq!(json, want);
        }
    }
}
