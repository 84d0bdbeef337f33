//! Buying and downloading (methods.md §D): download-media and
//! get-downloaded-images. A purchase charges the deposit in the same
//! transaction that creates the order; an order is unique per (user, item,
//! articles), so repeating a purchase — concurrently or not — is a free
//! re-download and never a second charge.

use rand::RngCore;

use base64::Engine;

use super::media::{acting_user, media_id, public, LANG};
use super::{Area, Ctx, ErrorDoc, Field, FieldType, Kind, Method, Param, UserAuth};
use crate::answer::tree::{Answer, Node};
use crate::error::ApiError;
use crate::media::embed::{self, Which};
use crate::media::render_cache::{RenderKey, Unavailable};
use crate::media::{files, image, test_download};
use crate::methods::AppState;
use crate::protocol::timestamp::Timestamp;
use crate::store::orders::{self, Order, Status};
use crate::store::{media, StoreError};

const DOWNLOAD_PARAMS: &[Param] = &[
    Param::new("id_media", "The media id.").required(),
    Param::new(
        "id_article",
        "Size article id, optionally + extended-rights article ids (comma list); \
                     required for a purchase.",
    )
    .kind(Kind::List),
    Param::new("id_download", "Re-download an earlier order (free)."),
    Param::new("queue_hash", "Ask the state of a running order."),
    Param::new(
        "callback_url",
        "Notified with a POST when the order is ready.",
    )
    .kind(Kind::Url),
    TEST,
    LANG,
];

/// `test=yes`: a test download for building an integration (methods.md §F).
const TEST: Param = Param::new(
    "test",
    "`yes`: a test download. Never charges, is not a purchase (not listed by \
     get-downloaded-images) and delivers a small file stamped TEST; id_article, if given, \
     is still checked.",
)
.kind(Kind::Choice)
.values(&["yes", "no"])
.default("no");

const IMAGE_PARAMS: &[Param] = &[
    Param::new("id_media", "The media id.").required(),
    Param::new(
        "id_article",
        "Size article id, optionally + extended-rights article ids (comma list). Ignored \
         with id_download.",
    )
    .kind(Kind::List)
    .required(),
    LANG,
    Param::new(
        "metadata",
        "What to write into the JPEG: title, keywords, description, author and copyright \
         as IPTC IIM and XMP (`all`), one of them, or `none`.",
    )
    .kind(Kind::Choice)
    .values(embed::Which::NAMES)
    .default("all"),
    Param::new("id_download", "Re-download an earlier order (free)."),
    TEST,
];

const DOWNLOAD_ERRORS: &[ErrorDoc] = &[
    ErrorDoc {
        code: 401,
        meaning: "no user to charge (the api key has no owner)",
    },
    ErrorDoc {
        code: 402,
        meaning: "the deposit cannot pay for the articles",
    },
    ErrorDoc {
        code: 404,
        meaning: "unknown media, article, order or queue_hash",
    },
    ErrorDoc {
        code: 422,
        meaning: "no size article, two size articles, or a size this item does not have",
    },
];

const DOWNLOADED_PARAMS: &[Param] = &[
    LANG,
    Param::new("limit", "Items per page.")
        .kind(Kind::Integer { min: 0, max: 100 })
        .default("20"),
    Param::new("offset", "Items to skip.")
        .kind(Kind::Integer {
            min: 0,
            max: 1_000_000,
        })
        .default("0"),
    Param::new("extra_info", "Comma list of attributes to add.")
        .kind(Kind::List)
        .values(DOWNLOAD_EXTRA),
    Param::new("id_media", "Only the downloads of this media id."),
    Param::new(
        "license_info",
        "`yes` adds `license` (`standard`, or `extended` with extended-rights articles) and \
         `articles` (the article ids licensed) to each `<media>`.",
    )
    .kind(Kind::Choice)
    .values(&["yes", "no"])
    .default("no"),
    Param::new(
        "corporate_all_user",
        "`yes`: the downloads of every user of a corporate account. Panthera accounts are \
         single-user, so this lists the acting user's downloads either way.",
    )
    .kind(Kind::Choice)
    .values(&["yes", "no"])
    .default("no"),
];

/// The caller echo of the methods that act for a user without needing one.
pub const API_KEY: Field = Field::element(
    "api_key",
    FieldType::Text,
    "The api key the call was signed with.",
);

