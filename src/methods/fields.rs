//! What a method answers, declared beside its parameters: each element and
//! attribute with its type, meaning and when it is present. The docs page's
//! "Answer" table and the OpenAPI answer schemas are made from it, and the
//! tests check every sample answer against those schemas, so an answer
//! cannot gain a field that is not documented here.

/// What a field holds. On the wire every value is text (a string in JSON);
/// the type says what that text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// Free text.
    Text,
    /// A decimal integer.
    Integer,
    /// A protocol timestamp (`Thu, 26 Jul 2012 14:53:44 UTC`).
    Timestamp,
    /// An absolute URL (or empty where the field says so).
    Url,
    /// `yes` or `no`.
    YesNo,
    /// Base64 (standard alphabet, padded).
    Base64,
    /// An element that holds only attributes and child elements.
    Element,
}

impl FieldType {
    pub fn name(self) -> &'static str {
        match self {
            FieldType::Text => "string",
            FieldType::Integer => "integer",
            FieldType::Timestamp => "timestamp",
            FieldType::Url => "url",
            FieldType::YesNo => "yes/no",
            FieldType::Base64 => "base64",
            FieldType::Element => "element",
        }
    }
}

/// One element or attribute of an answer.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    /// An attribute (a plain key in JSON) rather than an element.
    pub attribute: bool,
    /// The type of the text (of the value, for an attribute).
    pub ty: FieldType,
    pub meaning: &'static str,
    /// When the field is present; `None`: always.
    pub when: Option<&'static str>,
    /// The element may occur any number of times, none included (an array
    /// in JSON when there are several).
    pub repeated: bool,
    /// An element's attributes and child elements.
    pub fields: &'static [Field],
}

impl Field {
    /// An element holding text of type `ty`.
    pub const fn element(name: &'static str, ty: FieldType, meaning: &'static str) -> Self {
        Field {
            name,
            attribute: false,
            ty,
            meaning,
            when: None,
            repeated: false,
            fields: &[],
        }
    }
    /// An element of attributes and child elements only.
    pub const fn group(
        name: &'static str,
        meaning: &'static str,
        fields: &'static [Field],
    ) -> Self {
        Field::element(name, FieldType::Element, meaning).fields(fields)
    }
    /// An attribute of type `ty`.
    pub const fn attr(name: &'static str, ty: FieldType, meaning: &'static str) -> Self {
        Field {
            attribute: true,
            ..Field::element(name, ty, meaning)
        }
    }
    /// Present only in the case `when` describes.
    pub const fn when(mut self, when: &'static str) -> Self {
        self.when = Some(when);
        self
    }
    /// Occurs any number of times.
    pub const fn repeated(mut self) -> Self {
        self.repeated = true;
        self
    }
    /// The element's attributes and child elements.
    pub const fn fields(mut self, fields: &'static [Field]) -> Self {
        self.fields = fields;
        self
    }
    /// Always present exactly once (neither conditional nor repeated).
    pub fn always(&self) -> bool {
        self.when.is_none() && !self.repeated
    }
    /// When the field is present, in words: its condition, else `always`
    /// (`zero or more times` for an element that repeats).
    pub fn presence(&self) -> &'static str {
        match (self.when, self.repeated) {
            (Some(w), _) => w,
            (None, true) => "zero or more times",
            (None, false) => "always",
        }
    }
    /// The element has text besides its attributes and children.
    pub fn has_text(&self) -> bool {
        !self.attribute && self.ty != FieldType::Element
    }
}

/// Every field below `fields`, depth first, with its path: `items`,
/// `items/@total`, `items/media`, `items/media/@id`, … (the names the docs'
/// answer tables show).
pub fn by_path(fields: &'static [Field]) -> Vec<(String, &'static Field)> {
    fn walk(fields: &'static [Field], prefix: &str, out: &mut Vec<(String, &'static Field)>) {
        for f in fields {
            let path = if f.attribute {
                format!("{prefix}@{}", f.name)
            } else {
                format!("{prefix}{}", f.name)
            };
            let below = format!("{path}/");
            out.push((path, f));
            walk(f.fields, &below, out);
        }
    }
    let mut out = Vec::new();
    walk(fields, "", &mut out);
    out
}
