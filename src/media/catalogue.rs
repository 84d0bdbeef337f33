//! Synthetic catalogues: the demo a first start creates and the large ones
//! `panthera media generate` makes for benchmarks. Deterministic for a seed.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::media::query::COLORS;
use crate::store::media::{self, NewMedia};

/// Subjects with the keywords that go with them.
const SUBJECTS: &[(&str, &[&str])] = &[
    ("fox", &["animal", "wildlife", "mammal", "fur"]),
    ("deer", &["animal", "wildlife", "mammal", "antlers"]),
    ("owl", &["bird", "wildlife", "night", "feathers"]),
    ("horse", &["animal", "farm", "mammal", "riding"]),
    ("cat", &["animal", "pet", "kitten", "cute"]),
    ("dog", &["animal", "pet", "puppy", "loyal"]),
    ("lighthouse", &["coast", "sea", "building", "navigation"]),
    ("bridge", &["architecture", "city", "river", "steel"]),
    ("tree", &["nature", "plant", "leaves", "wood"]),
    ("mountain", &["nature", "peak", "hiking", "rock"]),
    ("lake", &["water", "nature", "reflection", "calm"]),
    ("beach", &["sea", "sand", "holiday", "summer"]),
    ("city", &["urban", "skyline", "street", "buildings"]),
    ("coffee", &["drink", "cup", "cafe", "morning"]),
    ("bicycle", &["sport", "transport", "wheel", "ride"]),
    ("family", &["people", "parents", "children", "together"]),
    ("businessman", &["people", "office", "work", "suit"]),
    ("woman", &["people", "portrait", "female", "smile"]),
    ("child", &["people", "kid", "play", "happy"]),
    ("tulip", &["flower", "spring", "garden", "blossom"]),
    ("sunflower", &["flower", "summer", "field", "yellow"]),
    ("castle", &["architecture", "history", "tower", "medieval"]),
    ("boat", &["water", "sailing", "harbour", "travel"]),
    ("train", &["transport", "railway", "travel", "station"]),
];

const MOODS: &[&str] = &[
    "misty",
    "sunny",
    "snowy",
    "golden",
    "quiet",
    "stormy",
    "colourful",
    "old",
    "modern",
    "wild",
    "bright",
    "dark",
    "autumn",
    "spring",
    "winter",
    "summer",
];

const PLACES: &[&str] = &[
    "forest",
    "meadow",
    "harbour",
    "valley",
    "garden",
    "street",
    "park",
    "desert",
    "island",
    "village",
    "river",
    "field",
    "studio",
    "office",
    "kitchen",
    "countryside",
];

const PHOTOGRAPHERS: &[(&str, &str)] = &[
    ("anna.berg", "Anna Berg"),
    ("lukas_m", "Lukas Meyer"),
    ("sofia.rossi", "Sofia Rossi"),
    ("jan.kowalski", "Jan Kowalski"),
    ("maria_santos", "Maria Santos"),
    ("erik.holm", "Erik Holm"),
    ("chloe.martin", "Chloé Martin"),
    ("pedro.alves", "Pedro Alves"),
];

/// Extra words that make a large catalogue's vocabulary realistic in size.
fn filler_word(rng: &mut StdRng) -> String {
    const SYL: &[&str] = &[
        "ka", "lo", "mi", "ra", "ten", "vu", "so", "pel", "dan", "ri", "mon", "tex", "ba", "lu",
        "qui", "zo",
    ];
    let n = rng.gen_range(2..=3);
    (0..n).map(|_| *SYL.choose(rng).unwrap_or(&"ka")).collect()
}

