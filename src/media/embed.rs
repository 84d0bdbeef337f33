//! Writes an item's metadata into a JPEG, as `download-image` delivers it
//! (methods.md §F): title, keywords, description, author and copyright as
//! IPTC IIM (an APP13 "Photoshop 3.0" segment holding the 8BIM resource
//! 0x0404) and/or XMP (an APP1 segment holding a Dublin Core packet).
//!
//! Pure functions on bytes: the JPEG's other segments and its scan data are
//! copied unchanged; earlier IPTC/XMP segments of the kinds written are
//! replaced. Hand-written because the crates that write IPTC are young,
//! IPTC-only and bring a whole image stack, and none writes XMP without C++.

use std::fmt::Write as _;

/// Which metadata blocks to write (`metadata` parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    All,
    Iptc,
    Xmp,
    None,
}

impl Which {
    /// The values `download-image` accepts.
    pub const NAMES: &'static [&'static str] = &["all", "iptc", "xmp", "none"];

    pub fn parse(s: &str) -> Option<Which> {
        match s.trim() {
            "all" => Some(Which::All),
            "iptc" => Some(Which::Iptc),
            "xmp" => Some(Which::Xmp),
            "none" => Some(Which::None),
            _ => None,
        }
    }

    fn iptc(self) -> bool {
        matches!(self, Which::All | Which::Iptc)
    }

    fn xmp(self) -> bool {
        matches!(self, Which::All | Which::Xmp)
    }
}

/// What is written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    pub title: String,
    pub description: String,
    pub keywords: Vec<String>,
    pub author: String,
    pub copyright: String,
}

/// Why the bytes could not be handled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmbedError {
    #[error("not a JPEG (no SOI marker)")]
    NotJpeg,
    #[error("truncated or malformed JPEG segment at byte {0}")]
    Malformed(usize),
}

const SOI: u8 = 0xD8;
const SOS: u8 = 0xDA;
const EOI: u8 = 0xD9;
const APP0: u8 = 0xE0;
const APP1: u8 = 0xE1;
const APP13: u8 = 0xED;

/// The signature opening an XMP APP1 segment.
pub const XMP_SIGNATURE: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";
/// The signature opening a Photoshop APP13 segment.
pub const PHOTOSHOP_SIGNATURE: &[u8] = b"Photoshop 3.0\0";
const EXIF_SIGNATURE: &[u8] = b"Exif\0\0";

/// Largest payload of one segment (the 16-bit length counts itself).
const MAX_PAYLOAD: usize = 65_533;

/// IPTC IIM limits (bytes) of the datasets written, from the IIM spec.
const IPTC_TITLE: usize = 64;
const IPTC_KEYWORD: usize = 64;
const IPTC_AUTHOR: usize = 32;
const IPTC_COPYRIGHT: usize = 128;
const IPTC_CAPTION: usize = 2000;

/// Caps for XMP values, so a packet always fits one segment.
const XMP_SHORT: usize = 1024;
const XMP_DESCRIPTION: usize = 16_000;
const XMP_KEYWORDS_TOTAL: usize = 32_000;

/// One marker segment before the scan: `marker` and the bytes of the whole
/// segment in the input (marker, length and payload).
#[derive(Debug, Clone, Copy)]
struct Segment {
    marker: u8,
    start: usize,
    end: usize,
    payload: usize,
}

