//! The media catalogue (methods.md §D): search, search-similar,
//! get-search-filter, get-media-info, download-image-preview and poll.

use base64::Engine;

use super::service::CONTENT_LANGS;
use super::{Area, Ctx, ErrorDoc, Field, FieldType, Kind, Method, Param, UserAuth};
use crate::answer::tree::{Answer, Node};
use crate::error::ApiError;
use crate::media::image::{self, Rendition};
use crate::media::query::{self, Filters, Query, EXTRA_INFO, FILTERS};
use crate::media::rendition_url;
use crate::protocol::timestamp::Timestamp;
use crate::protocol::version::Version;
use crate::store::media::{self as store, Media, PollType, Search};
use crate::store::orders::Article;
use crate::store::{balances, orders};

const V1_1: Version = Version::new(1, 1);
const V1_2: Version = Version::new(1, 2);

/// The user a method acts for: the token's user, or for methods with
/// optional user auth called without a token, the owner of the api key (see
/// [`Ctx::account`], set by the user-auth step).
pub fn acting_user(ctx: &Ctx<'_>) -> Result<String, ApiError> {
    ctx.account
        .map(|a| a.user.id.clone())
        .ok_or_else(|| crate::protocol::user_auth::TokenRefusal::NoOwner.into())
}

/// Content language ids: the ids of [`CONTENT_LANGS`], which
/// `get-user-content-langs` lists.
pub const LANG_IDS: [&str; CONTENT_LANGS.len()] = {
    let mut ids = [""; CONTENT_LANGS.len()];
    let mut i = 0;
    while i < ids.len() {
        ids[i] = CONTENT_LANGS[i].0;
        i += 1;
    }
    ids
};

pub const LANG: Param = Param::new(
    "lang",
    "Content language; the catalogue's texts are English, other languages fall back to it.",
)
.kind(Kind::Choice)
.values(&LANG_IDS)
.default("en");
const Q: Param = Param::new(
    "q",
    "Search words, all must match (`sun*` matches prefixes). `-word` excludes that word and \
     every word after it. A number matches the media id.",
);
const LIMIT: Param = Param::new("limit", "Items per page.")
    .kind(Kind::Integer { min: 1, max: 100 })
    .default("40");
const PAGE_FROM_0: Param = Param::new("page", "Page number, the first page is 0.")
    .kind(Kind::Integer {
        min: 0,
        max: 10_000,
    })
    .default("0");
const PAGE_FROM_1: Param = Param::new("page", "Page number, the first page is 1.")
    .kind(Kind::Integer {
        min: 1,
        max: 10_001,
    })
    .default("1");
pub const EXTRA: Param = Param::new(
    "extra_info",
    "Comma list of attributes to add to each `<media>`: every name of the original service's \
     v1.0 and v1.2 lists. `author_username` and `author_realname` come back as the attributes \
     `author-username` and `author-realname`; values without data answer a documented neutral \
     value (guide \"Search\").",
)
.kind(Kind::List)
.values(EXTRA_INFO);
const FILTERS_PARAM: Param = Param::new(
    "filters",
    "`name:value;name:v1,v2;` (spaces after `:`, `,` and `;` tolerated, trailing `;` \
     optional), e.g. `sort:rel;type:photos;orientation:vertical;people_number:all;author:anna.berg`. \
     Names and values as `get-search-filter` lists them.",
);
const FILTER_PARAM: Param = Param::new(
    "filter",
    "Another name of `filters` (one client of the original sends it to version 1.2); both may \
     be given.",
);
const ID_MEDIA: Param = Param::new("id_media", "The media id.").required();

const SEARCH_ERRORS: &[ErrorDoc] = &[ErrorDoc {
    code: 400,
    meaning: "an unknown filter, filter value or extra_info name",
}];
const NOT_FOUND: &[ErrorDoc] = &[ErrorDoc {
    code: 404,
    meaning: "media not found (unknown, not public or deleted)",
}];

const INFO_PARAMS: &[Param] = &[
    Param::new("id_media", "One media id or a comma list (at most 50).")
        .kind(Kind::List)
        .required(),
    LANG,
    Param::new(
        "show_articles",
        "Add the articles the item can be bought as.",
    )
    .kind(Kind::Choice)
    .values(&["yes", "no"])
    .default("no"),
    Param::new("show_top10_keywords", "Add `keywords_top10`.")
        .kind(Kind::Choice)
        .values(&["yes", "no"])
        .default("no"),
];

const POLL_PARAMS: &[Param] = &[
    Param::new("type", "What to list.")
        .kind(Kind::Choice)
        .values(&["new", "changed", "deleted"])
        .required(),
    Param::new(
        "last_polling",
        "A timestamp (`Thu, 26 Jul 2012 14:53:44 UTC`) or a media id.",
    )
    .required(),
    Param::new("limit", "Items per page.")
        .kind(Kind::Integer {
            min: 1,
            max: 10_000,
        })
        .default("1000"),
    Param::new("next_page_id", "The cursor of the previous page."),
];

