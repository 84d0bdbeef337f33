//! Pictures of the catalogue, rendered on request: a landscape-like scene in
//! the item's colour, varied by its id, encoded as JPEG. Deterministic, so a
//! preview never needs to be stored and is the same on every request.

/// The renditions the server serves for an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rendition {
    Thumb150,
    Thumb170,
    Preview,
    PreviewHigh,
}

impl Rendition {
    pub const ALL: [Rendition; 4] = [
        Rendition::Thumb150,
        Rendition::Thumb170,
        Rendition::Preview,
        Rendition::PreviewHigh,
    ];

    /// The path segment: `/media/<segment>/<id>.jpg`.
    pub fn segment(self) -> &'static str {
        match self {
            Rendition::Thumb150 => "thumb150",
            Rendition::Thumb170 => "thumb170",
            Rendition::Preview => "preview",
            Rendition::PreviewHigh => "preview-high",
        }
    }

    pub fn parse(s: &str) -> Option<Rendition> {
        Rendition::ALL.into_iter().find(|r| r.segment() == s)
    }

    /// Longest side in pixels.
    pub fn long_side(self) -> i64 {
        match self {
            Rendition::Thumb150 => 150,
            Rendition::Thumb170 => 170,
            Rendition::Preview => 400,
            Rendition::PreviewHigh => 800,
        }
    }

    /// Previews carry a watermark band; thumbs are too small to need one.
    pub fn watermarked(self) -> bool {
        matches!(self, Rendition::Preview | Rendition::PreviewHigh)
    }
}

/// The size of a rendition of a `w`×`h` original (never upscaled).
pub fn fit(w: i64, h: i64, long_side: i64) -> (u16, u16) {
    let (w, h) = (w.max(1), h.max(1));
    let long = w.max(h);
    let target = long_side.min(long).clamp(1, 4000);
    let scale = |v: i64| ((v * target + long / 2) / long).clamp(1, 4000) as u16;
    (scale(w), scale(h))
}

/// The RGB of a colour name; the store ranks colour searches by it.
pub use crate::store::search::rgb;

/// A JPEG of `width`×`height` for item `id` in `color`.
pub fn render(id: i64, color: &str, width: u16, height: u16, watermark: bool) -> Vec<u8> {
    let (w, h) = (usize::from(width.max(1)), usize::from(height.max(1)));
    let px = scene(id, color, w, h, watermark);
    encode(&px, width.max(1), height.max(1))
}

/// The RGB pixels of item `id`'s scene.
fn scene(id: i64, color: &str, w: usize, h: usize, watermark: bool) -> Vec<u8> {
    let base = rgb(color);
    let seed = (id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let sun_x = (seed % 1000) as f32 / 1000.0;
    let sun_y = 0.15 + ((seed >> 10) % 300) as f32 / 1000.0;
    let horizon = 0.55 + ((seed >> 20) % 200) as f32 / 1000.0;
    let wave = 2.0 + ((seed >> 30) % 5) as f32;
    let mut px = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        let fy = y as f32 / h as f32;
        for x in 0..w {
            let fx = x as f32 / w as f32;
            let ground = horizon + 0.06 * (fx * wave * std::f32::consts::PI).sin();
            let mut c = if fy < ground {
                // sky: light at the top, towards the base colour at the horizon
                let t = fy / ground;
                mix([235, 240, 250], base, 0.25 + 0.5 * t)
            } else {
                let t = (fy - ground) / (1.0 - ground).max(0.01);
                mix(base, [20, 20, 24], 0.2 + 0.6 * t)
            };
            let (dx, dy) = ((fx - sun_x) * w as f32 / h as f32, fy - sun_y);
            if dx * dx + dy * dy < 0.008 && fy < ground {
                c = [255, 244, 200];
            }
            if watermark && ((fx + fy) * 10.0).fract() < 0.04 {
                c = mix(c, [255, 255, 255], 0.5);
            }
            px.extend_from_slice(&c);
        }
    }
    px
}

fn encode(px: &[u8], width: u16, height: u16) -> Vec<u8> {
    let mut out = Vec::new();
    let encoder = jpeg_encoder::Encoder::new(&mut out, 70);
    match encoder.encode(px, width, height, jpeg_encoder::ColorType::Rgb) {
        Ok(()) => out,
        Err(e) => {
            tracing::warn!(error = %e, "jpeg encoding failed");
            Vec::new()
        }
    }
}

/// A rendition of an item (`w`×`h` is the original's size).
pub fn rendition(id: i64, color: &str, w: i64, h: i64, r: Rendition) -> Vec<u8> {
    let (tw, th) = fit(w, h, r.long_side());
    render(id, color, tw, th, r.watermarked())
}