/// Splits `jpeg` into the segments before SOS and the offset where the rest
/// (SOS, scan data, EOI) starts.
fn segments(jpeg: &[u8]) -> Result<(Vec<Segment>, usize), EmbedError> {
    if jpeg.len() < 2 || jpeg[0] != 0xFF || jpeg[1] != SOI {
        return Err(EmbedError::NotJpeg);
    }
    let mut out = Vec::new();
    let mut pos = 2;
    loop {
        let start = pos;
        if jpeg.get(pos) != Some(&0xFF) {
            return Err(EmbedError::Malformed(pos));
        }
        // fill bytes: any number of 0xFF before the marker code
        while jpeg.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let marker = *jpeg.get(pos).ok_or(EmbedError::Malformed(pos))?;
        pos += 1;
        match marker {
            SOS | EOI => return Ok((out, start)),
            // standalone markers carry no length
            0x01 | 0xD0..=0xD7 => {
                out.push(Segment {
                    marker,
                    start,
                    end: pos,
                    payload: pos,
                });
            }
            0x00 | SOI => return Err(EmbedError::Malformed(start)),
            _ => {
                let len = jpeg
                    .get(pos..pos + 2)
                    .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
                    .ok_or(EmbedError::Malformed(pos))?;
                if len < 2 || pos + len > jpeg.len() {
                    return Err(EmbedError::Malformed(pos));
                }
                out.push(Segment {
                    marker,
                    start,
                    end: pos + len,
                    payload: pos + 2,
                });
                pos += len;
            }
        }
    }
}

/// `jpeg` with `meta` written as `which` says. With [`Which::None`] the
/// bytes come back unchanged (but still checked to be a JPEG).
pub fn embed(jpeg: &[u8], meta: &Metadata, which: Which) -> Result<Vec<u8>, EmbedError> {
    let (segs, rest) = segments(jpeg)?;
    if which == Which::None {
        return Ok(jpeg.to_vec());
    }
    let payload = |s: &Segment| &jpeg[s.payload..s.end];
    let replaced = |s: &Segment| {
        (which.xmp() && s.marker == APP1 && payload(s).starts_with(XMP_SIGNATURE))
            || (which.iptc() && s.marker == APP13 && payload(s).starts_with(PHOTOSHOP_SIGNATURE))
    };
    // New segments go after the leading JFIF/Exif segments, where readers
    // look for them first.
    let lead = segs
        .iter()
        .take_while(|s| {
            s.marker == APP0 || (s.marker == APP1 && payload(s).starts_with(EXIF_SIGNATURE))
        })
        .count();
    let mut out = Vec::with_capacity(jpeg.len() + 4096);
    out.extend_from_slice(&[0xFF, SOI]);
    for s in &segs[..lead] {
        out.extend_from_slice(&jpeg[s.start..s.end]);
    }
    if which.xmp() {
        let mut p = XMP_SIGNATURE.to_vec();
        p.extend_from_slice(xmp_packet(meta).as_bytes());
        push_segment(&mut out, APP1, &p);
    }
    if which.iptc() {
        let mut p = PHOTOSHOP_SIGNATURE.to_vec();
        p.extend_from_slice(&photoshop_resource(0x0404, &iptc_records(meta)));
        push_segment(&mut out, APP13, &p);
    }
    for s in segs[lead..].iter().filter(|s| !replaced(s)) {
        out.extend_from_slice(&jpeg[s.start..s.end]);
    }
    out.extend_from_slice(&jpeg[rest..]);
    Ok(out)
}

fn push_segment(out: &mut Vec<u8>, marker: u8, payload: &[u8]) {
    // the builders keep every payload below the limit; never write a
    // segment whose length would wrap
    let Ok(len) = u16::try_from(payload.len() + 2) else {
        return;
    };
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
}