/// An `extra_info` attribute of a search result's `<media>`.
const fn extra(name: &'static str, ty: FieldType, meaning: &'static str) -> Field {
    Field::attr(name, ty, meaning).when("`extra_info` names it")
}

/// `<media>` of `search` and `search-similar`: `id` and `thumb`, then the
/// attributes `extra_info` asks, in the order asked.
const SEARCH_MEDIA: &[Field] = &[
    Field::attr("id", FieldType::Integer, "The media id."),
    Field::attr("thumb", FieldType::Url, "Its 170-pixel thumbnail."),
    extra("preview", FieldType::Url, "The watermarked preview."),
    extra(
        "preview_high",
        FieldType::Url,
        "The larger watermarked preview.",
    ),
    extra(
        "width",
        FieldType::Integer,
        "Width of the original, in pixels.",
    ),
    extra(
        "height",
        FieldType::Integer,
        "Height of the original, in pixels.",
    ),
    extra(
        "copyright",
        FieldType::Text,
        "`© ` and the author's real name (or username).",
    ),
    extra("date", FieldType::Timestamp, "When the item was added."),
    extra(
        "keywords",
        FieldType::Text,
        "Its keywords, comma-separated.",
    ),
    extra("title", FieldType::Text, "Its title."),
    extra("description", FieldType::Text, "Its description."),
    extra("editorial", FieldType::YesNo, "For editorial use only."),
    extra(
        "extended",
        FieldType::YesNo,
        "Extended-rights articles can be bought.",
    ),
    extra("packet", FieldType::YesNo, "Sold in packets: always `no`."),
    extra(
        "subscription",
        FieldType::YesNo,
        "Sold by subscription: always `no`.",
    ),
    extra("premium", FieldType::YesNo, "In the `premium` collection."),
    extra(
        "rights_managed",
        FieldType::YesNo,
        "Rights-managed licence: always `no`.",
    ),
    extra(
        "spx",
        FieldType::YesNo,
        "A special-price offer: always `no`.",
    ),
    extra(
        "mimetype",
        FieldType::Text,
        "The original's media type, e.g. `image/jpeg`.",
    ),
    extra(
        "model_id",
        FieldType::Text,
        "Model release documents are not stored: always empty.",
    ),
    extra("model_release", FieldType::YesNo, "A model release exists."),
    extra(
        "property_release",
        FieldType::YesNo,
        "A property release exists.",
    ),
    extra(
        "author-username",
        FieldType::Text,
        "The author's username (`extra_info=author_username`).",
    ),
    extra(
        "author-realname",
        FieldType::Text,
        "The author's real name (`extra_info=author_realname`).",
    ),
    extra("adult_content", FieldType::YesNo, "Adult content."),
    extra(
        "datasets_ai_content",
        FieldType::YesNo,
        "Released for AI training data: always `no`.",
    ),
    extra(
        "type",
        FieldType::Text,
        "`photos`, `illustrations` or `vectors`.",
    ),
    extra("license", FieldType::Text, "`commercial` or `editorial`."),
    extra("contributor", FieldType::Text, "The author's username."),
    extra(
        "price",
        FieldType::Text,
        "The lowest price of a size article (empty when none fits).",
    ),
    extra(
        "people_number",
        FieldType::Integer,
        "How many people it shows.",
    ),
    extra(
        "isolated",
        FieldType::YesNo,
        "The subject is isolated (cut out).",
    ),
    extra("collection", FieldType::Text, "Its collection."),
    extra(
        "orientation",
        FieldType::Text,
        "`horizontal`, `vertical`, `square` or `panorama`.",
    ),
    extra(
        "color",
        FieldType::Text,
        "Its main colour as six hex digits (empty when unknown).",
    ),
    extra(
        "people_gender",
        FieldType::Text,
        "Genders of the people shown.",
    ),
    extra(
        "people_ethnicity",
        FieldType::Text,
        "Ethnicity codes of the people shown.",
    ),
];

const SEARCH_ANSWER: &[Field] = &[Field::group(
    "items",
    "The page of results.",
    &[
        Field::attr("total", FieldType::Integer, "How many items match in all."),
        Field::attr("items", FieldType::Integer, "How many are on this page."),
        Field::group("media", "One result, in ranking order.", SEARCH_MEDIA).repeated(),
    ],
)];