const DOWNLOAD_INFOS: Field = Field::group(
    "download_infos",
    "The purchase.",
    &[
        Field::element("id_media", FieldType::Integer, "The item bought."),
        Field::element(
            "id_download",
            FieldType::Integer,
            "The order id (`0` for a test download).",
        ),
        Field::element(
            "articles",
            FieldType::Text,
            "The article ids bought, comma-separated.",
        ),
        Field::element("price", FieldType::Integer, "What the articles cost."),
        Field::element("currency", FieldType::Text, "The price's currency."),
        Field::element(
            "deposit_settled",
            FieldType::Integer,
            "What this call charged (`0` for a re-download or a test).",
        ),
        Field::element(
            "deposit_remaining",
            FieldType::Integer,
            "The credits left afterwards.",
        ),
        Field::element(
            "test",
            FieldType::YesNo,
            "`yes`: nothing was charged or stored.",
        )
        .when("`test=yes`"),
    ],
);

const DOWNLOAD_STATUS: Field = Field::group(
    "download_status",
    "The order's progress.",
    &[
        Field::element("id_media", FieldType::Integer, "The item."),
        Field::element("id_download", FieldType::Integer, "The order."),
        Field::element(
            "queue_hash",
            FieldType::Text,
            "Follows the order (`queue_hash` parameter); empty for a test download.",
        ),
        Field::element(
            "mimetype",
            FieldType::Text,
            "The file's media type: `image/jpeg`.",
        ),
        Field::element(
            "status",
            FieldType::Text,
            "`queued`, `processing` or `ready`.",
        ),
        Field::element(
            "download_url",
            FieldType::Url,
            "Where the file is served for a limited time; empty until `ready`.",
        ),
    ],
);

const DOWNLOAD_MEDIA_ANSWER: &[Field] = &[API_KEY, DOWNLOAD_INFOS, DOWNLOAD_STATUS];
const DOWNLOAD_IMAGE_ANSWER: &[Field] = &[
    API_KEY,
    DOWNLOAD_INFOS,
    DOWNLOAD_STATUS,
    super::media::FILE_MEDIA,
];

/// An `extra_info` attribute of a download's `<media>`.
const fn extra(name: &'static str, ty: FieldType, meaning: &'static str) -> Field {
    Field::attr(name, ty, meaning).when("`extra_info` names it")
}

const DOWNLOADED_ANSWER: &[Field] = &[
    API_KEY,
    Field::group(
        "media_list",
        "The page of downloads, newest first.",
        &[
            Field::attr(
                "total",
                FieldType::Integer,
                "How many downloads there are in all.",
            ),
            Field::attr("items", FieldType::Integer, "How many are on this page."),
            Field::group(
                "media",
                "One download.",
                &[
                    Field::attr("id-download", FieldType::Integer, "The order."),
                    Field::attr("id-media", FieldType::Integer, "The item."),
                    extra("width", FieldType::Integer, "Width of the file bought."),
                    extra("height", FieldType::Integer, "Height of the file bought."),
                    extra("mimetype", FieldType::Text, "`image/jpeg`."),
                    extra(
                        "ref",
                        FieldType::Text,
                        "The customer's order reference: always empty.",
                    ),
                    extra(
                        "state",
                        FieldType::Text,
                        "`queued`, `processing` or `ready`.",
                    ),
                    extra("date", FieldType::Timestamp, "When it was bought."),
                    Field::attr(
                        "license",
                        FieldType::Text,
                        "`standard`, or `extended` with extended-rights articles.",
                    )
                    .when("`license_info=yes`"),
                    Field::attr("articles", FieldType::Text, "The article ids licensed.")
                        .when("`license_info=yes`"),
                ],
            )
            .repeated(),
        ],
    ),
];

