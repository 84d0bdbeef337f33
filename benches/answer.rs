//! Encoding a search-like answer (40 media items with 10 attributes and a
//! title each) as XML and as JSON (docs/performance.md).
//!
//!     cargo bench --bench answer
//!
//! Under `cargo test --all-targets` each benchmark runs once, as a smoke test.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use panthera::answer::json;
use panthera::answer::tree::{Answer, Node};
use panthera::answer::xml;

/// A page of search results as a media method would build it.
fn search_answer() -> Answer {
    let items = (0..40).map(|i| {
        Node::new("media")
            .attr("id", 1_000_000 + i)
            .attr("width", 5616)
            .attr("height", 3744)
            .attr("format", "jpg")
            .attr("type", if i % 3 == 0 { "vector" } else { "photo" })
            .attr("author", format!("Photographer & Sons {i}"))
            .attr("date", "2012-07-26")
            .attr("licence", "royalty-free")
            .attr(
                "thumb",
                format!("https://cdn.example.com/thumb/{i}.jpg?s=170"),
            )
            .attr(
                "preview",
                format!("https://cdn.example.com/preview/{i}.jpg?s=450&w=1"),
            )
            .child(Node::leaf(
                "title",
                format!("Red fox <Vulpes vulpes> in the snow, \"winter\" #{i}"),
            ))
    });
    Answer::one(
        Node::new("items")
            .attr("total", 12_345)
            .attr("page", 2)
            .attr("limit", 40)
            .children(items),
    )
}

fn encode(c: &mut Criterion) {
    let answer = search_answer();
    let mut g = c.benchmark_group("encode_40_items");
    g.bench_function("xml", |b| b.iter(|| xml::encode_ok(black_box(&answer))));
    g.bench_function("json", |b| b.iter(|| json::encode_ok(black_box(&answer))));
    g.finish();
}

criterion_group!(benches, encode);
criterion_main!(benches);
