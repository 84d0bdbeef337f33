//! What a search asks for, parsed once at the edge: the words of `q`, the
//! `filters` string and the `extra_info` list. The store only ever sees these
//! types, so it never has to re-check raw input.

use crate::error::ApiError;
pub use crate::store::search::{fts_all, fts_any, Color, Filters, People, Query, Sort, Word};

/// At most this many words are used from `q`; more would only slow the index.
pub const MAX_WORDS: usize = 32;

impl Query {
    /// Splits `q` on white space. Words are reduced to letters, digits and
    /// inner hyphens/apostrophes, so no FTS syntax can come from the caller.
    pub fn parse(q: &str) -> Query {
        let mut query = Query::default();
        let mut excluding = false;
        for raw in q.split_whitespace().take(MAX_WORDS) {
            let raw = match raw.strip_prefix('-') {
                Some(rest) => {
                    excluding = true;
                    rest
                }
                None => raw,
            };
            let prefix = raw.ends_with('*');
            let text: String = raw
                .chars()
                .filter(|c| c.is_alphanumeric() || *c == '-' || *c == '\'')
                .collect::<String>()
                .trim_matches(|c| c == '-' || c == '\'')
                .to_lowercase();
            if text.is_empty() {
                continue;
            }
            let id = if text.bytes().all(|b| b.is_ascii_digit()) {
                text.parse::<i64>().ok()
            } else {
                None
            };
            match (excluding, id) {
                (false, Some(id)) => query.ids.push(id),
                (true, Some(id)) => query.excluded_ids.push(id),
                (false, None) => query.words.push(Word { text, prefix }),
                (true, None) => query.excluded.push(Word { text, prefix }),
            }
        }
        query
    }

    /// True when `q` asked for nothing (every public item matches).
    pub fn is_empty(&self) -> bool {
        self.words.is_empty() && self.ids.is_empty()
    }
}

/// A text in every content language, in the order of `LANGS`.
pub type Texts = [&'static str; 7];

/// The content languages, in the order of [`Texts`].
pub const LANGS: [&str; 7] = ["da", "de", "en", "es", "it", "pl", "pt"];

/// The text of `t` in `lang` (English for an unknown language).
pub fn text(t: &Texts, lang: &str) -> &'static str {
    let i = LANGS.iter().position(|l| *l == lang).unwrap_or(2);
    t[i]
}

/// One value of an enumerated filter: its canonical id (the original
/// service's), the ids Panthera accepted before (kept as aliases), its name.
pub struct FilterValue {
    pub id: &'static str,
    pub aliases: &'static [&'static str],
    pub name: Texts,
}

/// How a filter takes its value, as `get-search-filter` lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterKind {
    /// One of the listed values.
    Single,
    /// A comma list of the listed values.
    Multi,
    /// Free text (a username).
    Text,
    /// A colour as six hex digits without `#` (or a listed colour name).
    Hexcode,
    /// An integer.
    Integer,
}

impl FilterKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FilterKind::Single => "single",
            FilterKind::Multi => "multi",
            FilterKind::Text => "string",
            FilterKind::Hexcode => "hexcode",
            FilterKind::Integer => "integer",
        }
    }
}

/// A named filter of `get-search-filter`.
pub struct FilterDef {
    pub name: &'static str,
    pub kind: FilterKind,
    pub title: Texts,
    pub values: &'static [FilterValue],
    /// Values accepted besides the listed ones, described for the docs.
    pub pattern: Option<&'static str>,
}

/// The colours items are tagged with (also the demo previews' base colours).
pub const COLORS: &[(&str, &str)] = &[
    ("red", "Red"),
    ("orange", "Orange"),
    ("yellow", "Yellow"),
    ("green", "Green"),
    ("blue", "Blue"),
    ("purple", "Purple"),
    ("pink", "Pink"),
    ("brown", "Brown"),
    ("black", "Black"),
    ("white", "White"),
    ("grey", "Grey"),
];