pub fn methods() -> Vec<Method> {
    vec![
        Method::new(
            "download-media",
            Area::Downloads,
            "Buys an item (charging the deposit) and follows the download.",
            "A purchase needs `id_article`: one size article, optionally followed \
                by extended-rights articles (`2,101`). The order goes queued → processing → \
                ready; follow it with `queue_hash` or get a POST to `callback_url` when it is \
                ready. `download_url` (once ready) serves the file for a limited time. Buying \
                what you already hold, or giving `id_download`, is a free re-download.",
            download_media,
        )
        .params(DOWNLOAD_PARAMS)
        .user(UserAuth::Optional)
        .mutating()
        .errors(DOWNLOAD_ERRORS)
        .sample(&[("id_media", "1"), ("id_article", "1")])
        .answer(DOWNLOAD_MEDIA_ANSWER),
        Method::new(
            "download-image",
            Area::Downloads,
            "Buys an item and returns the file at once, with its metadata embedded \
                (legacy).",
            "The original's older download method, kept for the clients that \
                call it. Charging, `402` and re-downloads (`id_download`, or buying what you \
                already hold) are those of `download-media`. The JPEG carries the title, \
                keywords, description, author and copyright as IPTC IIM and/or XMP \
                (`metadata`). With `content_type=application/octet-stream` (optionally \
                followed by a structured type for errors: `application/octet-stream, \
                application/json`) the answer is the file itself; otherwise the order as \
                `download-media` gives it plus `<media><base64/><mimetype/></media>`.",
            download_image,
        )
        .params(IMAGE_PARAMS)
        .user(UserAuth::Optional)
        .mutating()
        .errors(DOWNLOAD_ERRORS)
        .sample(&[("id_media", "1"), ("id_article", "1"), ("metadata", "all")])
        .answer(DOWNLOAD_IMAGE_ANSWER),
        Method::new(
            "get-downloaded-images",
            Area::Downloads,
            "Lists the acting user's downloads, newest first.",
            "`extra_info` adds `width`, `height`, `mimetype`, `date` (of the \
                purchase), `ref` (the customer's order reference: Panthera stores none, so it \
                is empty) and `state` (of the order: queued, processing, ready) to each \
                `<media>`. Test downloads (`test=yes`) are not purchases and are not listed.",
            downloaded_images,
        )
        .params(DOWNLOADED_PARAMS)
        .user(UserAuth::Optional)
        .errors(&[ErrorDoc {
            code: 401,
            meaning: "no user (the api key has no owner)",
        }])
        .sample(&[("limit", "5"), ("extra_info", "width,height,date")])
        .answer(DOWNLOADED_ANSWER),
    ]
}

const DOWNLOAD_EXTRA: &[&str] = &["width", "height", "mimetype", "date", "ref", "state"];

/// A signed link to order `id`'s file, valid for the configured time.
pub fn download_url(state: &AppState, id: i64) -> Result<String, StoreError> {
    let key = files::url_key(&state.store)?;
    let ttl = i64::try_from(state.config.media.download_url_ttl_secs).unwrap_or(3600);
    Ok(format!(
        "{}{}",
        state.public_url(),
        files::download_path(&key, id, state.clock.now() + ttl)
    ))
}

/// The articles asked for: one size article first, extended rights after.
struct Choice {
    /// Sorted ids, as stored on the order.
    key: String,
    size: orders::Article,
    price: i64,
    currency: String,
}

fn choose(all: &[orders::Article], asked: &str) -> Result<Choice, ApiError> {
    let mut picked: Vec<&orders::Article> = Vec::new();
    for item in asked.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let id: i64 = item.parse().map_err(|_| {
            ApiError::InvalidParam("id_article".into(), "expected article ids".into())
        })?;
        let a = all
            .iter()
            .find(|a| a.id == id)
            .ok_or_else(|| ApiError::NotFound(format!("article {id} not found")))?;
        if !picked.iter().any(|p| p.id == id) {
            picked.push(a);
        }
    }
    let sizes: Vec<&&orders::Article> = picked.iter().filter(|a| a.is_size()).collect();
    let size = match sizes.as_slice() {
        [one] => (**one).clone(),
        [] => {
            return Err(ApiError::Unprocessable(
                "id_article".into(),
                "one size article is needed".into(),
            ))
        }
        _ => {
            return Err(ApiError::Unprocessable(
                "id_article".into(),
                "only one size article per download".into(),
            ))
        }
    };
    let mut ids: Vec<i64> = picked.iter().map(|a| a.id).collect();
    ids.sort_unstable();
    Ok(Choice {
        key: ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","),
        price: picked.iter().map(|a| a.price).sum(),
        currency: size.currency.clone(),
        size,
    })
}

