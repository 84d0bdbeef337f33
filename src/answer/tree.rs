//! The neutral answer tree: handlers build it once, the XML and JSON encoders
//! render it mechanically (protocol.md §7), so both encodings can never disagree.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// A name or attribute key: almost always a literal, so no allocation.
pub type Name = Cow<'static, str>;

/// One element of an answer. Serde is for storing an answer to repeat it
/// (idempotent retries), not a wire format.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Node {
    /// Element name (XML) / object key (JSON).
    pub name: Name,
    /// Attributes in insertion order; plain keys in JSON.
    pub attrs: Vec<(Name, String)>,
    /// Text content, if any (`_content` in JSON when attributes or children exist).
    pub text: Option<String>,
    /// Render the text as CDATA in XML (JSON is unaffected).
    pub cdata: bool,
    /// Child elements in order.
    pub children: Vec<Node>,
}

impl Node {
    /// An empty element.
    pub fn new(name: impl Into<Name>) -> Self {
        Node {
            name: name.into(),
            ..Node::default()
        }
    }

    /// An element holding only text.
    pub fn leaf(name: impl Into<Name>, text: impl Into<String>) -> Self {
        Node::new(name).text(text)
    }

    /// Adds an attribute.
    pub fn attr(mut self, key: impl Into<Name>, value: impl ToString) -> Self {
        self.attrs.push((key.into(), value.to_string()));
        self
    }

    /// Sets the text.
    pub fn text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }

    /// Sets the text, rendered as CDATA in XML.
    pub fn cdata(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self.cdata = true;
        self
    }

    /// Adds a child element.
    pub fn child(mut self, child: Node) -> Self {
        self.children.push(child);
        self
    }

    /// Adds child elements.
    pub fn children(mut self, children: impl IntoIterator<Item = Node>) -> Self {
        self.children.extend(children);
        self
    }

    /// Adds a child element in place.
    pub fn push(&mut self, child: Node) {
        self.children.push(child);
    }
}

/// A successful answer: the elements inside `<rsp stat="ok">`, and for
/// methods that return files, the file itself (sent as raw bytes when the
/// caller asked for `application/octet-stream`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Answer {
    pub items: Vec<Node>,
    pub binary: Option<Binary>,
}

/// A file answer: its media type and bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binary {
    pub mime: String,
    pub bytes: Vec<u8>,
}

impl Answer {
    /// An answer of several top-level elements.
    pub fn new(items: Vec<Node>) -> Self {
        Answer {
            items,
            binary: None,
        }
    }

    /// An answer of one top-level element.
    pub fn one(node: Node) -> Self {
        Answer::new(vec![node])
    }

    /// Adds the file a binary-asking caller gets instead of the tree.
    pub fn with_binary(mut self, mime: impl Into<String>, bytes: Vec<u8>) -> Self {
        self.binary = Some(Binary {
            mime: mime.into(),
            bytes,
        });
        self
    }
}