const fn v(id: &'static str, aliases: &'static [&'static str], name: Texts) -> FilterValue {
    FilterValue { id, aliases, name }
}

const ALL: FilterValue = v(
    "all",
    &[],
    [
        "Alle",
        "Alle",
        "All",
        "Todos",
        "Tutti",
        "Wszystkie",
        "Todos",
    ],
);

/// Every filter `search` understands, as `get-search-filter` lists them.
/// Names and values are the original service's; Panthera's earlier ids
/// are aliases.
pub const FILTERS: &[FilterDef] = &[
    FilterDef {
        name: "sort",
        kind: FilterKind::Single,
        title: [
            "Sortering",
            "Sortierung",
            "Sort by",
            "Ordenar por",
            "Ordina per",
            "Sortuj według",
            "Ordenar por",
        ],
        values: &[
            v(
                "rel",
                &["relevance"],
                [
                    "Relevans",
                    "Relevanz",
                    "Relevance",
                    "Relevancia",
                    "Rilevanza",
                    "Trafność",
                    "Relevância",
                ],
            ),
            v(
                "date",
                &["newest"],
                [
                    "Nyeste først",
                    "Neueste zuerst",
                    "Newest first",
                    "Más recientes",
                    "Più recenti",
                    "Najnowsze",
                    "Mais recentes",
                ],
            ),
            v(
                "buy",
                &["popular"],
                [
                    "Mest købte",
                    "Meistgekauft",
                    "Most bought",
                    "Más comprados",
                    "Più acquistati",
                    "Najczęściej kupowane",
                    "Mais comprados",
                ],
            ),
            v(
                "oldest",
                &[],
                [
                    "Ældste først",
                    "Älteste zuerst",
                    "Oldest first",
                    "Más antiguos",
                    "Meno recenti",
                    "Najstarsze",
                    "Mais antigos",
                ],
            ),
        ],
        pattern: None,
    },
    FilterDef {
        name: "type",
        kind: FilterKind::Multi,
        title: [
            "Medietype",
            "Medientyp",
            "Media type",
            "Tipo de medio",
            "Tipo di media",
            "Typ mediów",
            "Tipo de mídia",
        ],
        values: &[
            ALL,
            v(
                "photos",
                &["photo"],
                ["Fotos", "Fotos", "Photos", "Fotos", "Foto", "Zdjęcia", "Fotos"],
            ),
            v(
                "illustrations",
                &["illustration"],
                [
                    "Illustrationer",
                    "Illustrationen",
                    "Illustrations",
                    "Ilustraciones",
                    "Illustrazioni",
                    "Ilustracje",
                    "Ilustrações",
                ],
            ),
            v(
                "vectors",
                &["vector"],
                [
                    "Vektorer",
                    "Vektorgrafiken",
                    "Vectors",
                    "Vectores",
                    "Vettoriali",
                    "Grafika wektorowa",
                    "Vetores",
                ],
            ),
        ],
        pattern: None,
    },
    FilterDef {
        name: "license",
        kind: FilterKind::Multi,
        title: [
            "Licens",
            "Lizenz",
            "License",
            "Licencia",
            "Licenza",
            "Licencja",
            "Licença",
        ],
        values: &[
            ALL,
            v(
                "commercial",
                &[],
                [
                    "Kommerciel brug",
                    "Kommerzielle Nutzung",
                    "Commercial use",
                    "Uso comercial",
                    "Uso commerciale",
                    "Użytek komercyjny",
                    "Uso comercial",
                ],
            ),
            v(
                "editorial",
                &[],
                [
                    "Kun redaktionel brug",
                    "Nur redaktionelle Nutzung",
                    "Editorial use only",
                    "Solo uso editorial",
                    "Solo uso editoriale",
                    "Tylko użytek redakcyjny",
                    "Apenas uso editorial",
                ],
            ),
        ],
        pattern: None,
    },
    FilterDef {
        name: "orientation",
        kind: FilterKind::Multi,
        title: [
            "Format",
            "Ausrichtung",
            "Orientation",
            "Orientación",
            "Orientamento",
            "Orientacja",
            "Orientação",
        ],
        values: &[
            ALL,
            v(
                "vertical",
                &["portrait"],
                [
                    "Højformat",
                    "Hochformat",
                    "Vertical",
                    "Vertical",
                    "Verticale",
                    "Pionowa",
                    "Vertical",
                ],
            ),
            v(
                "horizontal",
                &["landscape"],
                [
                    "Tværformat",
                    "Querformat",
                    "Horizontal",
                    "Horizontal",
                    "Orizzontale",
                    "Pozioma",
                    "Horizontal",
                ],
            ),
            v(
                "square",
                &[],
                [
                    "Kvadratisk",
                    "Quadratisch",
                    "Square",
                    "Cuadrado",
                    "Quadrato",
                    "Kwadrat",
                    "Quadrado",
                ],
            ),
            v(
                "panorama",
                &[],
                [
                    "Panorama",
                    "Panorama",
                    "Panorama",
                    "Panorámica",
                    "Panoramica",
                    "Panorama",
                    "Panorâmica",
                ],
            ),
        ],
        pattern: None,
    },
    FilterDef {
        name: "people_number",
        kind: FilterKind::Multi,
        title: [
            "Antal personer",
            "Anzahl Personen",
            "Number of people",
            "Número de personas",
            "Numero di persone",
            "Liczba osób",
            "Número de pessoas",
        ],
        values: &[
            ALL,
            v(
                "people_0",
                &["0"],
                [
                    "Uden personer",
                    "Ohne Personen",
                    "Without people",
                    "Sin personas",
                    "Senza persone",
                    "Bez osób",
                    "Sem pessoas",
                ],
            ),
            v(
                "people_any",
                &[],
                [
                    "Med personer",
                    "Mit Personen",
                    "With people",
                    "Con personas",
                    "Con persone",
                    "Z osobami",
                    "Com pessoas",
                ],
            ),
            v(
                "people_1",
                &["1"],
                [
                    "1 person",
                    "1 Person",
                    "One person",
                    "1 persona",
                    "1 persona",
                    "1 osoba",
                    "1 pessoa",
                ],
            ),
            v(
                "people_2",
                &["2"],
                [
                    "2 personer",
                    "2 Personen",
                    "Two people",
                    "2 personas",
                    "2 persone",
                    "2 osoby",
                    "2 pessoas",
                ],
            ),
            v(
                "people_3",
                &[],
                [
                    "3 personer",
                    "3 Personen",
                    "Three people",
                    "3 personas",
                    "3 persone",
                    "3 osoby",
                    "3 pessoas",
                ],
            ),
            v(
                "people_4",
                &[],
                [
                    "4 personer",
                    "4 Personen",
                    "Four people",
                    "4 personas",
                    "4 persone",
                    "4 osoby",
                    "4 pessoas",
                ],
            ),
        ],
        pattern: Some(
            "people_<n>: exactly n people (any n from 0 to 1000); the former id 3 means three or more",
        ),
    },
    FilterDef {
        name: "people_gender",
        kind: FilterKind::Multi,
        title: [
            "Køn",
            "Geschlecht",
            "Gender",
            "Género",
            "Genere",
            "Płeć",
            "Gênero",
        ],
        values: &[
            ALL,
            v(
                "m",
                &[],
                [
                    "Mænd",
                    "Männlich",
                    "Male",
                    "Masculino",
                    "Maschile",
                    "Mężczyźni",
                    "Masculino",
                ],
            ),
            v(
                "f",
                &[],
                [
                    "Kvinder",
                    "Weiblich",
                    "Female",
                    "Femenino",
                    "Femminile",
                    "Kobiety",
                    "Feminino",
                ],
            ),
        ],
        pattern: None,
    },
    FilterDef {
        name: "people_ethnicity",
        kind: FilterKind::Multi,
        title: [
            "Etnicitet",
            "Ethnie",
            "Ethnicity",
            "Etnia",
            "Etnia",
            "Pochodzenie etniczne",
            "Etnia",
        ],
        values: &[
            ALL,
            v(
                "a",
                &[],
                [
                    "Asiatisk",
                    "Asiatisch",
                    "Asian",
                    "Asiático",
                    "Asiatica",
                    "Azjatyckie",
                    "Asiático",
                ],
            ),
            v(
                "e",
                &[],
                [
                    "Europæisk",
                    "Europäisch",
                    "European",
                    "Europeo",
                    "Europea",
                    "Europejskie",
                    "Europeu",
                ],
            ),
            v(
                "f",
                &[],
                [
                    "Afrikansk",
                    "Afrikanisch",
                    "African",
                    "Africano",
                    "Africana",
                    "Afrykańskie",
                    "Africano",
                ],
            ),
            v(
                "h",
                &[],
                [
                    "Latinamerikansk",
                    "Lateinamerikanisch",
                    "Hispanic / Latin",
                    "Hispano / latino",
                    "Ispanica / latina",
                    "Latynoskie",
                    "Hispânico / latino",
                ],
            ),
            v(
                "m",
                &[],
                [
                    "Mellemøstlig",
                    "Nahöstlich",
                    "Middle Eastern",
                    "De Oriente Medio",
                    "Mediorientale",
                    "Bliskowschodnie",
                    "Do Oriente Médio",
                ],
            ),
            v(
                "s",
                &[],
                [
                    "Sydasiatisk",
                    "Südasiatisch",
                    "South Asian",
                    "Sudasiático",
                    "Sud-asiatica",
                    "Południowoazjatyckie",
                    "Sul-asiático",
                ],
            ),
            v(
                "xd",
                &[],
                [
                    "Blandet gruppe",
                    "Gemischte Gruppe",
                    "Mixed group",
                    "Grupo mixto",
                    "Gruppo misto",
                    "Grupa mieszana",
                    "Grupo misto",
                ],
            ),
        ],
        pattern: Some("any code of 1-4 letters a-z; codes no item carries match nothing"),
    },
    FilterDef {
        name: "color",
        kind: FilterKind::Hexcode,
        title: [
            "Farve", "Farbe", "Colour", "Color", "Colore", "Kolor", "Cor",
        ],
        values: &[
            v(
                "red",
                &[],
                [
                    "Rød",
                    "Rot",
                    "Red",
                    "Rojo",
                    "Rosso",
                    "Czerwony",
                    "Vermelho",
                ],
            ),
            v(
                "orange",
                &[],
                [
                    "Orange",
                    "Orange",
                    "Orange",
                    "Naranja",
                    "Arancione",
                    "Pomarańczowy",
                    "Laranja",
                ],
            ),
            v(
                "yellow",
                &[],
                [
                    "Gul", "Gelb", "Yellow", "Amarillo", "Giallo", "Żółty", "Amarelo",
                ],
            ),
            v(
                "green",
                &[],
                [
                    "Grøn", "Grün", "Green", "Verde", "Verde", "Zielony", "Verde",
                ],
            ),
            v(
                "blue",
                &[],
                [
                    "Blå",
                    "Blau",
                    "Blue",
                    "Azul",
                    "Blu",
                    "Niebieski",
                    "Azul",
                ],
            ),
            v(
                "purple",
                &[],
                [
                    "Lilla",
                    "Lila",
                    "Purple",
                    "Morado",
                    "Viola",
                    "Fioletowy",
                    "Roxo",
                ],
            ),
            v(
                "pink",
                &[],
                [
                    "Lyserød", "Rosa", "Pink", "Rosa", "Rosa", "Różowy", "Rosa",
                ],
            ),
            v(
                "brown",
                &[],
                [
                    "Brun",
                    "Braun",
                    "Brown",
                    "Marrón",
                    "Marrone",
                    "Brązowy",
                    "Marrom",
                ],
            ),
            v(
                "black",
                &[],
                [
                    "Sort", "Schwarz", "Black", "Negro", "Nero", "Czarny", "Preto",
                ],
            ),
            v(
                "white",
                &[],
                [
                    "Hvid", "Weiß", "White", "Blanco", "Bianco", "Biały", "Branco",
                ],
            ),
            v(
                "grey",
                &[],
                [
                    "Grå", "Grau", "Grey", "Gris", "Grigio", "Szary", "Cinza",
                ],
            ),
        ],
        pattern: Some(
            "six hex digits without '#' (e.g. ff8800), matched within color_tolerance; \
             a listed name matches items tagged with that colour",
        ),
    },
    FilterDef {
        name: "color_tolerance",
        kind: FilterKind::Integer,
        title: [
            "Farvetolerance",
            "Farbtoleranz",
            "Colour tolerance",
            "Tolerancia de color",
            "Tolleranza del colore",
            "Tolerancja koloru",
            "Tolerância de cor",
        ],
        values: &[],
        pattern: Some(
            "distance in RGB space from 0 (exact) to 442 (any colour), default 64; \
             larger values count as 442",
        ),
    },
    FilterDef {
        name: "author",
        kind: FilterKind::Text,
        title: [
            "Fotograf",
            "Fotograf",
            "Contributor",
            "Autor",
            "Autore",
            "Autor",
            "Autor",
        ],
        values: &[],
        pattern: Some("a contributor's username (or a comma list); an unknown one matches nothing"),
    },
    FilterDef {
        name: "model_release",
        kind: FilterKind::Single,
        title: [
            "Modelfrigivelse",
            "Model-Release",
            "Model release",
            "Autorización de modelo",
            "Liberatoria del modello",
            "Zgoda modela",
            "Autorização de modelo",
        ],
        values: &[
            v("yes", &[], ["Ja", "Ja", "Yes", "Sí", "Sì", "Tak", "Sim"]),
            v("no", &[], ["Nej", "Nein", "No", "No", "No", "Nie", "Não"]),
        ],
        pattern: None,
    },
];

/// Default `color_tolerance` (RGB distance) when a hex colour is asked.
pub const DEFAULT_COLOR_TOLERANCE: i64 = 64;
/// The largest RGB distance (black to white); larger tolerances are capped.
pub const MAX_COLOR_TOLERANCE: i64 = 442;

/// Longest accepted `author` value (usernames are at most 32).
const MAX_AUTHOR: usize = 64;

impl Filters {
    /// Parses `name:value;name:v1,v2;` (spaces after `:`, `,` and `;`
    /// tolerated, trailing `;` optional). Names and values are the original
    /// service's (see [`FILTERS`]) or Panthera's former ids; an unknown name
    /// or value is a `400` naming what is allowed. `all` never restricts.
    pub fn parse(s: &str) -> Result<Filters, ApiError> {
        let bad = |why: String| ApiError::InvalidParam("filters".into(), why);
        let mut f = Filters {
            color_tolerance: DEFAULT_COLOR_TOLERANCE,
            ..Filters::default()
        };
        for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, values) = part
                .split_once(':')
                .ok_or_else(|| bad(format!("'{}' is not name:value", clip(part))))?;
            let name = name.trim().to_ascii_lowercase();
            let def = FILTERS.iter().find(|d| d.name == name).ok_or_else(|| {
                let names: Vec<&str> = FILTERS.iter().map(|d| d.name).collect();
                bad(format!(
                    "unknown filter '{}', expected: {}",
                    clip(&name),
                    names.join(", ")
                ))
            })?;
            let raw: Vec<String> = values
                .split(',')
                .map(|v| v.trim().to_ascii_lowercase())
                .filter(|v| !v.is_empty())
                .collect();
            match def.kind {
                FilterKind::Text => {
                    for v in values.split(',').map(str::trim).filter(|v| !v.is_empty()) {
                        if v.chars().count() > MAX_AUTHOR {
                            return Err(bad(format!("{} is too long", def.name)));
                        }
                        // usernames hold no white space: drop any
                        let v: String = v.split_whitespace().collect::<String>().to_lowercase();
                        if !f.authors.contains(&v) {
                            f.authors.push(v);
                        }
                    }
                    continue;
                }
                FilterKind::Integer => {
                    let v = values.trim();
                    let n: i64 = v.parse().map_err(|_| {
                        bad(format!(
                            "{} must be an integer, not '{}'",
                            def.name,
                            clip(v)
                        ))
                    })?;
                    f.color_tolerance = n.clamp(0, MAX_COLOR_TOLERANCE);
                    continue;
                }
                _ => {}
            }
            if def.kind == FilterKind::Single && raw.len() > 1 {
                return Err(bad(format!("{} takes one value", def.name)));
            }
            for v in &raw {
                if v == "all" {
                    continue;
                }
                let known = def
                    .values
                    .iter()
                    .find(|d| d.id == v || d.aliases.contains(&v.as_str()))
                    .map(|d| d.id);
                let unknown = || {
                    let allowed: Vec<&str> = def.values.iter().map(|d| d.id).collect();
                    let more = def.pattern.map(|p| format!(" ({p})")).unwrap_or_default();
                    bad(format!(
                        "unknown {} '{}', expected: {}{more}",
                        def.name,
                        clip(v),
                        allowed.join(", ")
                    ))
                };
                match def.name {
                    "sort" => {
                        f.sort = match known {
                            Some("date") => Sort::Newest,
                            Some("oldest") => Sort::Oldest,
                            Some("buy") => Sort::Popular,
                            Some(_) => Sort::Relevance,
                            None => return Err(unknown()),
                        }
                    }
                    "type" => push(
                        &mut f.types,
                        match known {
                            Some("photos") => "photo",
                            Some("illustrations") => "illustration",
                            Some("vectors") => "vector",
                            _ => return Err(unknown()),
                        },
                    ),
                    "orientation" => push(&mut f.orientation, known.ok_or_else(unknown)?),
                    "license" => push(&mut f.license, known.ok_or_else(unknown)?),
                    "people_number" => {
                        let p = people(v).ok_or_else(unknown)?;
                        if !f.people.contains(&p) {
                            f.people.push(p);
                        }
                    }
                    "people_gender" => push(&mut f.gender, known.ok_or_else(unknown)?),
                    "people_ethnicity" => {
                        if !(1..=4).contains(&v.len()) || !v.bytes().all(|b| b.is_ascii_lowercase())
                        {
                            return Err(unknown());
                        }
                        if !f.ethnicity.contains(v) {
                            f.ethnicity.push(v.clone());
                        }
                    }
                    "color" => {
                        let c = match known {
                            Some(id) => Color::Named(id),
                            None => Color::Rgb(parse_hex(v).ok_or_else(unknown)?),
                        };
                        if !f.color.contains(&c) {
                            f.color.push(c);
                        }
                    }
                    "model_release" => f.model_release = Some(known.ok_or_else(unknown)? == "yes"),
                    _ => return Err(unknown()),
                }
            }
        }
        Ok(f)
    }
}