fn new_queue_hash() -> String {
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// What a purchase did.
struct Purchase {
    order: Order,
    charged: i64,
    remaining: i64,
}

/// True for `test=yes`.
fn is_test(ctx: &Ctx<'_>) -> bool {
    ctx.args.get("test") == Some("yes")
}

/// The caller echo the original puts first on app-level methods that act
/// for an account (methods.md §F).
pub fn api_key_echo(ctx: &Ctx<'_>) -> Node {
    Node::leaf("api_key", ctx.key.api_key.clone())
}

/// The purchase a download call resolves to: an earlier order
/// (`id_download`, `queue_hash`, or buying what is already held, all free)
/// or a new one, charged.
fn purchase(ctx: &Ctx<'_>, user: &str, id: i64) -> Result<Purchase, ApiError> {
    let store = &ctx.state.store;
    let lookup = |order: Option<Order>, what: &str| {
        order
            .filter(|o| o.media_id == id)
            .ok_or_else(|| ApiError::NotFound(format!("{what} not found")))
    };
    if let Some(d) = ctx.args.get("id_download").filter(|s| !s.is_empty()) {
        let did: i64 = d
            .trim()
            .parse()
            .map_err(|_| ApiError::InvalidParam("id_download".into(), "expected an id".into()))?;
        let order = lookup(store.orders().by_id(did, user)?, "download")?;
        free(ctx, user, order)
    } else if let Some(h) = ctx.args.get("queue_hash").filter(|s| !s.is_empty()) {
        let order = lookup(store.orders().by_queue_hash(h.trim(), user)?, "queue_hash")?;
        free(ctx, user, order)
    } else {
        let asked = ctx
            .args
            .get("id_article")
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| ApiError::MissingParam("id_article".into()))?;
        buy(ctx, user, id, asked)
    }
}

fn download_media(ctx: &Ctx<'_>) -> Result<Answer, ApiError> {
    let id = media_id(ctx.args.get("id_media"))?;
    if is_test(ctx) {
        let t = test_order(ctx, id)?;
        return Ok(Answer::new(vec![
            api_key_echo(ctx),
            t.infos_node(),
            t.status_node(ctx),
        ]));
    }
    let user = acting_user(ctx)?;
    let purchase = purchase(ctx, &user, id)?;
    Ok(Answer::new(vec![
        api_key_echo(ctx),
        infos_node(&purchase),
        status_node(ctx.state, &purchase.order)?,
    ]))
}

fn infos_node(purchase: &Purchase) -> Node {
    Node::new("download_infos")
        .child(Node::leaf("id_media", purchase.order.media_id.to_string()))
        .child(Node::leaf("id_download", purchase.order.id.to_string()))
        .child(Node::leaf("articles", purchase.order.articles.clone()))
        .child(Node::leaf("price", purchase.order.price.to_string()))
        .child(Node::leaf("currency", purchase.order.currency.clone()))
        .child(Node::leaf("deposit_settled", purchase.charged.to_string()))
        .child(Node::leaf(
            "deposit_remaining",
            purchase.remaining.to_string(),
        ))
}

/// A test download (`test=yes`): checked like a purchase, but nothing is
/// charged or stored.
struct TestOrder {
    media: media::Media,
    articles: String,
    price: i64,
    currency: String,
    remaining: i64,
}

/// `id_download` of a test download: no order exists.
const TEST_DOWNLOAD_ID: &str = "0";

fn test_order(ctx: &Ctx<'_>, id: i64) -> Result<TestOrder, ApiError> {
    let m = public(ctx, id)?;
    let asked = ctx.args.get("id_article").filter(|s| !s.trim().is_empty());
    let (articles, price, currency) = match asked {
        Some(a) => {
            let all = ctx.state.store.orders().articles()?;
            let choice = choose(&all, a)?;
            (choice.key, choice.price, choice.currency)
        }
        None => (String::new(), 0, "credits".to_string()),
    };
    let remaining = match ctx.account {
        Some(a) => ctx.state.store.balances().get(&a.user.id)?.credits,
        None => 0,
    };
    Ok(TestOrder {
        media: m,
        articles,
        price,
        currency,
        remaining,
    })
}

impl TestOrder {
    fn infos_node(&self) -> Node {
        Node::new("download_infos")
            .child(Node::leaf("id_media", self.media.id.to_string()))
            .child(Node::leaf("id_download", TEST_DOWNLOAD_ID))
            .child(Node::leaf("articles", self.articles.clone()))
            .child(Node::leaf("price", self.price.to_string()))
            .child(Node::leaf("currency", self.currency.clone()))
            .child(Node::leaf("deposit_settled", "0"))
            .child(Node::leaf("deposit_remaining", self.remaining.to_string()))
            .child(Node::leaf("test", "yes"))
    }

    /// Ready at once; the link serves the marked test file.
    fn status_node(&self, ctx: &Ctx<'_>) -> Node {
        Node::new("download_status")
            .child(Node::leaf("id_media", self.media.id.to_string()))
            .child(Node::leaf("id_download", TEST_DOWNLOAD_ID))
            .child(Node::leaf("queue_hash", ""))
            .child(Node::leaf("mimetype", "image/jpeg"))
            .child(Node::leaf("status", Status::Ready.as_str()))
            .child(Node::leaf(
                "download_url",
                test_download::url(ctx.base_url, self.media.id),
            ))
    }
}