const SEARCH_FILTER_ANSWER: &[Field] = &[Field::group(
    "filters",
    "The filters of `search`.",
    &[
        Field::attr(
            "lang",
            FieldType::Text,
            "The language of the titles and names.",
        ),
        Field::group(
            "filter",
            "One filter.",
            &[
                Field::attr("name", FieldType::Text, "What `filters` calls it."),
                Field::attr(
                    "type",
                    FieldType::Text,
                    "`single`, `multi`, `string`, `hexcode` or `integer`.",
                ),
                Field::attr("title", FieldType::Text, "Its title in `lang`."),
                Field::attr(
                    "pattern",
                    FieldType::Text,
                    "The values accepted besides the listed ones.",
                )
                .when("the filter accepts unlisted values"),
                Field::group(
                    "value",
                    "One listed value.",
                    &[
                        Field::attr("id", FieldType::Text, "The value as `filters` takes it."),
                        Field::attr("name", FieldType::Text, "Its name in `lang`."),
                        Field::attr(
                            "aliases",
                            FieldType::Text,
                            "Other ids accepted, comma-separated.",
                        )
                        .when("Panthera accepted other ids before"),
                    ],
                )
                .repeated(),
            ],
        )
        .repeated(),
    ],
)];

const MEDIA_INFO_ANSWER: &[Field] = &[
    Field::group(
        "media",
        "The item's files (repeated, in the order asked, for a list of ids).",
        &[
            Field::element("id", FieldType::Integer, "The media id."),
            Field::element("thumb_150_url", FieldType::Url, "The 150-pixel thumbnail."),
            Field::element("thumb_170_url", FieldType::Url, "The 170-pixel thumbnail."),
            Field::element("preview_url", FieldType::Url, "The watermarked preview."),
            Field::element(
                "preview_url_high",
                FieldType::Url,
                "The larger watermarked preview.",
            ),
            Field::element(
                "width",
                FieldType::Integer,
                "Width of the original, in pixels.",
            ),
            Field::element(
                "height",
                FieldType::Integer,
                "Height of the original, in pixels.",
            ),
            Field::element("mime_type", FieldType::Text, "The original's media type."),
        ],
    )
    .repeated(),
    Field::group(
        "metadata",
        "The item's texts and rights (one per `media`).",
        &[
            Field::element("title", FieldType::Text, "The title."),
            Field::element("description", FieldType::Text, "The description."),
            Field::element(
                "keywords",
                FieldType::Text,
                "Keywords, comma-separated, most relevant first.",
            ),
            Field::element("keywords_top10", FieldType::Text, "The first ten keywords.")
                .when("`show_top10_keywords=yes`"),
            Field::element("author_username", FieldType::Text, "The author's username."),
            Field::element(
                "author_realname",
                FieldType::Text,
                "The author's real name.",
            ),
            Field::element(
                "copyright",
                FieldType::Text,
                "`© ` and the real name (or username).",
            ),
            Field::element("date", FieldType::Timestamp, "When the item was added."),
            Field::element("editorial", FieldType::YesNo, "For editorial use only."),
            Field::element("model_release", FieldType::YesNo, "A model release exists."),
            Field::element(
                "property_release",
                FieldType::YesNo,
                "A property release exists.",
            ),
            Field::element(
                "orientation",
                FieldType::Text,
                "`landscape`, `portrait` or `square`.",
            ),
        ],
    )
    .repeated(),
    Field::group(
        "options",
        "The item's search facets (one per `media`).",
        &[
            Field::element(
                "orientation",
                FieldType::Text,
                "`landscape`, `portrait` or `square`.",
            ),
            Field::element("color", FieldType::Text, "Its main colour's name."),
            Field::element(
                "people_number",
                FieldType::Integer,
                "How many people it shows.",
            ),
            Field::element("license", FieldType::Text, "`commercial` or `editorial`."),
        ],
    )
    .repeated(),
    Field::group(
        "articles",
        "What the item can be bought as (one per `media`).",
        &[Field::group(
            "singlebuy_list",
            "The single-purchase offers.",
            &[
                Field::attr("total", FieldType::Integer, "Always 1."),
                Field::group(
                    "singlebuy",
                    "The offer for the acting user.",
                    &[
                        Field::attr("currency", FieldType::Text, "The deposit's currency."),
                        Field::attr(
                            "deposit-remaining",
                            FieldType::Integer,
                            "The acting user's credits (0 without one).",
                        ),
                        Field::group(
                            "sizes",
                            "The size articles that fit the original.",
                            &[
                                Field::attr("total", FieldType::Integer, "How many."),
                                Field::group("article", "One size.", ARTICLE_SIZE).repeated(),
                            ],
                        ),
                        Field::group(
                            "extended_rights",
                            "The extended-rights articles.",
                            &[
                                Field::attr("total", FieldType::Integer, "How many."),
                                Field::group("article", "One extended right.", ARTICLE_RIGHT)
                                    .repeated(),
                            ],
                        ),
                    ],
                ),
            ],
        )],
    )
    .repeated()
    .when("`show_articles=yes`"),
];

