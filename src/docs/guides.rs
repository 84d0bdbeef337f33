//! The guides: Markdown under `docs/guides/`, compiled into the binary and
//! rendered to HTML, so the repository and the server show the same text.

use pulldown_cmark::{html, Options, Parser};

/// A guide: its URL stem, its title for the index, and its Markdown.
pub struct Guide {
    pub stem: &'static str,
    pub title: &'static str,
    pub markdown: &'static str,
}

/// Every guide, in reading order.
pub const GUIDES: &[Guide] = &[
    Guide {
        stem: "getting-started",
        title: "Get started: the first signed call in five minutes",
        markdown: include_str!("../../docs/guides/getting-started.md"),
    },
    Guide {
        stem: "request-format",
        title: "Requests and answers",
        markdown: include_str!("../../docs/guides/request-format.md"),
    },
    Guide {
        stem: "xml-json",
        title: "XML ⇄ JSON rules",
        markdown: include_str!("../../docs/guides/xml-json.md"),
    },
    Guide {
        stem: "app-authentication",
        title: "App authentication",
        markdown: include_str!("../../docs/guides/app-authentication.md"),
    },
    Guide {
        stem: "user-authorization",
        title: "User authorization flow",
        markdown: include_str!("../../docs/guides/user-authorization.md"),
    },
    Guide {
        stem: "oauth",
        title: "OAuth 1.0",
        markdown: include_str!("../../docs/guides/oauth.md"),
    },
    Guide {
        stem: "search",
        title: "Search, filters and the upload inbox",
        markdown: include_str!("../../docs/guides/search.md"),
    },
    Guide {
        stem: "errors",
        title: "Error codes",
        markdown: include_str!("../../docs/guides/errors.md"),
    },
    Guide {
        stem: "rate-limits",
        title: "Rate limits",
        markdown: include_str!("../../docs/guides/rate-limits.md"),
    },
    Guide {
        stem: "users-api",
        title: "The users REST API (/v1/users) and the SDKs",
        markdown: include_str!("../../docs/guides/users-api.md"),
    },
    Guide {
        stem: "legacy-clients",
        title: "Clients of the original service: downloads, test mode, echo",
        markdown: include_str!("../../docs/guides/legacy-clients.md"),
    },
    Guide {
        stem: "versions",
        title: "Versions",
        markdown: include_str!("../../docs/guides/versions.md"),
    },
    Guide {
        stem: "changelog",
        title: "API changelog, per version",
        markdown: include_str!("../../docs/guides/changelog.md"),
    },
];

/// The guide with that stem.
pub fn find(stem: &str) -> Option<&'static Guide> {
    GUIDES.iter().find(|g| g.stem == stem)
}

/// Markdown to HTML. Raw HTML in the Markdown is escaped, not passed through.
pub fn render(markdown: &str) -> String {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    let parser = Parser::new_ext(markdown, options).map(|event| match event {
        pulldown_cmark::Event::Html(s) | pulldown_cmark::Event::InlineHtml(s) => {
            pulldown_cmark::Event::Text(s)
        }
        other => other,
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, parser);
    // Links between guides are written as bare stems.
    for g in GUIDES {
        out = out.replace(
            &format!("href=\"{}\"", g.stem),
            &format!("href=\"/guide/{}\"", g.stem),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_guide_renders_with_a_title_and_no_raw_html() {
        for g in GUIDES {
            assert!(
                g.markdown.starts_with("# "),
                "{} starts with a title",
                g.stem
            );
            let html = render(g.markdown);
            assert!(html.contains("<h1>"), "{}", g.stem);
            assert!(!html.contains("<script"), "{}", g.stem);
        }
        assert!(render("<script>x</script>").contains("&lt;script&gt;"));
    }

    #[test]
    fn links_between_guides_point_at_the_served_urls() {
        let html = render("[errors](errors)");
        assert!(html.contains("href=\"/guide/errors\""), "{html}");
    }
}
