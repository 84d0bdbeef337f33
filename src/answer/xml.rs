//! XML encoding of the answer tree (protocol.md §6/§7).
//!
//! Compact output written into one pre-sized `String`. Every input string
//! yields well-formed XML: characters XML 1.0 forbids become U+FFFD, and `\r`
//! (plus `\t`, `\n` in attributes) is written as a character reference so a
//! conforming parser's normalisation cannot change it.

use super::tree::{Answer, Node};

const DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";
const REPLACEMENT: &str = "\u{FFFD}";

/// `<rsp stat="ok">` around the answer items.
pub fn encode_ok(answer: &Answer) -> String {
    let hint: usize = answer.items.iter().map(size_hint).sum();
    // A little slack for escapes, so the common case never reallocates.
    let mut out = String::with_capacity(DECL.len() + 32 + hint + hint / 8);
    out.push_str(DECL);
    out.push_str("<rsp stat=\"ok\">");
    for item in &answer.items {
        write_node(&mut out, item);
    }
    out.push_str("</rsp>\n");
    out
}

/// `<rsp stat="fail">` with one `<err code=".." msg=".."/>`.
pub fn encode_fail(code: u16, msg: &str) -> String {
    let mut out = String::with_capacity(DECL.len() + 64 + msg.len() + msg.len() / 8);
    out.push_str(DECL);
    out.push_str("<rsp stat=\"fail\"><err code=\"");
    out.push_str(&code.to_string());
    out.push_str("\" msg=\"");
    escape(&mut out, msg, Mode::Attr);
    out.push_str("\"/></rsp>\n");
    out
}

/// Unescaped byte size of a node, to size the output buffer in one go.
fn size_hint(node: &Node) -> usize {
    let attrs: usize = node.attrs.iter().map(|(k, v)| k.len() + v.len() + 4).sum();
    let text = node.text.as_ref().map_or(0, |t| t.len() + 12);
    let children: usize = node.children.iter().map(size_hint).sum();
    2 * node.name.len() + 5 + attrs + text + children
}

/// Writes one element. A repeated attribute name is written once (the first
/// wins), since duplicates would make the document ill-formed.
fn write_node(out: &mut String, node: &Node) {
    out.push('<');
    out.push_str(&node.name);
    for (i, (key, value)) in node.attrs.iter().enumerate() {
        if node.attrs[..i].iter().any(|(k, _)| k == key) {
            continue;
        }
        out.push(' ');
        out.push_str(key);
        out.push_str("=\"");
        escape(out, value, Mode::Attr);
        out.push('"');
    }
    // Empty text is no text: XML cannot tell `<a></a>` from `<a/>` anyway.
    let text = node.text.as_deref().filter(|t| !t.is_empty());
    if text.is_none() && node.children.is_empty() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    if let Some(text) = text {
        if node.cdata {
            out.push_str("<![CDATA[");
            escape(out, text, Mode::CData);
            out.push_str("]]>");
        } else {
            escape(out, text, Mode::Text);
        }
    }
    for child in &node.children {
        write_node(out, child);
    }
    out.push_str("</");
    out.push_str(&node.name);
    out.push('>');
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Text,
    Attr,
    CData,
}

/// Bytes that may need rewriting in each mode. 0xEF is the lead byte of
/// U+FFFE/U+FFFF; all flagged bytes are ASCII or lead bytes, so every flagged
/// index is a char boundary.
const fn table(mode: Mode) -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[0xEF] = true;
    match mode {
        Mode::Text => {
            t[b'\t' as usize] = false;
            t[b'\n' as usize] = false;
            t[b'&' as usize] = true;
            t[b'<' as usize] = true;
            t[b'>' as usize] = true;
        }
        Mode::Attr => {
            t[b'&' as usize] = true;
            t[b'<' as usize] = true;
            t[b'>' as usize] = true;
            t[b'"' as usize] = true;
        }
        Mode::CData => {
            t[b'\t' as usize] = false;
            t[b'\n' as usize] = false;
            t[b'>' as usize] = true;
        }
    }
    t
}

static TEXT: [bool; 256] = table(Mode::Text);
static ATTR: [bool; 256] = table(Mode::Attr);
static CDATA: [bool; 256] = table(Mode::CData);