const ARTICLE_SIZE: &[Field] = &[
    Field::attr(
        "id",
        FieldType::Integer,
        "The article id (`id_article` of `download-media`).",
    ),
    Field::attr("name", FieldType::Text, "Its name, e.g. `XS`."),
    Field::attr("description", FieldType::Text, "Its description."),
    Field::attr(
        "width",
        FieldType::Integer,
        "Width of the file it delivers.",
    ),
    Field::attr(
        "height",
        FieldType::Integer,
        "Height of the file it delivers.",
    ),
    Field::attr("mimetype", FieldType::Text, "The file's media type."),
    Field::attr("price", FieldType::Integer, "Its price."),
    Field::attr("currency", FieldType::Text, "The price's currency."),
];

const ARTICLE_RIGHT: &[Field] = &[
    Field::attr(
        "id",
        FieldType::Integer,
        "The article id (after a size in `id_article`).",
    ),
    Field::attr("name", FieldType::Text, "Its name, e.g. `print`."),
    Field::attr("description", FieldType::Text, "What it allows."),
    Field::attr("price", FieldType::Integer, "Its price."),
    Field::attr("currency", FieldType::Text, "The price's currency."),
];

/// `<media><base64/><mimetype/></media>`: a file in a structured answer.
pub const FILE_MEDIA: Field = Field::group(
    "media",
    "The file (without `content_type=application/octet-stream`, which answers the bytes).",
    &[
        Field::element("base64", FieldType::Base64, "The JPEG."),
        Field::element("mimetype", FieldType::Text, "`image/jpeg`."),
    ],
);

const POLL_ANSWER: &[Field] = &[Field::group(
    "items",
    "The page of items.",
    &[
        Field::attr(
            "type",
            FieldType::Text,
            "`new`, `changed` or `deleted`, as asked.",
        ),
        Field::attr(
            "total",
            FieldType::Integer,
            "How many items are new, changed or deleted since `last_polling`, all pages together.",
        ),
        Field::attr("items", FieldType::Integer, "How many are on this page."),
        Field::attr(
            "next_page_id",
            FieldType::Text,
            "The cursor of the next page (the one given when the page is empty; empty at first).",
        ),
        Field::group(
            "media",
            "One item.",
            &[
                Field::attr("id", FieldType::Integer, "The media id."),
                Field::attr(
                    "date",
                    FieldType::Timestamp,
                    "When it was added, changed or deleted.",
                ),
                Field::attr(
                    "next_page_id",
                    FieldType::Text,
                    "The cursor just after this item.",
                ),
            ],
        )
        .repeated(),
    ],
)];

/// A declaration of `search`: the versions differ in texts, page numbering
/// and sample.
const fn search_method(
    summary: &'static str,
    description: &'static str,
    params: &'static [Param],
    sample: &'static [(&'static str, &'static str)],
) -> Method {
    Method::new("search", Area::Media, summary, description, search)
        .params(params)
        .user(UserAuth::Optional)
        .errors(SEARCH_ERRORS)
        .sample(sample)
        .answer(SEARCH_ANSWER)
}