fn push(list: &mut Vec<&'static str>, v: &'static str) {
    if !list.contains(&v) {
        list.push(v);
    }
}

/// `people_0`, `people_any`, `people_<n>` and the former ids `0`–`3`
/// (`3` meaning three or more).
fn people(v: &str) -> Option<People> {
    match v {
        "people_any" => return Some(People::AtLeast(1)),
        "3" => return Some(People::AtLeast(3)),
        "0" | "1" | "2" => return v.parse().ok().map(People::Exactly),
        _ => {}
    }
    let n = v.strip_prefix("people_")?;
    if n.is_empty() || n.len() > 4 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = n.parse().ok()?;
    (n <= 1000).then_some(People::Exactly(n))
}

/// Six hex digits (a leading `#` tolerated, three digits expanded) as RGB.
pub fn parse_hex(v: &str) -> Option<u32> {
    let v = v.strip_prefix('#').unwrap_or(v);
    if !v.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    match v.len() {
        6 => u32::from_str_radix(v, 16).ok(),
        3 => {
            let doubled: String = v.chars().flat_map(|c| [c, c]).collect();
            u32::from_str_radix(&doubled, 16).ok()
        }
        _ => None,
    }
}

/// RGB as six lower-case hex digits.
pub fn hex(rgb: u32) -> String {
    format!("{:06x}", rgb & 0xff_ff_ff)
}