/// Longest side of a test download (`test=yes`).
pub const TEST_LONG_SIDE: i64 = 400;

/// The marked file of a test download (`test=yes`): at most
/// [`TEST_LONG_SIDE`] pixels, the word TEST written large across it in
/// white on a dark band, so it can never pass for a purchased file.
pub fn test_rendition(id: i64, color: &str, w: i64, h: i64) -> Vec<u8> {
    let (tw, th) = fit(w, h, TEST_LONG_SIDE);
    let (w, h) = (usize::from(tw.max(1)), usize::from(th.max(1)));
    let mut px = scene(id, color, w, h, true);
    stamp_test(&mut px, w, h);
    encode(&px, tw.max(1), th.max(1))
}

/// 5×7 glyphs of the letters of "TEST", one row per byte (bit 4 = left).
const GLYPH_T: [u8; 7] = [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04];
const GLYPH_E: [u8; 7] = [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F];
const GLYPH_S: [u8; 7] = [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E];

/// Paints a dark band across the middle with "TEST" in white, as large as
/// the picture allows.
fn stamp_test(px: &mut [u8], w: usize, h: usize) {
    let glyphs = [GLYPH_T, GLYPH_E, GLYPH_S, GLYPH_T];
    // 4 letters of 5 columns + 3 gaps + 2 margins = 25 columns, 7 rows + 2
    let cell = (w / 25).min(h / 9).max(1);
    let (text_w, text_h) = (23 * cell, 7 * cell);
    let x0 = w.saturating_sub(text_w) / 2;
    let y0 = h.saturating_sub(text_h) / 2;
    let band = (y0.saturating_sub(cell), (y0 + text_h + cell).min(h));
    let mut set = |x: usize, y: usize, c: [u8; 3]| {
        if x < w && y < h {
            let i = (y * w + x) * 3;
            px[i..i + 3].copy_from_slice(&c);
        }
    };
    for y in band.0..band.1 {
        for x in 0..w {
            set(x, y, [24, 24, 28]);
        }
    }
    for (n, g) in glyphs.iter().enumerate() {
        for (row, bits) in g.iter().enumerate() {
            for col in 0..5 {
                if bits & (0x10 >> col) == 0 {
                    continue;
                }
                let gx = x0 + (n * 6 + col) * cell;
                let gy = y0 + row * cell;
                for dy in 0..cell {
                    for dx in 0..cell {
                        set(gx + dx, gy + dy, [255, 255, 255]);
                    }
                }
            }
        }
    }
}

fn mix(a: [u8; 3], b: [u8; 3], t: f32) -> [u8; 3] {
    let t = t.clamp(0.0, 1.0);
    let m = |x: u8, y: u8| (f32::from(x) * (1.0 - t) + f32::from(y) * t).round() as u8;
    [m(a[0], b[0]), m(a[1], b[1]), m(a[2], b[2])]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_a_jpeg_of_the_asked_size() {
        let jpeg = rendition(7, "blue", 3000, 2000, Rendition::Thumb170);
        assert_eq!(&jpeg[..3], &[0xFF, 0xD8, 0xFF], "JPEG SOI marker");
        assert_eq!(&jpeg[jpeg.len() - 2..], &[0xFF, 0xD9], "JPEG EOI marker");
        assert_eq!(fit(3000, 2000, 170), (170, 113));
        assert_eq!(fit(100, 50, 400), (100, 50), "never upscaled");
        assert_eq!(rendition(7, "blue", 3000, 2000, Rendition::Thumb170), jpeg);
    }

    #[test]
    fn a_test_rendition_is_small_and_carries_the_word_test() {
        let (w, h) = fit(6000, 4000, TEST_LONG_SIDE);
        assert_eq!((w, h), (400, 267));
        let jpeg = test_rendition(7, "blue", 6000, 4000);
        assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
        assert_ne!(jpeg, render(7, "blue", w, h, true));
        // the stamp: a dark band with white letter strokes in the middle row
        let (w, h) = (usize::from(w), usize::from(h));
        let mut px = scene(7, "blue", w, h, true);
        stamp_test(&mut px, w, h);
        let cell = (w / 25).min(h / 9);
        let y = (h - 7 * cell) / 2 + cell / 2; // first glyph row
        let row = &px[y * w * 3..(y + 1) * w * 3];
        let white = row.chunks(3).filter(|c| *c == [255, 255, 255]).count();
        let dark = row.chunks(3).filter(|c| *c == [24, 24, 28]).count();
        // T, E, S, T top bars: 5 + 5 + 4 + 5 cells wide
        assert_eq!(white, 19 * cell);
        assert_eq!(white + dark, w);
    }
}