pub fn methods() -> Vec<Method> {
    vec![
        search_method(
            "Searches the catalogue by words and filters (pages from 0).",
            "Ranked by relevance (title before keywords before description) unless \
                `filters` asks another `sort`. In version 1.2 pages count from 1.",
            &[
                Q,
                LANG,
                PAGE_FROM_0,
                LIMIT,
                EXTRA,
                FILTERS_PARAM,
                FILTER_PARAM,
            ],
            &[
                ("q", "fox"),
                ("page", "0"),
                ("limit", "2"),
                ("extra_info", "title,width,height,author_username"),
                ("filters", "sort: rel;type: photos;"),
            ],
        )
        .until(V1_2),
        search_method(
            "Searches the catalogue by words and filters (pages from 1).",
            "Ranked by relevance (title before keywords before description) unless \
                `filters` asks another `sort`. Before version 1.2 pages counted from 0.",
            &[
                Q,
                LANG,
                PAGE_FROM_1,
                LIMIT,
                EXTRA,
                FILTERS_PARAM,
                FILTER_PARAM,
            ],
            &[
                ("q", "animal -cat"),
                ("page", "1"),
                ("limit", "2"),
                ("filters", "orientation:horizontal;people_number:all;"),
            ],
        )
        .since(V1_2),
        Method::new(
            "search-similar",
            Area::Media,
            "Finds items similar to one item (sharing its top keywords).",
            "Answers like `search`; the item itself is never among the results.",
            search_similar,
        )
        .params(&[
            ID_MEDIA,
            LANG,
            PAGE_FROM_0,
            LIMIT,
            EXTRA,
            FILTERS_PARAM,
            FILTER_PARAM,
        ])
        .errors(NOT_FOUND)
        .sample(&[("id_media", "1"), ("limit", "3")])
        .answer(SEARCH_ANSWER),
        Method::new(
            "get-search-filter",
            Area::Media,
            "Lists the filters `search` understands, with their values.",
            "Every `<filter>` has its `name`, a `title` in `lang`, and a `type`: \
                `single` (one listed value), `multi` (a comma list of listed values), `string`, \
                `hexcode` (six hex digits without `#`) or `integer`; `pattern` describes values \
                accepted besides the listed ones. Each `<value>` has its `id`, its `name` in \
                `lang` and, where Panthera accepted other ids before, their `aliases`.",
            search_filter,
        )
        .params(&[LANG])
        .sample(&[("lang", "de")])
        .answer(SEARCH_FILTER_ANSWER),
        Method::new(
            "get-media-info",
            Area::Media,
            "Describes items: URLs, size, metadata and, on request, the articles.",
            "For a comma list of ids the groups `media`, `metadata`, `options` \
                (and `articles`) repeat in the order asked; in JSON each becomes an array whose \
                n-th entries belong together. `deposit-remaining` is the acting user's.",
            media_info,
        )
        .params(INFO_PARAMS)
        .user(UserAuth::Optional)
        .errors(NOT_FOUND)
        .sample(&[
            ("id_media", "1"),
            ("show_articles", "yes"),
            ("show_top10_keywords", "yes"),
        ])
        .answer(MEDIA_INFO_ANSWER),
        Method::new(
            "download-image-preview",
            Area::Media,
            "Returns an item's watermarked preview image.",
            "With `content_type=application/octet-stream` the answer is the JPEG \
                itself (errors then come in the next listed type); otherwise \
                `<media><base64/><mimetype/></media>`.",
            preview,
        )
        .params(&[ID_MEDIA])
        .errors(NOT_FOUND)
        .sample(&[("id_media", "2")])
        .answer(&[FILE_MEDIA]),
        Method::new(
            "poll",
            Area::Media,
            "Lists items that are new, changed or deleted since a point in time.",
            "Page with `next_page_id`: an opaque cursor that stays correct while \
                items change (an item changed during paging comes again later, never goes \
                missing). `last_polling` is a timestamp or a media id (= when it was created).",
            poll,
        )
        .since(V1_1)
        .params(POLL_PARAMS)
        .errors(&[
            ErrorDoc {
                code: 400,
                meaning: "a malformed last_polling or a next_page_id of another poll",
            },
            ErrorDoc {
                code: 404,
                meaning: "last_polling names an unknown media id",
            },
        ])
        .sample(&[
            ("type", "new"),
            ("last_polling", "Thu, 01 Jan 2015 00:00:00 UTC"),
            ("limit", "3"),
        ])
        .answer(POLL_ANSWER),
    ]
}