fn clip(s: &str) -> String {
    s.chars().take(40).collect()
}

/// The item attributes `extra_info` can add to each `<media>` of a search:
/// the union of the original service's v1.0 and v1.2 lists, then Panthera's
/// own (`color`, `people_gender`, `people_ethnicity`).
pub const EXTRA_INFO: &[&str] = &[
    "preview",
    "preview_high",
    "width",
    "height",
    "copyright",
    "date",
    "keywords",
    "title",
    "description",
    "editorial",
    "extended",
    "packet",
    "subscription",
    "premium",
    "rights_managed",
    "spx",
    "mimetype",
    "model_id",
    "model_release",
    "property_release",
    "author_username",
    "author_realname",
    "adult_content",
    "datasets_ai_content",
    "type",
    "license",
    "contributor",
    "price",
    "people_number",
    "isolated",
    "collection",
    "orientation",
    "color",
    "people_gender",
    "people_ethnicity",
];

/// The attribute an `extra_info` name becomes in search results: the
/// original's clients read `author-username` and `author-realname`; every
/// other name keeps its underscores.
pub fn extra_attribute(name: &'static str) -> &'static str {
    match name {
        "author_username" => "author-username",
        "author_realname" => "author-realname",
        other => other,
    }
}

/// Parses `extra_info`: a comma list of [`EXTRA_INFO`] names (the
/// hyphenated attribute names are accepted too).
pub fn parse_extra_info(value: Option<&str>) -> Result<Vec<&'static str>, ApiError> {
    let normalised = value.map(|v| {
        v.split(',')
            .map(|item| match item.trim() {
                "author-username" => "author_username",
                "author-realname" => "author_realname",
                other => other,
            })
            .collect::<Vec<_>>()
            .join(",")
    });
    parse_list("extra_info", normalised.as_deref(), EXTRA_INFO)
}