/// What `download-image` writes into the file.
fn file_metadata(m: &media::Media) -> embed::Metadata {
    let author = if m.author_realname.is_empty() {
        &m.author_username
    } else {
        &m.author_realname
    };
    embed::Metadata {
        title: m.title.clone(),
        description: m.description.clone(),
        keywords: m.keyword_list().into_iter().map(str::to_string).collect(),
        author: author.clone(),
        copyright: format!("© {author}"),
    }
}

/// The bytes of a purchased file, from the render cache: rendered at most
/// once and within the render bound like a download link's file (issue 12),
/// so repeated free re-downloads cannot make the server render again.
fn purchased_file(ctx: &Ctx<'_>, m: &media::Media, w: u16, h: u16) -> Result<Vec<u8>, ApiError> {
    let key = RenderKey {
        id: m.id,
        color: m.color.clone(),
        width: w,
        height: h,
        watermark: false,
    };
    let renders = &ctx.state.renders;
    for _ in 0..2 {
        let path = match renders.cached(&key) {
            Some(p) => p,
            None => {
                // Handlers run on the blocking pool, inside the runtime; the
                // render runs on a thread of its own. Without a runtime (the
                // docs' sample answers, the CLI) nothing serves requests: the
                // file is simply rendered here.
                let Ok(rt) = tokio::runtime::Handle::try_current() else {
                    return Ok(image::render(m.id, &m.color, w, h, false));
                };
                match rt.block_on(renders.file(&key)) {
                    Ok(p) => p,
                    Err(Unavailable::Busy(_)) => return Err(ApiError::Unavailable),
                    Err(Unavailable::Failed) => {
                        return Err(ApiError::Internal("rendering a picture file failed".into()))
                    }
                }
            }
        };
        match std::fs::read(&path) {
            Ok(bytes) => return Ok(bytes),
            // deleted under the index: rendered again, once
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => renders.forget(&key),
            Err(e) => return Err(ApiError::Internal(format!("render file: {e}"))),
        }
    }
    Err(ApiError::Internal("render file vanished".into()))
}

fn download_image(ctx: &Ctx<'_>) -> Result<Answer, ApiError> {
    let id = media_id(ctx.args.get("id_media"))?;
    let which = ctx
        .args
        .get("metadata")
        .and_then(Which::parse)
        .unwrap_or(Which::All);
    let (mut items, m, jpeg) = if is_test(ctx) {
        let t = test_order(ctx, id)?;
        let jpeg = image::test_rendition(t.media.id, &t.media.color, t.media.width, t.media.height);
        let items = vec![api_key_echo(ctx), t.infos_node(), t.status_node(ctx)];
        (items, t.media, jpeg)
    } else {
        let user = acting_user(ctx)?;
        let p = purchase(ctx, &user, id)?;
        let m = ctx
            .state
            .store
            .media_items()
            .find(p.order.media_id)?
            .ok_or_else(|| ApiError::NotFound(format!("media {id} not found")))?;
        // the purchased size, like the download link serves it
        let o = &p.order;
        let (w, h) = image::fit(o.width, o.height, o.width.max(o.height));
        let jpeg = purchased_file(ctx, &m, w, h)?;
        let items = vec![
            api_key_echo(ctx),
            infos_node(&p),
            status_node(ctx.state, &p.order)?,
        ];
        (items, m, jpeg)
    };
    let jpeg = embed::embed(&jpeg, &file_metadata(&m), which)
        .map_err(|e| ApiError::Internal(format!("embedding metadata: {e}")))?;
    items.push(
        Node::new("media")
            .child(Node::leaf(
                "base64",
                base64::engine::general_purpose::STANDARD.encode(&jpeg),
            ))
            .child(Node::leaf("mimetype", "image/jpeg")),
    );
    Ok(Answer::new(items).with_binary("image/jpeg", jpeg))
}

fn free(ctx: &Ctx<'_>, user: &str, order: Order) -> Result<Purchase, ApiError> {
    let remaining = ctx.state.store.balances().get(user)?.credits;
    Ok(Purchase {
        order,
        charged: 0,
        remaining,
    })
}