/// Appends `s` escaped for `mode`, copying unchanged runs in one piece.
fn escape(out: &mut String, s: &str, mode: Mode) {
    let flagged = match mode {
        Mode::Text => &TEXT,
        Mode::Attr => &ATTR,
        Mode::CData => &CDATA,
    };
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Skip a clean 16-byte block with a branch-free test that vectorises;
        // it flags a superset, the table decides byte by byte.
        if let Some(block) = bytes.get(i..i + 16) {
            if !block.iter().fold(false, |acc, &b| acc | maybe_special(b)) {
                i += 16;
                continue;
            }
        }
        let end = bytes.len().min(i + 16);
        while i < end {
            if !flagged[usize::from(bytes[i])] {
                i += 1;
                continue;
            }
            match replacement(bytes, i, mode) {
                None => i += 1,
                Some((rep, len)) => {
                    // `start` and `i` are char boundaries (see `table`): no panic.
                    out.push_str(&s[start..i]);
                    out.push_str(rep);
                    start = i + len;
                    i += len.max(1);
                }
            }
        }
    }
    out.push_str(&s[start..]);
}

/// Superset of the bytes any mode may rewrite.
#[inline(always)]
fn maybe_special(b: u8) -> bool {
    (b < 0x20) | (b == 0xEF) | (b == b'&') | (b == b'<') | (b == b'>') | (b == b'"')
}