/// One synthetic item by `author` (username, realname), created at `created_at`.
pub fn item(rng: &mut StdRng, author: (&str, &str), created_at: i64, fillers: usize) -> NewMedia {
    let (subject, related) = SUBJECTS[rng.gen_range(0..SUBJECTS.len())];
    let mood = MOODS[rng.gen_range(0..MOODS.len())];
    let place = PLACES[rng.gen_range(0..PLACES.len())];
    let color = COLORS[rng.gen_range(0..COLORS.len())].0;
    let mut keywords: Vec<String> = vec![subject.into(), mood.into(), place.into()];
    keywords.extend(related.iter().map(|k| (*k).to_string()));
    keywords.push(color.into());
    for _ in 0..fillers {
        keywords.push(filler_word(rng));
    }
    let mut seen = std::collections::HashSet::new();
    keywords.retain(|k| seen.insert(k.clone()));
    let people = if related.contains(&"people") {
        rng.gen_range(1..=4)
    } else {
        0
    };
    let (w, h) = match rng.gen_range(0..10) {
        0..=5 => (3000, 2000),
        6..=8 => (2000, 3000),
        _ => (2400, 2400),
    };
    let editorial = rng.gen_bool(0.1);
    let model_release = people > 0 && rng.gen_bool(0.8);
    let property_release = rng.gen_bool(0.2);
    let filename = format!("IMG_{:05}.jpg", rng.gen_range(0..100_000));
    // The search-filter attributes come from a second generator seeded by
    // what was drawn already, so catalogues made before they existed keep
    // their items (same ids, texts, sizes) for a seed.
    let mut more = StdRng::seed_from_u64(
        created_at as u64
            ^ ((subject.len() as u64) << 40)
            ^ (fillers as u64) << 56
            ^ filename
                .bytes()
                .fold(0u64, |a, b| a.wrapping_mul(31).wrapping_add(u64::from(b))),
    );
    let attrs = extra_attributes(&mut more, people, color);
    let (w, h) = if attrs.panorama { (4500, 1500) } else { (w, h) };
    NewMedia {
        id: None,
        title: format!("{} {subject} in a {place}", capitalise(mood)),
        description: format!("A {mood} {subject} photographed in a {place}, in {color} tones."),
        keywords,
        author_username: author.0.into(),
        author_realname: author.1.into(),
        width: w,
        height: h,
        mime_type: "image/jpeg".into(),
        editorial,
        model_release,
        property_release,
        people_number: people,
        color: color.into(),
        state: "green".into(),
        filename,
        created_at,
        media_type: attrs.media_type.into(),
        people_gender: attrs.gender.into(),
        people_ethnicity: attrs.ethnicity,
        color_rgb: Some(attrs.rgb),
        isolated: attrs.isolated,
        adult_content: false,
        collection: attrs.collection.into(),
    }
}

/// What the search filters need beyond the basics (methods.md §F).
struct ExtraAttributes {
    media_type: &'static str,
    gender: &'static str,
    ethnicity: String,
    rgb: i64,
    isolated: bool,
    collection: &'static str,
    panorama: bool,
}

fn extra_attributes(rng: &mut StdRng, people: i64, color: &str) -> ExtraAttributes {
    const ETHNICITIES: &[&str] = &["a", "e", "f", "h", "m", "s"];
    let media_type = match rng.gen_range(0..10) {
        0..=6 => "photo",
        7..=8 => "illustration",
        _ => "vector",
    };
    let gender = match (people, rng.gen_range(0..3)) {
        (0, _) => "",
        (1, 0) => "m",
        (1, _) => "f",
        (_, 0) => "m",
        (_, 1) => "f",
        _ => "mf",
    };
    let ethnicity = if people == 0 {
        String::new()
    } else if people > 1 && rng.gen_bool(0.3) {
        "xd".to_string()
    } else {
        ETHNICITIES[rng.gen_range(0..ETHNICITIES.len())].to_string()
    };
    // the tag's colour, varied a little per item
    let base = media::color_tag_rgb(color);
    let jitter = |c: i64, rng: &mut StdRng| (c + rng.gen_range(-12..=12)).clamp(0, 255);
    let rgb = (jitter((base >> 16) & 255, rng) << 16)
        | (jitter((base >> 8) & 255, rng) << 8)
        | jitter(base & 255, rng);
    ExtraAttributes {
        media_type,
        gender,
        ethnicity,
        rgb,
        isolated: rng.gen_bool(0.1),
        collection: if rng.gen_bool(0.1) {
            "premium"
        } else {
            "standard"
        },
        panorama: rng.gen_bool(0.05),
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// `n` synthetic items created over the days before `now`, made one at a
/// time as they are taken (`store.media_items().add_all(..)`).
pub fn generate(n: usize, seed: u64, now: i64, fillers: usize) -> impl Iterator<Item = NewMedia> {
    let mut rng = StdRng::seed_from_u64(seed);
    let span = (n as i64).max(1) * 600;
    (0..n).map(move |i| {
        let (u, r) = PHOTOGRAPHERS[rng.gen_range(0..PHOTOGRAPHERS.len())];
        let created = now - span + (i as i64) * 600;
        item(&mut rng, (u, r), created, fillers)
    })
}

/// The contributor items of the demo user: a few in every state (§E).
pub fn demo_contributions(username: &str, realname: &str, now: i64) -> Vec<NewMedia> {
    let mut rng = StdRng::seed_from_u64(7);
    let states = [
        "green",
        "green",
        "green",
        "yellow",
        "yellow",
        "black",
        "red",
        "red-green",
        "yellow-green",
        "green",
    ];
    states
        .iter()
        .enumerate()
        .map(|(i, state)| {
            let mut m = item(&mut rng, (username, realname), now - 3600 + i as i64, 0);
            m.state = (*state).into();
            if *state == "black" {
                m.keywords.clear();
                m.description.clear();
            }
            m
        })
        .collect()
}