/// Parses a comma list of `allowed` names (spaces tolerated, duplicates dropped).
pub fn parse_list(
    param: &str,
    value: Option<&str>,
    allowed: &'static [&'static str],
) -> Result<Vec<&'static str>, ApiError> {
    let mut out = Vec::new();
    for item in value
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        let known = allowed.iter().find(|a| **a == item).ok_or_else(|| {
            ApiError::InvalidParam(
                param.into(),
                format!("unknown '{}', expected: {}", clip(item), allowed.join(", ")),
            )
        })?;
        if !out.contains(known) {
            out.push(*known);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(t: &str) -> Word {
        Word {
            text: t.into(),
            prefix: false,
        }
    }

    #[test]
    fn minus_excludes_the_word_and_all_after() {
        let q = Query::parse("Red  fox -snow winter 42 -7");
        assert_eq!(q.words, vec![w("red"), w("fox")]);
        assert_eq!(q.excluded, vec![w("snow"), w("winter")]);
        assert_eq!(q.excluded_ids, vec![42, 7]);
        assert!(q.ids.is_empty());
    }

    #[test]
    fn numeric_words_are_ids_and_syntax_is_dropped() {
        let q = Query::parse("123 \"fox\" OR* (x) sun*");
        assert_eq!(q.ids, vec![123]);
        assert_eq!(q.words[0], w("fox"));
        assert_eq!(
            fts_all(&q.words),
            "\"fox\" AND \"or\"* AND \"x\" AND \"sun\"*"
        );
        assert!(Query::parse("  - -- ").is_empty());
    }

    #[test]
    fn filters_parse_with_spaces_and_lists() {
        let f =
            Filters::parse(" orientation : landscape, square ; color:red;sort:newest; ").unwrap();
        assert_eq!(f.orientation, vec!["horizontal", "square"]);
        assert_eq!(f.color, vec![Color::Named("red")]);
        assert_eq!(f.sort, Sort::Newest);
        assert!(Filters::parse("nope:1").is_err());
        assert!(Filters::parse("color:plaid").is_err());
        assert!(Filters::parse("sort:newest,oldest").is_err());
        assert!(Filters::parse("orientation").is_err());
        let empty = Filters::parse("").unwrap();
        assert_eq!(empty.sort, Sort::Relevance);
        assert!(empty.orientation.is_empty() && empty.authors.is_empty());
    }

    #[test]
    fn the_original_vocabulary() {
        let f = Filters::parse("sort: rel;type: photos;people_number:all;orientation:vertical")
            .unwrap();
        assert_eq!(f.sort, Sort::Relevance);
        assert_eq!(f.types, vec!["photo"]);
        assert!(f.people.is_empty(), "all does not restrict");
        assert_eq!(f.orientation, vec!["vertical"]);
        let f = Filters::parse("sort:date;type:photos;author:Anna.Berg").unwrap();
        assert_eq!(f.sort, Sort::Newest);
        assert_eq!(f.authors, vec!["anna.berg".to_string()]);
        let f = Filters::parse(
            "sort:buy;license:editorial;people_number:people_0,people_any,people_12;\
             people_gender:f;people_ethnicity:a,xd;color:FF8800;color_tolerance: 30",
        )
        .unwrap();
        assert_eq!(f.sort, Sort::Popular);
        assert_eq!(f.license, vec!["editorial"]);
        assert_eq!(
            f.people,
            vec![People::Exactly(0), People::AtLeast(1), People::Exactly(12)]
        );
        assert_eq!(f.gender, vec!["f"]);
        assert_eq!(f.ethnicity, vec!["a".to_string(), "xd".to_string()]);
        assert_eq!(f.color, vec![Color::Rgb(0xff8800)]);
        assert_eq!(f.color_tolerance, 30);
        assert_eq!(
            Filters::parse("people_number:3").unwrap().people,
            vec![People::AtLeast(3)]
        );
        assert_eq!(
            Filters::parse("color_tolerance:9999")
                .unwrap()
                .color_tolerance,
            MAX_COLOR_TOLERANCE
        );
        for bad in [
            "type:movies",
            "people_number:people_x",
            "people_gender:x",
            "color:ff88",
            "color_tolerance:wide",
            "sort:rel,date",
            "people_ethnicity:toolong",
        ] {
            assert!(Filters::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_listed_value_and_alias_parses() {
        for def in FILTERS {
            for value in def.values {
                for id in std::iter::once(&value.id).chain(value.aliases) {
                    let s = format!("{}:{id};", def.name);
                    assert!(Filters::parse(&s).is_ok(), "{s}");
                }
                for lang in LANGS {
                    assert!(!text(&value.name, lang).is_empty());
                }
            }
        }
    }

    proptest::proptest! {
        /// Any input parses or is refused with a 400, never a panic; what
        /// parses parses the same with spaces added after `:`, `,` and `;`.
        #[test]
        fn filters_never_panic_and_ignore_spaces(s in "(author:|color:|sort:|people_number:)?[a-z_:;, 0-9#A-F.]{0,60}") {
            let spaced = s.replace(':', ": ").replace(';', "; ").replace(',', ", ");
            match Filters::parse(&s) {
                Ok(f) => proptest::prop_assert_eq!(Filters::parse(&spaced).ok(), Some(f)),
                Err(e) => proptest::prop_assert!(matches!(e, ApiError::InvalidParam(..))),
            }
        }

        /// Canonical filter strings built from the vocabulary always parse.
        #[test]
        fn vocabulary_strings_parse(
            picks in proptest::collection::vec((0usize..64, 0usize..64), 0..8),
            trailing in proptest::bool::ANY,
        ) {
            let mut parts = Vec::new();
            for (d, v) in picks {
                let def = &FILTERS[d % FILTERS.len()];
                let value = match def.kind {
                    FilterKind::Text => "anna.berg".to_string(),
                    FilterKind::Integer => (v * 7).to_string(),
                    _ if def.values.is_empty() => continue,
                    _ => def.values[v % def.values.len()].id.to_string(),
                };
                parts.push(format!("{}: {value}", def.name));
            }
            let mut s = parts.join(";");
            if trailing {
                s.push(';');
            }
            proptest::prop_assert!(Filters::parse(&s).is_ok(), "{}", s);
        }
    }

    #[test]
    fn extra_info_lists() {
        let v = parse_list("extra_info", Some("width, height,width"), EXTRA_INFO).unwrap();
        assert_eq!(v, vec!["width", "height"]);
        assert!(parse_list("extra_info", Some("colour"), EXTRA_INFO).is_err());
        let v = parse_extra_info(Some("author-username,author_realname,extended")).unwrap();
        assert_eq!(v, vec!["author_username", "author_realname", "extended"]);
        assert_eq!(extra_attribute("author_username"), "author-username");
        assert_eq!(extra_attribute("model_release"), "model_release");
    }
}