/// What replaces the flagged byte at `i` and how many input bytes it covers
/// (0: insert before it), or `None` if it stays as it is.
fn replacement(bytes: &[u8], i: usize, mode: Mode) -> Option<(&'static str, usize)> {
    Some(match bytes[i] {
        b'&' => ("&amp;", 1),
        b'<' => ("&lt;", 1),
        b'"' => ("&quot;", 1),
        b'>' if mode != Mode::CData => ("&gt;", 1),
        // `]]>` inside CDATA: close the section after `]]` and reopen it
        // before `>`, giving `]]]]><![CDATA[>`.
        b'>' if i >= 2 && bytes[i - 2] == b']' && bytes[i - 1] == b']' => ("]]><![CDATA[", 0),
        b'>' => return None,
        // A raw CR would be normalised away by parsers, so leave CDATA for a
        // character reference.
        b'\r' if mode == Mode::CData => ("]]>&#13;<![CDATA[", 1),
        b'\r' => ("&#13;", 1),
        b'\t' => ("&#9;", 1),
        b'\n' => ("&#10;", 1),
        0xEF if bytes.get(i + 1) == Some(&0xBF)
            && matches!(bytes.get(i + 2), Some(0xBE | 0xBF)) =>
        {
            (REPLACEMENT, 3)
        }
        0xEF => return None,
        // Remaining C0 controls are not XML 1.0 characters.
        _ => (REPLACEMENT, 1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use quick_xml::events::Event;
    use quick_xml::Reader;

    const HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n";

    fn ok(body: &str) -> String {
        format!("{HEAD}<rsp stat=\"ok\">{body}</rsp>\n")
    }

    #[test]
    fn self_closing_element() {
        let a = Answer::one(Node::new("media").attr("id", 7).attr("x", "y"));
        assert_eq!(encode_ok(&a), ok(r#"<media id="7" x="y"/>"#));
    }

    #[test]
    fn empty_answer() {
        assert_eq!(encode_ok(&Answer::default()), ok(""));
    }

    #[test]
    fn empty_text_is_self_closing() {
        let a = Answer::one(Node::leaf("a", ""));
        assert_eq!(encode_ok(&a), ok("<a/>"));
    }

    #[test]
    fn text_escaping() {
        let a = Answer::one(Node::leaf(
            "t",
            "a<b>&c\"d'\r\n\te\u{1}\u{FFFE}\u{FFFF}\u{FFFD}é",
        ));
        assert_eq!(
            encode_ok(&a),
            ok("<t>a&lt;b&gt;&amp;c\"d'&#13;\n\te\u{FFFD}\u{FFFD}\u{FFFD}\u{FFFD}é</t>")
        );
    }

    #[test]
    fn attribute_escaping() {
        let a = Answer::one(Node::new("t").attr("v", "<\"&'>\r\n\t\0x"));
        assert_eq!(
            encode_ok(&a),
            ok("<t v=\"&lt;&quot;&amp;'&gt;&#13;&#10;&#9;\u{FFFD}x\"/>")
        );
    }

    #[test]
    fn duplicate_attribute_written_once() {
        let a = Answer::one(Node::new("t").attr("v", 1).attr("w", 2).attr("v", 3));
        assert_eq!(encode_ok(&a), ok(r#"<t v="1" w="2"/>"#));
    }

    #[test]
    fn cdata_splits_terminator() {
        let a = Answer::one(Node::new("d").cdata("x]]>y<&]]]>"));
        assert_eq!(
            encode_ok(&a),
            ok("<d><![CDATA[x]]]]><![CDATA[>y<&]]]]]><![CDATA[>]]></d>")
        );
    }

    #[test]
    fn long_strings_across_block_boundaries() {
        let clean = "0123456789abcdefghijklmnopqrstuv"; // two 16-byte blocks
        let a = Answer::new(vec![
            Node::leaf("t", format!("{clean}&{clean}\u{FFFF}")),
            // `]]` ends the first block, `>` starts the second.
            Node::new("c").cdata("0123456789abcd]]>x"),
        ]);
        assert_eq!(
            encode_ok(&a),
            ok(&format!(
                "<t>{clean}&amp;{clean}\u{FFFD}</t><c><![CDATA[0123456789abcd]]]]><![CDATA[>x]]></c>"
            ))
        );
    }

    #[test]
    fn cdata_replaces_invalid_and_breaks_out_cr() {
        let a = Answer::one(Node::new("d").cdata("a\u{8}\r\nb"));
        assert_eq!(
            encode_ok(&a),
            ok("<d><![CDATA[a\u{FFFD}]]>&#13;<![CDATA[\nb]]></d>")
        );
    }

    #[test]
    fn nested_with_attributes_and_text() {
        let a = Answer::new(vec![
            Node::new("deposits")
                .attr("total", 2)
                .child(Node::new("deposit").attr("type", "a"))
                .child(Node::leaf("note", "hi")),
            Node::new("x").attr("k", "v").text("t"),
        ]);
        assert_eq!(
            encode_ok(&a),
            ok(
                r#"<deposits total="2"><deposit type="a"/><note>hi</note></deposits><x k="v">t</x>"#
            )
        );
    }

    #[test]
    fn fail_encoding() {
        assert_eq!(
            encode_fail(404, "media not found"),
            format!("{HEAD}<rsp stat=\"fail\"><err code=\"404\" msg=\"media not found\"/></rsp>\n")
        );
        assert_eq!(
            encode_fail(422, "a<\"b\">"),
            format!(
                "{HEAD}<rsp stat=\"fail\"><err code=\"422\" msg=\"a&lt;&quot;b&quot;&gt;\"/></rsp>\n"
            )
        );
    }

    /// What a reader should decode: the input with non-XML characters as U+FFFD.
    fn sanitized(s: &str) -> String {
        s.chars()
            .map(|c| match c {
                '\t' | '\n' | '\r' => c,
                '\u{0}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}' => '\u{FFFD}',
                _ => c,
            })
            .collect()
    }

    /// The tree a reader should see: sanitized strings, empty text as none,
    /// CDATA indistinguishable from text, first of duplicate attributes kept.
    fn expected(node: &Node) -> Node {
        let mut attrs: Vec<(super::super::tree::Name, String)> = Vec::new();
        for (k, v) in &node.attrs {
            if !attrs.iter().any(|(k2, _)| k2 == k) {
                attrs.push((k.clone(), sanitized(v)));
            }
        }
        Node {
            name: node.name.clone(),
            attrs,
            text: node
                .text
                .as_deref()
                .filter(|t| !t.is_empty())
                .map(sanitized),
            cdata: false,
            children: node.children.iter().map(expected).collect(),
        }
    }

    fn start(e: &quick_xml::events::BytesStart<'_>) -> Node {
        let name = String::from_utf8(e.name().as_ref().to_vec()).expect("utf-8 name");
        let mut node = Node::new(name);
        for attr in e.attributes() {
            let attr = attr.expect("well-formed attribute");
            let key = String::from_utf8(attr.key.as_ref().to_vec()).expect("utf-8 key");
            let value = attr.unescape_value().expect("attribute value").into_owned();
            node.attrs.push((key.into(), value));
        }
        node
    }

    fn add_text(stack: &mut [Node], s: &str) {
        let top = stack.last_mut().expect("text only inside rsp");
        top.text.get_or_insert_with(String::new).push_str(s);
    }

    /// Parses an encoded answer back into its items, failing on any reader error.
    fn parse(xml: &str) -> Vec<Node> {
        let mut reader = Reader::from_str(xml);
        let mut stack: Vec<Node> = Vec::new();
        let mut done: Option<Node> = None;
        loop {
            match reader.read_event().expect("well-formed XML") {
                Event::Eof => break,
                Event::Decl(_) => {}
                Event::Start(e) => stack.push(start(&e)),
                Event::Empty(e) => {
                    let node = start(&e);
                    stack.last_mut().expect("inside rsp").push(node);
                }
                Event::End(_) => {
                    let node = stack.pop().expect("balanced");
                    match stack.last_mut() {
                        Some(parent) => parent.push(node),
                        None => done = Some(node),
                    }
                }
                Event::Text(t) => {
                    let s = t.unescape().expect("valid escapes");
                    if stack.is_empty() {
                        assert_eq!(s, "\n", "only newlines outside rsp");
                    } else {
                        add_text(&mut stack, &s);
                    }
                }
                Event::CData(c) => add_text(&mut stack, &c.decode().expect("utf-8 cdata")),
                other => panic!("unexpected event {other:?}"),
            }
        }
        let rsp = done.expect("rsp element");
        assert_eq!(rsp.name, "rsp");
        assert_eq!(rsp.attrs, vec![("stat".into(), "ok".to_string())]);
        assert_eq!(rsp.text, None);
        rsp.children
    }

    /// No raw CR and only XML 1.0 characters anywhere in the document.
    fn assert_xml_chars(xml: &str) {
        for c in xml.chars() {
            assert!(
                matches!(c, '\t' | '\n' | '\u{20}'..='\u{FFFD}' | '\u{10000}'..),
                "bad char {c:?} in {xml:?}"
            );
        }
    }

    /// Strings rich in the cases that break encoders, as whole pieces so that
    /// sequences like `]]>` and `\r\n` actually occur.
    fn tricky_string() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            4 => any::<char>().prop_map(String::from),
            2 => prop::char::range('\u{0}', '\u{1F}').prop_map(String::from),
            3 => prop::sample::select(vec![
                ']', '>', '<', '&', '"', '\'', '\r', '\n', '\t', '\u{FFFE}', '\u{FFFF}', '\u{FFFD}', 'é', '\u{10348}',
            ])
            .prop_map(String::from),
            2 => prop::sample::select(vec!["]]>", "]]", "]]]>", "<![CDATA[", "\r\n", "&amp;", "&#13;"])
                .prop_map(String::from),
        ];
        prop::collection::vec(piece, 0..16).prop_map(|v| v.concat())
    }

    fn tree(depth: u32) -> BoxedStrategy<Node> {
        let name = prop::sample::select(vec!["a", "b", "c"]);
        let key = prop::sample::select(vec!["k", "l", "a"]);
        let attrs = prop::collection::vec((key, tricky_string()), 0..3);
        let text = prop::option::of(tricky_string());
        let leaf = (name, attrs, text, any::<bool>()).prop_map(|(n, attrs, text, cdata)| Node {
            name: n.into(),
            attrs: attrs.into_iter().map(|(k, v)| (k.into(), v)).collect(),
            text,
            cdata,
            children: Vec::new(),
        });
        if depth == 0 {
            return leaf.boxed();
        }
        (leaf, prop::collection::vec(tree(depth - 1), 0..4))
            .prop_map(|(node, children)| node.children(children))
            .boxed()
    }

    proptest! {
        #[test]
        fn strings_round_trip(text in tricky_string(), cdata in tricky_string(), attr in tricky_string()) {
            let a = Answer::one(
                Node::new("e")
                    .attr("v", &attr)
                    .child(Node::leaf("t", text.clone()))
                    .child(Node::new("c").cdata(cdata.clone())),
            );
            let xml = encode_ok(&a);
            assert_xml_chars(&xml);
            let items = parse(&xml);
            prop_assert_eq!(items.len(), 1);
            let e = &items[0];
            prop_assert_eq!(&e.attrs[0].1, &sanitized(&attr));
            prop_assert_eq!(e.children[0].text.clone().unwrap_or_default(), sanitized(&text));
            prop_assert_eq!(e.children[1].text.clone().unwrap_or_default(), sanitized(&cdata));
        }

        #[test]
        fn fail_round_trips(code in any::<u16>(), msg in tricky_string()) {
            let xml = encode_fail(code, &msg);
            assert_xml_chars(&xml);
            let mut reader = Reader::from_str(&xml);
            let mut seen = None;
            loop {
                match reader.read_event().expect("well-formed XML") {
                    Event::Eof => break,
                    Event::Empty(e) => {
                        let n = start(&e);
                        prop_assert_eq!(&n.name, "err");
                        seen = Some(n.attrs);
                    }
                    _ => {}
                }
            }
            let attrs = seen.expect("err element");
            prop_assert_eq!(&attrs[0].1, &code.to_string());
            prop_assert_eq!(&attrs[1].1, &sanitized(&msg));
        }

        #[test]
        fn trees_round_trip(items in prop::collection::vec(tree(3), 0..4)) {
            let xml = encode_ok(&Answer::new(items.clone()));
            assert_xml_chars(&xml);
            let want: Vec<Node> = items.iter().map(expected).collect();
            prop_assert_eq!(parse(&xml), want);
        }
    }
}
