//! The one layout of every docs page, as a maud template (text is escaped
//! unless marked otherwise): a sidebar with the guides and the methods of the
//! version grouped by area, a search box (client-side, `search.js` over
//! `search-index.json`, no outside service), and the page's content.

use maud::{html, Markup, PreEscaped, DOCTYPE};
use serde_json::{json, Value};

use super::guides::GUIDES;
use crate::methods::{self, Area, Method};
use crate::protocol::version::Version;

/// The methods served in `version`, grouped by area in the list's order.
fn by_area(version: Version) -> Vec<(Area, Vec<&'static Method>)> {
    let mut ms: Vec<&Method> = methods::all()
        .iter()
        .filter(|m| m.serves(version))
        .collect();
    ms.sort_by_key(|m| (m.area, m.name));
    let mut groups: Vec<(Area, Vec<&Method>)> = Vec::new();
    for m in ms {
        match groups.last_mut() {
            Some((a, list)) if *a == m.area => list.push(m),
            _ => groups.push((m.area, vec![m])),
        }
    }
    groups
}

fn sidebar(version: Version, current: &str) -> Markup {
    html! {
        aside #sidebar .sidebar {
            nav aria-label="Documentation" {
                p .brand { a href={ "/v" (version) "/" } { "Panthera API v" (version) } }
                div #search .search hidden data-index={ "/v" (version) "/assets/search-index.json" } {
                    label for="search-q" { "Search the docs" }
                    input #search-q type="search" autocomplete="off" placeholder="method, parameter, guide…"
                        aria-controls="search-results";
                    p #search-status .search-status aria-live="polite" {}
                    ul #search-results {}
                }
                h2 { "Guides" }
                ul {
                    @for g in GUIDES {
                        li { a href={ "/guide/" (g.stem) } aria-current=[(current == g.stem).then_some("page")] { (g.title) } }
                    }
                    li { a href="/openapi.json" { "OpenAPI 3.1" } }
                    li { a href={ "/v" (version) "/postman.json" } { "Postman collection" } }
                }
                @for (area, list) in by_area(version) {
                    h2 { (area.title()) }
                    ul {
                        @for m in list {
                            li { a href={ "/v" (version) "/" (m.name) } aria-current=[(current == m.name).then_some("page")] { code { (m.name) } } }
                        }
                    }
                }
            }
        }
    }
}

/// A whole page: `body` is the page's own HTML (made by `html.rs`, which
/// escapes what it inserts); `current` names the method or guide shown.
pub fn page(version: Version, title: &str, current: &str, body: &str, style: &str) -> String {
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Panthera API" }
                link rel="icon" href="/favicon.ico";
                style { (PreEscaped(style)) }
            }
            body {
                a .skip href="#content" { "Skip to the content" }
                div .layout {
                    div #content .content { (PreEscaped(body)) }
                    (sidebar(version, current))
                }
                script src="/assets/search.js" defer {}
            }
        }
    };
    let mut out = markup.into_string();
    out.push('\n');
    out
}

/// The search index of `version`: every method (name, summary, parameters)
/// and every guide (title and headings), small enough to load at once.
pub fn search_index(version: Version) -> Value {
    let mut entries = Vec::new();
    for (area, list) in by_area(version) {
        for m in list {
            let params: Vec<&str> = m.params.iter().map(|p| p.name).collect();
            entries.push(json!({
                "t": m.name,
                "u": format!("/v{version}/{}", m.name),
                "s": m.summary.replace('`', ""),
                "k": format!("{} {}", area.title(), params.join(" ")),
            }));
        }
    }
    for g in GUIDES {
        let headings: Vec<&str> = g
            .markdown
            .lines()
            .filter(|l| l.starts_with("## ") || l.starts_with("### "))
            .map(|l| l.trim_start_matches('#').trim())
            .collect();
        entries.push(json!({
            "t": g.title,
            "u": format!("/guide/{}", g.stem),
            "s": "Guide",
            "k": headings.join(" · "),
        }));
    }
    Value::Array(entries)
}
