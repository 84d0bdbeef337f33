//! Buying and downloading (methods.md §D): download-media and
//! get-downloaded-images. A purchase charges the deposit in the same
//! transaction that creates the order; an order is unique per (user, item,
//! articles), so repeating a purchase — concurrently or not — is a free
//! re-download and never a second charge.

use rand::RngCore;
use rusqlite::TransactionBehavior;

use super::media::{acting_user, media_id, LANG};
use super::{Area, Ctx, ErrorDoc, Kind, Method, Param, UserAuth, Verb};
use crate::answer::tree::{Answer, Node};
use crate::app::AppState;
use crate::error::ApiError;
use crate::media::files;
use crate::protocol::timestamp::Timestamp;
use crate::protocol::version::Version;
use crate::store::orders::{self, Order, Status};
use crate::store::{balances, media};

const V1_0: Version = Version::new(1, 0);

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
];

pub fn methods() -> Vec<Method> {
    vec![
        Method {
            name: "download-media",
            area: Area::Downloads,
            since: V1_0,
            until: None,
            summary: "Buys an item (charging the deposit) and follows the download.",
            description: "A purchase needs `id_article`: one size article, optionally followed \
                by extended-rights articles (`2,101`). The order goes queued → processing → \
                ready; follow it with `queue_hash` or get a POST to `callback_url` when it is \
                ready. `download_url` (once ready) serves the file for a limited time. Buying \
                what you already hold, or giving `id_download`, is a free re-download.",
            params: DOWNLOAD_PARAMS,
            user_auth: UserAuth::Optional,
            admin: false,
            mutating: true,
            ssl: false,
            verbs: &[Verb::Post],
            errors: &[
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
                    meaning:
                        "no size article, two size articles, or a size this item does not have",
                },
            ],
            sample: &[("id_media", "1"), ("id_article", "1")],
            handler: download_media,
            inline: false,
        },
        Method {
            name: "get-downloaded-images",
            area: Area::Downloads,
            since: V1_0,
            until: None,
            summary: "Lists the acting user's downloads, newest first.",
            description: "`extra_info` adds `width`, `height`, `mimetype` and `date` (of the \
                purchase) to each `<media>`.",
            params: DOWNLOADED_PARAMS,
            user_auth: UserAuth::Optional,
            admin: false,
            mutating: false,
            ssl: false,
            verbs: &[Verb::Post],
            errors: &[ErrorDoc {
                code: 401,
                meaning: "no user (the api key has no owner)",
            }],
            sample: &[("limit", "5"), ("extra_info", "width,height,date")],
            handler: downloaded_images,
            inline: false,
        },
    ]
}

const DOWNLOAD_EXTRA: &[&str] = &["width", "height", "mimetype", "date"];

/// A signed link to order `id`'s file, valid for the configured time.
pub fn download_url(state: &AppState, id: i64) -> rusqlite::Result<String> {
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

fn download_media(ctx: &Ctx<'_>) -> Result<Answer, ApiError> {
    let user = acting_user(ctx)?;
    let id = media_id(ctx.args.get("id_media"))?;
    let store = &ctx.state.store;
    let lookup = |order: Option<Order>, what: &str| {
        order
            .filter(|o| o.media_id == id)
            .ok_or_else(|| ApiError::NotFound(format!("{what} not found")))
    };
    let purchase = if let Some(d) = ctx.args.get("id_download").filter(|s| !s.is_empty()) {
        let did: i64 = d
            .trim()
            .parse()
            .map_err(|_| ApiError::InvalidParam("id_download".into(), "expected an id".into()))?;
        let order = lookup(store.with(|c| orders::by_id(c, did, &user))?, "download")?;
        free(ctx, &user, order)?
    } else if let Some(h) = ctx.args.get("queue_hash").filter(|s| !s.is_empty()) {
        let order = lookup(
            store.with(|c| orders::by_queue_hash(c, h.trim(), &user))?,
            "queue_hash",
        )?;
        free(ctx, &user, order)?
    } else {
        let asked = ctx
            .args
            .get("id_article")
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| ApiError::MissingParam("id_article".into()))?;
        buy(ctx, &user, id, asked)?
    };
    Ok(Answer::new(vec![
        Node::new("download_infos")
            .child(Node::leaf("id_media", id.to_string()))
            .child(Node::leaf("id_download", purchase.order.id.to_string()))
            .child(Node::leaf("articles", purchase.order.articles.clone()))
            .child(Node::leaf("price", purchase.order.price.to_string()))
            .child(Node::leaf("currency", purchase.order.currency.clone()))
            .child(Node::leaf("deposit_settled", purchase.charged.to_string()))
            .child(Node::leaf(
                "deposit_remaining",
                purchase.remaining.to_string(),
            )),
        status_node(ctx.state, &purchase.order)?,
    ]))
}

fn free(ctx: &Ctx<'_>, user: &str, order: Order) -> Result<Purchase, ApiError> {
    let remaining = ctx.state.store.with(|c| balances::get(c, user))?.credits;
    Ok(Purchase {
        order,
        charged: 0,
        remaining,
    })
}

/// Charges and orders in one immediate transaction: the balance check, the
/// charge and the order insert see no other writer in between.
fn buy(ctx: &Ctx<'_>, user: &str, id: i64, asked: &str) -> Result<Purchase, ApiError> {
    let now = ctx.state.clock.now();
    let callback = ctx.args.get("callback_url").filter(|s| !s.is_empty());
    ctx.state.store.with(|c| {
        let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let outcome = (|| {
            let m = media::find(&tx, id)?
                .filter(media::Media::is_public)
                .ok_or_else(|| ApiError::NotFound(format!("media {id} not found")))?;
            let choice = choose(&orders::articles(&tx)?, asked)?;
            if let Some(order) = orders::held(&tx, user, id, &choice.key)? {
                let remaining = balances::get(&tx, user)?.credits;
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
            if !balances::charge(&tx, user, choice.price, now)? {
                let have = balances::get(&tx, user)?.credits;
                return Err(ApiError::PaymentRequired(format!(
                    "deposit exhausted: the articles cost {} {}, the deposit holds {have}",
                    choice.price, choice.currency
                )));
            }
            let order = orders::insert(
                &tx,
                &orders::NewOrder {
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
                },
            )?;
            media::count_download(&tx, id)?;
            let remaining = balances::get(&tx, user)?.credits;
            Ok(Purchase {
                order,
                charged: choice.price,
                remaining,
            })
        })();
        match outcome {
            Ok(p) => {
                tx.commit()?;
                Ok(Ok(p))
            }
            // dropping the transaction rolls it back
            Err(e) => Ok(Err(e)),
        }
    })?
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
    let (total, list) = ctx
        .state
        .store
        .with(|c| orders::list(c, &user, only, offset, limit))?;
    let items = list.iter().map(|o| {
        let mut n = Node::new("media")
            .attr("id-download", o.id)
            .attr("id-media", o.media_id);
        for e in &extra {
            n = match *e {
                "width" => n.attr("width", o.width),
                "height" => n.attr("height", o.height),
                "mimetype" => n.attr("mimetype", "image/jpeg"),
                _ => n.attr("date", Timestamp::from_unix(o.created_at).format()),
            };
        }
        n
    });
    Ok(Answer::one(
        Node::new("media_list")
            .attr("total", total)
            .attr("items", list.len())
            .children(items),
    ))
}