/// The longest prefix of `s` of at most `max` bytes that ends on a
/// character boundary.
fn clip(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// IPTC IIM datasets (record 1 envelope + record 2 application), UTF-8.
pub fn iptc_records(meta: &Metadata) -> Vec<u8> {
    let mut out = Vec::new();
    // 1:90 coded character set: ESC % G = UTF-8
    dataset(&mut out, 1, 90, &[0x1B, 0x25, 0x47]);
    // 2:00 record version 4
    dataset(&mut out, 2, 0, &[0, 4]);
    let text = |out: &mut Vec<u8>, n: u8, v: &str, max: usize| {
        let v = clip(v.trim(), max);
        if !v.is_empty() {
            dataset(out, 2, n, v.as_bytes());
        }
    };
    text(&mut out, 5, &meta.title, IPTC_TITLE);
    // the resource must fit one segment with the other datasets: at most
    // ~800 keywords of 64 bytes
    let mut room = MAX_PAYLOAD - 4096 - IPTC_CAPTION;
    for k in &meta.keywords {
        let k = clip(k.trim(), IPTC_KEYWORD);
        if k.is_empty() {
            continue;
        }
        if k.len() + 5 > room {
            break;
        }
        room -= k.len() + 5;
        dataset(&mut out, 2, 25, k.as_bytes());
    }
    text(&mut out, 80, &meta.author, IPTC_AUTHOR);
    text(&mut out, 116, &meta.copyright, IPTC_COPYRIGHT);
    text(&mut out, 120, &meta.description, IPTC_CAPTION);
    out
}

fn dataset(out: &mut Vec<u8>, record: u8, number: u8, data: &[u8]) {
    // standard (not extended) datasets: every value written is < 32 KiB
    let Ok(len) = u16::try_from(data.len()) else {
        return;
    };
    out.extend_from_slice(&[0x1C, record, number]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(data);
}

/// One Photoshop image resource block: `8BIM`, id, empty Pascal name
/// (padded to even), size, data (padded to even).
fn photoshop_resource(id: u16, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 13);
    out.extend_from_slice(b"8BIM");
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&u32::try_from(data.len()).unwrap_or(0).to_be_bytes());
    out.extend_from_slice(data);
    if data.len() % 2 == 1 {
        out.push(0);
    }
    out
}