/// Charges and orders in one transaction of the buyer's scope: the balance
/// check, the charge and the order insert see no other purchase of that
/// user in between (other users' purchases run beside it).
fn buy(ctx: &Ctx<'_>, user: &str, id: i64, asked: &str) -> Result<Purchase, ApiError> {
    let now = ctx.state.clock.now();
    let callback = ctx.args.get("callback_url").filter(|s| !s.is_empty());
    ctx.state
        .store
        .transaction_for(&format!("user:{user}"), |tx| {
            let m = tx
                .media_items()
                .find(id)?
                .filter(media::Media::is_public)
                .ok_or_else(|| ApiError::NotFound(format!("media {id} not found")))?;
            let choice = choose(&tx.orders().articles()?, asked)?;
            if let Some(order) = tx.orders().held(user, id, &choice.key)? {
                let remaining = tx.balances().get(user)?.credits;
                return Ok(Purchase {
                    order,
                    charged: 0,
                    remaining,
                });
            }
            let (w, h) = choice.size.dimensions(m.width, m.height).ok_or_else(|| {
                ApiError::Unprocessable(
                    "id_article".into(),
                    format!("media {id} is not available in size {}", choice.size.name),
                )
            })?;
            if !tx.balances().charge(user, choice.price, now)? {
                let have = tx.balances().get(user)?.credits;
                return Err(ApiError::PaymentRequired(format!(
                    "deposit exhausted: the articles cost {} {}, the deposit holds {have}",
                    choice.price, choice.currency
                )));
            }
            let order = tx.orders().insert(&orders::NewOrder {
                user_id: user,
                media_id: id,
                articles: &choice.key,
                width: w,
                height: h,
                price: choice.price,
                currency: &choice.currency,
                queue_hash: &new_queue_hash(),
                callback_url: callback,
                now,
            })?;
            tx.media_items().count_download(id)?;
            let remaining = tx.balances().get(user)?.credits;
            Ok(Purchase {
                order,
                charged: choice.price,
                remaining,
            })
        })
}

fn status_node(state: &AppState, o: &Order) -> Result<Node, ApiError> {
    let url = if o.status == Status::Ready {
        download_url(state, o.id)?
    } else {
        String::new()
    };
    Ok(Node::new("download_status")
        .child(Node::leaf("id_media", o.media_id.to_string()))
        .child(Node::leaf("id_download", o.id.to_string()))
        .child(Node::leaf("queue_hash", o.queue_hash.clone()))
        .child(Node::leaf("mimetype", "image/jpeg"))
        .child(Node::leaf("status", o.status.as_str()))
        .child(Node::leaf("download_url", url)))
}

fn downloaded_images(ctx: &Ctx<'_>) -> Result<Answer, ApiError> {
    let user = acting_user(ctx)?;
    let extra =
        crate::media::query::parse_list("extra_info", ctx.args.get("extra_info"), DOWNLOAD_EXTRA)?;
    let only = match ctx.args.get("id_media").filter(|s| !s.trim().is_empty()) {
        Some(v) => Some(media_id(Some(v))?),
        None => None,
    };
    let limit = ctx.args.int("limit").unwrap_or(20);
    let offset = ctx.args.int("offset").unwrap_or(0);
    let (total, list) = ctx.state.store.orders().list(&user, only, offset, limit)?;
    let license_info = ctx.args.get("license_info") == Some("yes");
    let sizes: Vec<i64> = if license_info {
        ctx.state
            .store
            .orders()
            .articles()?
            .iter()
            .filter(|a| a.is_size())
            .map(|a| a.id)
            .collect()
    } else {
        Vec::new()
    };
    let items = list.iter().map(|o| {
        let mut n = Node::new("media")
            .attr("id-download", o.id)
            .attr("id-media", o.media_id);
        for e in &extra {
            n = match *e {
                "width" => n.attr("width", o.width),
                "height" => n.attr("height", o.height),
                "mimetype" => n.attr("mimetype", "image/jpeg"),
                "ref" => n.attr("ref", ""),
                "state" => n.attr("state", o.status.as_str()),
                _ => n.attr("date", Timestamp::from_unix(o.created_at).format()),
            };
        }
        if license_info {
            let extended = o
                .articles
                .split(',')
                .filter_map(|a| a.trim().parse::<i64>().ok())
                .any(|a| !sizes.contains(&a));
            n = n
                .attr("license", if extended { "extended" } else { "standard" })
                .attr("articles", o.articles.clone());
        }
        n
    });
    Ok(Answer::new(vec![
        api_key_echo(ctx),
        Node::new("media_list")
            .attr("total", total)
            .attr("items", list.len())
            .children(items),
    ]))
}