fn base(ctx: &Ctx<'_>) -> String {
    ctx.state.public_url()
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn date(unix: i64) -> String {
    Timestamp::from_unix(unix).format()
}

/// `(offset, limit)` of the page asked, counting pages as the version does.
fn window(ctx: &Ctx<'_>) -> (i64, i64) {
    let limit = ctx.args.int("limit").unwrap_or(40);
    let page = ctx.args.int("page").unwrap_or(0);
    let first = if ctx.method.since >= V1_2 { 1 } else { 0 };
    ((page - first).max(0) * limit, limit)
}

/// What search results may need beyond the items: the articles (for
/// `price` and `extended`), loaded only when asked.
pub struct ResultContext {
    pub base: String,
    pub articles: Vec<Article>,
}

/// The lowest price an item is sold at (its smallest size article).
fn lowest_price(m: &Media, articles: &[Article]) -> String {
    articles
        .iter()
        .filter(|a| a.is_size() && a.dimensions(m.width, m.height).is_some())
        .map(|a| a.price)
        .min()
        .map(|p| p.to_string())
        .unwrap_or_default()
}

/// One `<media id thumb …/>` of a search, with the `extra_info` attributes.
/// Values the catalogue has no data for answer the neutral values the
/// Search guide documents.
pub fn search_item(m: &Media, extra: &[&'static str], cx: &ResultContext) -> Node {
    let base = cx.base.as_str();
    let mut n = Node::new("media")
        .attr("id", m.id)
        .attr("thumb", rendition_url(base, m.id, Rendition::Thumb170));
    for e in extra {
        let v = match *e {
            "preview" => rendition_url(base, m.id, Rendition::Preview),
            "preview_high" => rendition_url(base, m.id, Rendition::PreviewHigh),
            "width" => m.width.to_string(),
            "height" => m.height.to_string(),
            "copyright" => format!("© {}", realname_or_username(m)),
            "date" => date(m.created_at),
            "keywords" => m.keywords.clone(),
            "title" => m.title.clone(),
            "description" => m.description.clone(),
            "editorial" => yes_no(m.editorial).into(),
            "extended" => yes_no(cx.articles.iter().any(|a| !a.is_size())).into(),
            // Panthera sells single licences only: no packets, subscriptions,
            // rights-managed licences or special-price offers
            "packet" | "subscription" | "rights_managed" | "spx" => "no".into(),
            "premium" => yes_no(m.collection == "premium").into(),
            "mimetype" => m.mime_type.clone(),
            // model release documents are not stored, only whether one exists
            "model_id" => String::new(),
            "model_release" => yes_no(m.model_release).into(),
            "property_release" => yes_no(m.property_release).into(),
            "author_username" => m.author_username.clone(),
            "author_realname" => m.author_realname.clone(),
            "adult_content" => yes_no(m.adult_content).into(),
            // no item is released for AI training data sets
            "datasets_ai_content" => "no".into(),
            "type" => format!("{}s", m.media_type),
            "license" => if m.editorial {
                "editorial"
            } else {
                "commercial"
            }
            .into(),
            "contributor" => m.author_username.clone(),
            "price" => lowest_price(m, &cx.articles),
            "people_number" => m.people_number.to_string(),
            "isolated" => yes_no(m.isolated).into(),
            "collection" => m.collection.clone(),
            "orientation" => m.orientation_canonical().into(),
            "color" => m
                .color_rgb
                .map(|c| query::hex(c as u32))
                .unwrap_or_default(),
            "people_gender" => m.people_gender.clone(),
            "people_ethnicity" => m.people_ethnicity.clone(),
            _ => continue,
        };
        n = n.attr(query::extra_attribute(e), v);
    }
    n
}

fn realname_or_username(m: &Media) -> &str {
    if m.author_realname.is_empty() {
        &m.author_username
    } else {
        &m.author_realname
    }
}

fn items_node(total: i64, items: &[Media], extra: &[&'static str], cx: &ResultContext) -> Node {
    Node::new("items")
        .attr("total", total)
        .attr("items", items.len())
        .children(items.iter().map(|m| search_item(m, extra, cx)))
}

/// The context the `extra` attributes need.
fn result_context(ctx: &Ctx<'_>, extra: &[&'static str]) -> Result<ResultContext, ApiError> {
    let articles = if extra.iter().any(|e| *e == "price" || *e == "extended") {
        ctx.state.store.orders().articles()?
    } else {
        Vec::new()
    };
    Ok(ResultContext {
        base: base(ctx),
        articles,
    })
}

/// `filters` and its other name `filter`, parsed together.
fn filters(ctx: &Ctx<'_>) -> Result<Filters, ApiError> {
    let joined = [ctx.args.get("filters"), ctx.args.get("filter")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(";");
    Filters::parse(&joined)
}

fn search(ctx: &Ctx<'_>) -> Result<Answer, ApiError> {
    let query = Query::parse(ctx.args.get("q").unwrap_or(""));
    let filters = filters(ctx)?;
    let extra = query::parse_extra_info(ctx.args.get("extra_info"))?;
    let (offset, limit) = window(ctx);
    let s = Search {
        query: &query,
        filters: &filters,
        offset,
        limit,
        exclude_id: None,
        any_word: false,
    };
    let (total, items) = ctx.state.store.media_items().search(&s)?;
    let cx = result_context(ctx, &extra)?;
    Ok(Answer::one(items_node(total, &items, &extra, &cx)))
}

fn search_similar(ctx: &Ctx<'_>) -> Result<Answer, ApiError> {
    let id = media_id(ctx.args.get("id_media"))?;
    let extra = query::parse_extra_info(ctx.args.get("extra_info"))?;
    let filters = filters(ctx)?;
    let (offset, limit) = window(ctx);
    let m = public(ctx, id)?;
    let query = Query {
        words: store::similar_words(&m),
        ..Query::default()
    };
    let s = Search {
        query: &query,
        filters: &filters,
        offset,
        limit,
        exclude_id: Some(id),
        any_word: true,
    };
    let (total, items) = if query.words.is_empty() {
        (0, Vec::new())
    } else {
        ctx.state.store.media_items().search(&s)?
    };
    let cx = result_context(ctx, &extra)?;
    Ok(Answer::one(items_node(total, &items, &extra, &cx)))
}

fn search_filter(ctx: &Ctx<'_>) -> Result<Answer, ApiError> {
    let lang = ctx.args.get("lang").unwrap_or("en");
    let filters = FILTERS.iter().map(|f| {
        let mut n = Node::new("filter")
            .attr("name", f.name)
            .attr("type", f.kind.as_str())
            .attr("title", query::text(&f.title, lang));
        if let Some(p) = f.pattern {
            n = n.attr("pattern", p);
        }
        n.children(f.values.iter().map(|v| {
            let mut value = Node::new("value")
                .attr("id", v.id)
                .attr("name", query::text(&v.name, lang));
            if !v.aliases.is_empty() {
                value = value.attr("aliases", v.aliases.join(","));
            }
            value
        }))
    });
    Ok(Answer::one(
        Node::new("filters").attr("lang", lang).children(filters),
    ))
}

/// A media id parameter (positive integer), else `400`.
pub fn media_id(v: Option<&str>) -> Result<i64, ApiError> {
    crate::media::body::parse_id(v.unwrap_or(""))
        .map_err(|e| ApiError::InvalidParam("id_media".into(), e))
}

/// A public item, else `404`.
pub fn public(ctx: &Ctx<'_>, id: i64) -> Result<Media, ApiError> {
    ctx.state
        .store
        .media_items()
        .find(id)?
        .filter(Media::is_public)
        .ok_or_else(|| ApiError::NotFound(format!("media {id} not found")))
}

fn media_info(ctx: &Ctx<'_>) -> Result<Answer, ApiError> {
    let ids: Vec<i64> = ctx
        .args
        .get("id_media")
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| media_id(Some(s)))
        .collect::<Result<_, _>>()?;
    if ids.is_empty() {
        return Err(ApiError::MissingParam("id_media".into()));
    }
    if ids.len() > 50 {
        return Err(ApiError::InvalidParam(
            "id_media".into(),
            "at most 50 ids".into(),
        ));
    }
    let items = ctx.state.store.media_items().find_public(&ids)?;
    if items.is_empty() {
        return Err(ApiError::NotFound("media not found".into()));
    }
    let articles = ctx.args.get("show_articles") == Some("yes");
    let top10 = ctx.args.get("show_top10_keywords") == Some("yes");
    let (all_articles, deposit) = if articles {
        let user = acting_user(ctx).ok();
        let store = &ctx.state.store;
        let d = match &user {
            Some(u) => Some(store.balances().get(u)?),
            None => None,
        };
        (store.orders().articles()?, d)
    } else {
        (Vec::new(), None)
    };
    let base = base(ctx);
    let mut out = Vec::new();
    for m in &items {
        out.push(media_node(m, &base));
        out.push(metadata_node(m, top10));
        out.push(
            Node::new("options")
                .child(Node::leaf("orientation", m.orientation()))
                .child(Node::leaf("color", m.color.clone()))
                .child(Node::leaf("people_number", m.people_number.to_string()))
                .child(Node::leaf(
                    "license",
                    if m.editorial {
                        "editorial"
                    } else {
                        "commercial"
                    },
                )),
        );
        if articles {
            out.push(articles_node(m, &all_articles, deposit.as_ref()));
        }
    }
    Ok(Answer::new(out))
}

fn media_node(m: &Media, base: &str) -> Node {
    Node::new("media")
        .child(Node::leaf("id", m.id.to_string()))
        .child(Node::leaf(
            "thumb_150_url",
            rendition_url(base, m.id, Rendition::Thumb150),
        ))
        .child(Node::leaf(
            "thumb_170_url",
            rendition_url(base, m.id, Rendition::Thumb170),
        ))
        .child(Node::leaf(
            "preview_url",
            rendition_url(base, m.id, Rendition::Preview),
        ))
        .child(Node::leaf(
            "preview_url_high",
            rendition_url(base, m.id, Rendition::PreviewHigh),
        ))
        .child(Node::leaf("width", m.width.to_string()))
        .child(Node::leaf("height", m.height.to_string()))
        .child(Node::leaf("mime_type", m.mime_type.clone()))
}

fn metadata_node(m: &Media, top10: bool) -> Node {
    let mut n = Node::new("metadata")
        .child(Node::leaf("title", m.title.clone()))
        .child(Node::leaf("description", m.description.clone()))
        .child(Node::leaf("keywords", m.keyword_list().join(", ")));
    if top10 {
        let top: Vec<&str> = m.keyword_list().into_iter().take(10).collect();
        n = n.child(Node::leaf("keywords_top10", top.join(", ")));
    }
    n.child(Node::leaf("author_username", m.author_username.clone()))
        .child(Node::leaf("author_realname", m.author_realname.clone()))
        .child(Node::leaf(
            "copyright",
            format!("© {}", realname_or_username(m)),
        ))
        .child(Node::leaf("date", date(m.created_at)))
        .child(Node::leaf("editorial", yes_no(m.editorial)))
        .child(Node::leaf("model_release", yes_no(m.model_release)))
        .child(Node::leaf("property_release", yes_no(m.property_release)))
        .child(Node::leaf("orientation", m.orientation()))
}

fn articles_node(m: &Media, all: &[orders::Article], deposit: Option<&balances::Deposit>) -> Node {
    let currency = deposit.map_or("credits", |d| d.currency.as_str());
    let sizes: Vec<Node> = all
        .iter()
        .filter(|a| a.is_size())
        .filter_map(|a| {
            let (w, h) = a.dimensions(m.width, m.height)?;
            Some(
                Node::new("article")
                    .attr("id", a.id)
                    .attr("name", a.name.clone())
                    .attr("description", a.description.clone())
                    .attr("width", w)
                    .attr("height", h)
                    .attr("mimetype", m.mime_type.clone())
                    .attr("price", a.price)
                    .attr("currency", a.currency.clone()),
            )
        })
        .collect();
    let extended: Vec<Node> = all
        .iter()
        .filter(|a| !a.is_size())
        .map(|a| {
            Node::new("article")
                .attr("id", a.id)
                .attr("name", a.name.clone())
                .attr("description", a.description.clone())
                .attr("price", a.price)
                .attr("currency", a.currency.clone())
        })
        .collect();
    let singlebuy = Node::new("singlebuy")
        .attr("currency", currency)
        .attr("deposit-remaining", deposit.map_or(0, |d| d.credits))
        .child(
            Node::new("sizes")
                .attr("total", sizes.len())
                .children(sizes),
        )
        .child(
            Node::new("extended_rights")
                .attr("total", extended.len())
                .children(extended),
        );
    Node::new("articles").child(
        Node::new("singlebuy_list")
            .attr("total", 1)
            .child(singlebuy),
    )
}

fn preview(ctx: &Ctx<'_>) -> Result<Answer, ApiError> {
    let m = public(ctx, media_id(ctx.args.get("id_media"))?)?;
    let bytes = image::rendition(m.id, &m.color, m.width, m.height, Rendition::Preview);
    let encoded = base64::engine::general_purpose::STANDARD.encode(&bytes);
    Ok(Answer::one(
        Node::new("media")
            .child(Node::leaf("base64", encoded))
            .child(Node::leaf("mimetype", "image/jpeg")),
    )
    .with_binary("image/jpeg", bytes))
}

/// The `poll` cursor: which poll it belongs to and the last `seq` seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub kind: PollType,
    pub since: i64,
    pub seq: i64,
}

impl Cursor {
    pub fn encode(self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(
            "p1:{}:{}:{}",
            self.kind.as_str(),
            self.since,
            self.seq
        ))
    }

    pub fn decode(s: &str) -> Option<Cursor> {
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s.trim())
            .ok()?;
        let text = String::from_utf8(raw).ok()?;
        let mut p = text.split(':');
        if p.next()? != "p1" {
            return None;
        }
        let kind = poll_type(p.next()?)?;
        let since = p.next()?.parse().ok()?;
        let seq = p.next()?.parse().ok()?;
        p.next().is_none().then_some(Cursor { kind, since, seq })
    }
}