/// Text as XML character data: markup escaped, characters XML 1.0 forbids
/// dropped.
fn xml_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// The XMP packet: Dublin Core title, description, subject (keywords),
/// creator and rights. Always below one segment's size.
pub fn xmp_packet(meta: &Metadata) -> String {
    let mut body = String::new();
    let alt = |body: &mut String, name: &str, v: &str, max: usize| {
        let v = clip(v.trim(), max);
        if !v.is_empty() {
            let _ = writeln!(
                body,
                "   <dc:{name}><rdf:Alt><rdf:li xml:lang=\"x-default\">{}</rdf:li></rdf:Alt></dc:{name}>",
                xml_text(v)
            );
        }
    };
    alt(&mut body, "title", &meta.title, XMP_SHORT);
    alt(&mut body, "description", &meta.description, XMP_DESCRIPTION);
    let mut room = XMP_KEYWORDS_TOTAL;
    let mut bag = String::new();
    for k in &meta.keywords {
        let k = xml_text(clip(k.trim(), XMP_SHORT));
        if k.is_empty() {
            continue;
        }
        if k.len() + 20 > room {
            break;
        }
        room -= k.len() + 20;
        let _ = write!(bag, "<rdf:li>{k}</rdf:li>");
    }
    if !bag.is_empty() {
        let _ = writeln!(body, "   <dc:subject><rdf:Bag>{bag}</rdf:Bag></dc:subject>");
    }
    let author = clip(meta.author.trim(), XMP_SHORT);
    if !author.is_empty() {
        let _ = writeln!(
            body,
            "   <dc:creator><rdf:Seq><rdf:li>{}</rdf:li></rdf:Seq></dc:creator>",
            xml_text(author)
        );
    }
    alt(&mut body, "rights", &meta.copyright, XMP_SHORT);
    format!(
        "<?xpacket begin=\"\u{FEFF}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n\
         <x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n \
         <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n  \
         <rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n\
         {body}  </rdf:Description>\n </rdf:RDF>\n</x:xmpmeta>\n<?xpacket end=\"w\"?>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> Vec<u8> {
        crate::media::image::render(3, "blue", 40, 30, false)
    }

    fn meta() -> Metadata {
        Metadata {
            title: "Fox & hen <at> dawn".into(),
            description: "A fox in a meadow, in the morning light.".into(),
            keywords: vec!["fox".into(), "meadow".into(), "Füchse".into()],
            author: "jdoe".into(),
            copyright: "(c) Panthera / jdoe".into(),
        }
    }

    /// The datasets of an IPTC block as (record, number, value).
    fn read_iptc(mut b: &[u8]) -> Vec<(u8, u8, Vec<u8>)> {
        let mut out = Vec::new();
        while b.len() >= 5 {
            assert_eq!(b[0], 0x1C, "dataset tag");
            let len = usize::from(u16::from_be_bytes([b[3], b[4]]));
            out.push((b[1], b[2], b[5..5 + len].to_vec()));
            b = &b[5 + len..];
        }
        assert!(b.is_empty());
        out
    }

    /// The IPTC block inside the APP13 segment of `jpeg`.
    fn iptc_of(jpeg: &[u8]) -> Option<Vec<u8>> {
        let (segs, _) = segments(jpeg).unwrap();
        let s = segs.iter().find(|s| {
            s.marker == APP13 && jpeg[s.payload..s.end].starts_with(PHOTOSHOP_SIGNATURE)
        })?;
        let r = &jpeg[s.payload + PHOTOSHOP_SIGNATURE.len()..s.end];
        assert_eq!(&r[..4], b"8BIM");
        assert_eq!(&r[4..6], &[0x04, 0x04]);
        assert_eq!(&r[6..8], &[0, 0], "empty name, padded");
        let size = u32::from_be_bytes([r[8], r[9], r[10], r[11]]) as usize;
        assert_eq!(r.len(), 12 + size + size % 2);
        Some(r[12..12 + size].to_vec())
    }

    fn xmp_of(jpeg: &[u8]) -> Option<String> {
        let (segs, _) = segments(jpeg).unwrap();
        let s = segs
            .iter()
            .find(|s| s.marker == APP1 && jpeg[s.payload..s.end].starts_with(XMP_SIGNATURE))?;
        Some(String::from_utf8(jpeg[s.payload + XMP_SIGNATURE.len()..s.end].to_vec()).unwrap())
    }

    /// Everything from SOS on.
    fn scan(jpeg: &[u8]) -> &[u8] {
        let (_, rest) = segments(jpeg).unwrap();
        &jpeg[rest..]
    }

    #[test]
    fn writes_iptc_and_xmp_after_jfif_and_keeps_the_picture() {
        let src = sample();
        let out = embed(&src, &meta(), Which::All).unwrap();
        assert_eq!(scan(&out), scan(&src));
        let (segs, _) = segments(&out).unwrap();
        assert_eq!(segs[0].marker, APP0, "JFIF stays first");
        assert_eq!(segs[1].marker, APP1);
        assert_eq!(segs[2].marker, APP13);
        let iptc = read_iptc(&iptc_of(&out).unwrap());
        let get = |n: u8| -> Vec<String> {
            iptc.iter()
                .filter(|(r, d, _)| *r == 2 && *d == n)
                .map(|(_, _, v)| String::from_utf8(v.clone()).unwrap())
                .collect()
        };
        assert_eq!(iptc[0], (1, 90, vec![0x1B, 0x25, 0x47]));
        assert_eq!(get(5), ["Fox & hen <at> dawn"]);
        assert_eq!(get(25), ["fox", "meadow", "Füchse"]);
        assert_eq!(get(80), ["jdoe"]);
        assert_eq!(get(116), ["(c) Panthera / jdoe"]);
        assert_eq!(get(120), ["A fox in a meadow, in the morning light."]);
        let xmp = xmp_of(&out).unwrap();
        assert!(xmp.contains("Fox &amp; hen &lt;at&gt; dawn"), "{xmp}");
        assert!(xmp.contains("<rdf:li>Füchse</rdf:li>"));
        assert!(xmp.contains("<dc:creator><rdf:Seq><rdf:li>jdoe</rdf:li>"));
        assert!(xmp.starts_with("<?xpacket begin=\"\u{FEFF}\""));
    }

    #[test]
    fn each_kind_alone_and_none() {
        let src = sample();
        let iptc = embed(&src, &meta(), Which::Iptc).unwrap();
        assert!(iptc_of(&iptc).is_some() && xmp_of(&iptc).is_none());
        let xmp = embed(&src, &meta(), Which::Xmp).unwrap();
        assert!(iptc_of(&xmp).is_none() && xmp_of(&xmp).is_some());
        assert_eq!(embed(&src, &meta(), Which::None).unwrap(), src);
        assert_eq!(Which::parse("iptc"), Some(Which::Iptc));
        assert_eq!(Which::parse("exif"), None);
    }

    #[test]
    fn writing_twice_replaces_instead_of_adding() {
        let once = embed(&sample(), &meta(), Which::All).unwrap();
        let mut other = meta();
        other.title = "Second".into();
        let twice = embed(&once, &other, Which::All).unwrap();
        let (segs, _) = segments(&twice).unwrap();
        assert_eq!(segs.iter().filter(|s| s.marker == APP13).count(), 1);
        assert_eq!(segs.iter().filter(|s| s.marker == APP1).count(), 1);
        assert!(xmp_of(&twice).unwrap().contains("Second"));
    }

    #[test]
    fn refuses_what_is_not_a_jpeg() {
        assert_eq!(
            embed(b"GIF89a", &meta(), Which::All),
            Err(EmbedError::NotJpeg)
        );
        assert!(matches!(
            embed(&[0xFF, 0xD8, 0xFF, 0xE0, 0x00], &meta(), Which::All),
            Err(EmbedError::Malformed(_))
        ));
        assert!(matches!(
            embed(
                &[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 1],
                &meta(),
                Which::All
            ),
            Err(EmbedError::Malformed(_))
        ));
    }

    #[test]
    fn long_values_are_clipped_on_character_boundaries() {
        let m = Metadata {
            title: "ä".repeat(100),
            author: "é".repeat(40),
            keywords: vec!["k".repeat(70); 2000],
            description: "d".repeat(70_000),
            copyright: "c".repeat(300),
        };
        let out = embed(&sample(), &m, Which::All).unwrap();
        let iptc = read_iptc(&iptc_of(&out).unwrap());
        let title = &iptc.iter().find(|d| d.1 == 5).unwrap().2;
        assert_eq!(title.len(), 64);
        assert!(std::str::from_utf8(title).is_ok());
        let author = &iptc.iter().find(|d| d.1 == 80).unwrap().2;
        assert_eq!(author.len(), 32);
        assert!(iptc.iter().filter(|d| d.1 == 25).count() > 100);
        assert!(xmp_of(&out).is_some());
    }

    proptest! {
        #[test]
        fn any_metadata_gives_a_well_formed_jpeg(
            title in ".{0,300}",
            description in ".{0,3000}",
            keywords in proptest::collection::vec(".{0,80}", 0..40),
            author in ".{0,80}",
            copyright in ".{0,200}",
            kind in 0usize..4,
        ) {
            let m = Metadata { title, description, keywords, author, copyright };
            let which = Which::parse(Which::NAMES[kind]).unwrap();
            let src = sample();
            let out = embed(&src, &m, which).unwrap();
            // walkable to the scan, scan unchanged
            prop_assert_eq!(scan(&out), scan(&src));
            if which.iptc() {
                let sets = read_iptc(&iptc_of(&out).unwrap());
                for (_, _, v) in &sets {
                    prop_assert!(std::str::from_utf8(v).is_ok() || v[0] == 0x1B || v == &[0, 4]);
                }
                let titles: Vec<_> = sets.iter().filter(|d| d.1 == 5).collect();
                let want = clip(m.title.trim(), IPTC_TITLE);
                prop_assert_eq!(titles.len(), usize::from(!want.is_empty()));
                if let Some(t) = titles.first() {
                    prop_assert_eq!(&t.2[..], want.as_bytes());
                }
            }
            if which.xmp() {
                let x = xmp_of(&out).unwrap();
                prop_assert!(quick_xml_parses(&x), "{}", x);
            }
            // writing again changes nothing more
            prop_assert_eq!(embed(&out, &m, which).unwrap(), out);
        }
    }

    fn quick_xml_parses(x: &str) -> bool {
        let mut r = quick_xml::Reader::from_str(x);
        loop {
            match r.read_event() {
                Ok(quick_xml::events::Event::Eof) => return true,
                Err(_) => return false,
                Ok(_) => {}
            }
        }
    }
}