fn poll_type(s: &str) -> Option<PollType> {
    match s {
        "new" => Some(PollType::New),
        "changed" => Some(PollType::Changed),
        "deleted" => Some(PollType::Deleted),
        _ => None,
    }
}

fn poll(ctx: &Ctx<'_>) -> Result<Answer, ApiError> {
    let kind = poll_type(ctx.args.get("type").unwrap_or("")).unwrap_or(PollType::New);
    let last = ctx.args.get("last_polling").unwrap_or("").trim();
    let since = if !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()) {
        let id = media_id(Some(last))?;
        ctx.state
            .store
            .media_items()
            .find(id)?
            .map(|m| m.created_at)
            .ok_or_else(|| ApiError::NotFound(format!("media {id} not found")))?
    } else {
        Timestamp::parse(last)
            .map_err(|e| ApiError::InvalidParam("last_polling".into(), e.to_string()))?
            .unix()
    };
    let after = match ctx
        .args
        .get("next_page_id")
        .filter(|s| !s.trim().is_empty())
    {
        None => 0,
        Some(s) => match Cursor::decode(s) {
            Some(c) if c.kind == kind && c.since == since => c.seq,
            _ => {
                return Err(ApiError::InvalidParam(
                    "next_page_id".into(),
                    "not a cursor of this poll (same type and last_polling)".into(),
                ))
            }
        },
    };
    let limit = ctx.args.int("limit").unwrap_or(1000);
    let (total, hits) = ctx
        .state
        .store
        .media_items()
        .poll(kind, since, after, limit)?;
    let cursor = |seq| Cursor { kind, since, seq }.encode();
    let next = hits
        .last()
        .map(|h| cursor(h.seq))
        .or_else(|| ctx.args.get("next_page_id").map(str::to_string))
        .unwrap_or_default();
    let items = Node::new("items")
        .attr("type", kind.as_str())
        .attr("total", total)
        .attr("items", hits.len())
        .attr("next_page_id", next)
        .children(hits.iter().map(|h| {
            Node::new("media")
                .attr("id", h.id)
                .attr("date", date(h.date))
                .attr("next_page_id", cursor(h.seq))
        }));
    Ok(Answer::one(items))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_junk() {
        let c = Cursor {
            kind: PollType::Changed,
            since: 1_400_000_000,
            seq: 42,
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        for junk in ["", "x", "cDE6bmV3OjE6Mjox", "!!!"] {
            assert_eq!(Cursor::decode(junk), None, "{junk}");
        }
    }
}
