//! The signed-in contributor's own media (methods.md §E). Every query is
//! scoped to the acting user: another user's item is simply "not found".

use super::media::{acting_user, media_id, LANG};
use super::{Area, Ctx, ErrorDoc, Field, FieldType, Kind, Method, Param, UserAuth, Verb};
use crate::answer::tree::{Answer, Node};
use crate::error::ApiError;
use crate::media::body::{self, Body};
use crate::media::import::parse_state;
use crate::protocol::params::RAW_BODY;
use crate::store::media::Media;

/// States and their aliases, as `state[]` accepts them.
const STATE_VALUES: &[&str] = crate::media::import::STATES_AND_ALIASES;

const STATE: Param = Param::new(
    "state",
    "Only items in these states (repeat as `state[]`): red (rejected), yellow (pending), \
     black (incomplete), green (accepted), red-green (suspended), yellow-green (accepted, \
     metadata incomplete).",
)
.kind(Kind::Array)
.values(STATE_VALUES);

const NO_USER: ErrorDoc = ErrorDoc {
    code: 401,
    meaning: "no signed-in user (the api key has no owner)",
};
const NOT_YOURS: ErrorDoc = ErrorDoc {
    code: 404,
    meaning: "no such media among your own",
};

/// Publish channels (`published[]`). Panthera has one channel, the
/// agency's: every item is published there, none in the community.
const PUBLISHED: Param = Param::new(
    "published",
    "Only items published in these channels (repeat as `published[]`): all, agency, \
     community. Every Panthera item is published by the agency, so `community` alone lists \
     nothing.",
)
.kind(Kind::Array)
.values(&["all", "agency", "community"]);

/// Quality ratings (`quality[]`), exact or `min-<level>`.
const QUALITY: Param = Param::new(
    "quality",
    "Only items of this quality (repeat as `quality[]`): insufficient, fair, good, very-good, \
     excellent, or `min-<level>` for at least that level. Panthera does not rate quality, so \
     every value is accepted and does not narrow the list.",
)
.kind(Kind::Array)
.values(&[
    "all",
    "insufficient",
    "fair",
    "good",
    "very-good",
    "excellent",
    "min-insufficient",
    "min-fair",
    "min-good",
    "min-very-good",
    "min-excellent",
]);

const COUNT_PARAMS: &[Param] = &[STATE, PUBLISHED, QUALITY];

const LIST_PARAMS: &[Param] = &[
    STATE,
    PUBLISHED,
    QUALITY,
    Param::new("offset", "Items to skip.")
        .kind(Kind::Integer {
            min: 0,
            max: 1_000_000,
        })
        .default("0"),
    Param::new("limit", "Items per page.")
        .kind(Kind::Integer { min: 1, max: 50 })
        .default("50"),
    Param::new(
        "sort",
        "Sort key. Items are not rated, so `quality` sorts like `id_media`.",
    )
    .kind(Kind::Choice)
    .values(&["id_media", "quality"])
    .default("id_media"),
    Param::new("order", "Sort direction.")
        .kind(Kind::Choice)
        .values(&["asc", "desc"])
        .default("asc"),
];

const METADATA_PARAMS: &[Param] = &[Param::new("id_media", "Your media id.").required(), LANG];

const SET_PARAMS: &[Param] = &[
    Param::new("id_media", "Your media id (or `id_media` in the body)."),
    Param::new("title", "New title."),
    Param::new("description", "New description."),
    Param::new(
        "keywords",
        "New keywords, comma-separated, most relevant first.",
    ),
    Param::new("editorial", "Editorial use only.")
        .kind(Kind::Choice)
        .values(&["yes", "no"]),
    Param::new("model_release", "A model release exists.")
        .kind(Kind::Choice)
        .values(&["yes", "no"]),
    Param::new("property_release", "A property release exists.")
        .kind(Kind::Choice)
        .values(&["yes", "no"]),
];

/// The caller echo of the methods that need a user: the token the call was
/// signed with.
pub const TOKEN: Field = Field::element(
    "token",
    FieldType::Text,
    "The user token the call was signed with.",
);

/// One of your items, as these methods answer it.
const OWN_MEDIA: &[Field] = &[
    Field::attr("id", FieldType::Integer, "The media id."),
    Field::attr(
        "state",
        FieldType::Text,
        "The review state: `red`, `yellow`, `black`, `green`, `red-green` or `yellow-green`.",
    ),
    Field::attr(
        "filename",
        FieldType::Text,
        "The file name it was uploaded as.",
    ),
];

const LIST_ANSWER: &[Field] = &[
    TOKEN,
    Field::group(
        "media",
        "The page of your items.",
        &[
            Field::attr("total", FieldType::Integer, "How many items match in all."),
            Field::attr("items", FieldType::Integer, "How many are on this page."),
            Field::group("m", "One item.", OWN_MEDIA).repeated(),
        ],
    ),
];

const COUNT_ANSWER: &[Field] = &[
    TOKEN,
    Field::element("count", FieldType::Integer, "How many of your items match."),
];

const METADATA_ANSWER: &[Field] = &[
    TOKEN,
    Field::group("media", "The item.", OWN_MEDIA),
    Field::group(
        "metadata",
        "Its editable metadata.",
        &[
            Field::element("title", FieldType::Text, "The title."),
            Field::element("keywords", FieldType::Text, "Keywords, comma-separated."),
            Field::element("description", FieldType::Text, "The description."),
            Field::element("model_release", FieldType::YesNo, "A model release exists."),
            Field::element(
                "property_release",
                FieldType::YesNo,
                "A property release exists.",
            ),
            Field::element("editorial", FieldType::YesNo, "For editorial use only."),
        ],
    ),
];

pub fn methods() -> Vec<Method> {
    vec![
        Method::new(
            "get-user-media-list",
            Area::Contributor,
            "Lists your own media with their review state.",
            "Deleted items are not listed.",
            media_list,
        )
        .params(LIST_PARAMS)
        .user(UserAuth::Required)
        .errors(&[NO_USER])
        .sample(&[("state", "green"), ("limit", "5")])
        .answer(LIST_ANSWER),
        Method::new(
            "get-user-media-count",
            Area::Contributor,
            "Counts your own media, optionally by state.",
            "Deleted items are not counted.",
            media_count,
        )
        .params(COUNT_PARAMS)
        .user(UserAuth::Required)
        .errors(&[NO_USER])
        .sample(&[("state", "yellow")])
        .answer(COUNT_ANSWER),
        Method::new(
            "get-user-media-metadata",
            Area::Contributor,
            "Returns the editable metadata of one of your media.",
            "Works in every review state, unlike `get-media-info`.",
            metadata,
        )
        .params(METADATA_PARAMS)
        .user(UserAuth::Required)
        .errors(&[NO_USER, NOT_YOURS])
        .sample(&[("id_media", "306")])
        .answer(METADATA_ANSWER),
        Method::new(
            "set-user-media-metadata",
            Area::Contributor,
            "Changes the metadata of one of your media.",
            "`PUT` with the credentials in the query and the body as XML \
                (`<media id_media=\"…\"><title/><keywords/><description/><editorial/>\
                <model_release/><property_release/></media>`, keywords comma-separated or as \
                `<keyword>` elements) or JSON (the same names as keys). The same fields are \
                accepted as form parameters. Only given fields change; an incomplete item whose \
                metadata becomes complete goes on to review.",
            set_metadata,
        )
        .params(SET_PARAMS)
        .user(UserAuth::Required)
        .mutating()
        .verbs(&[Verb::Put, Verb::Post])
        .errors(&[
            NO_USER,
            NOT_YOURS,
            ErrorDoc {
                code: 422,
                meaning: "a malformed body or a value too long",
            },
        ])
        .sample(&[
            ("id_media", "306"),
            ("title", "Golden fox in a meadow"),
            ("keywords", "fox, meadow, golden, animal"),
        ])
        .answer(METADATA_ANSWER),
    ]
}

/// The states asked (aliases resolved), deduplicated.
fn states(ctx: &Ctx<'_>) -> Vec<&'static str> {
    let mut out = Vec::new();
    for s in ctx.args.list("state") {
        if let Some(st) = parse_state(s) {
            if !out.contains(&st) {
                out.push(st);
            }
        }
    }
    out
}

/// The caller echo the original puts first on methods that need a user
/// (methods.md §F): the token the call was signed with.
fn with_token(ctx: &Ctx<'_>, mut items: Vec<Node>) -> Answer {
    if let Some(t) = ctx.account.and_then(|a| a.token.as_ref()) {
        items.insert(0, Node::leaf("token", t.token.clone()));
    }
    Answer::new(items)
}

/// False when `published[]` asks only for channels Panthera has no items in
/// (the community): every item is published by the agency.
fn agency_asked(ctx: &Ctx<'_>) -> bool {
    let asked = ctx.args.list("published");
    asked.is_empty() || asked.iter().any(|p| *p == "all" || *p == "agency")
}

fn media_list(ctx: &Ctx<'_>) -> Result<Answer, ApiError> {
    let user = acting_user(ctx)?;
    let states = states(ctx);
    let desc = ctx.args.get("order") == Some("desc");
    let offset = ctx.args.int("offset").unwrap_or(0);
    let limit = ctx.args.int("limit").unwrap_or(50);
    let (total, items) = if agency_asked(ctx) {
        ctx.state
            .store
            .media_items()
            .list_owned(&user, &states, desc, offset, limit)?
    } else {
        (0, Vec::new())
    };
    let list = items.iter().map(|m| {
        Node::new("m")
            .attr("id", m.id)
            .attr("state", m.state.clone())
            .attr("filename", m.filename.clone())
    });
    Ok(with_token(
        ctx,
        vec![Node::new("media")
            .attr("total", total)
            .attr("items", items.len())
            .children(list)],
    ))
}

fn media_count(ctx: &Ctx<'_>) -> Result<Answer, ApiError> {
    let user = acting_user(ctx)?;
    let states = states(ctx);
    let n = if agency_asked(ctx) {
        ctx.state.store.media_items().count_owned(&user, &states)?
    } else {
        0
    };
    Ok(with_token(ctx, vec![Node::leaf("count", n.to_string())]))
}

/// The item if it is the user's own and not deleted, else `404`.
fn own(ctx: &Ctx<'_>, user: &str, id: i64) -> Result<Media, ApiError> {
    ctx.state
        .store
        .media_items()
        .find(id)?
        .filter(|m| m.owner_user_id.as_deref() == Some(user) && m.deleted_at.is_none())
        .ok_or_else(|| ApiError::NotFound(format!("media {id} not found among your media")))
}

fn answer(ctx: &Ctx<'_>, m: &Media) -> Answer {
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    with_token(
        ctx,
        vec![
            Node::new("media")
                .attr("id", m.id)
                .attr("state", m.state.clone())
                .attr("filename", m.filename.clone()),
            Node::new("metadata")
                .child(Node::leaf("title", m.title.clone()))
                .child(Node::leaf("keywords", m.keyword_list().join(", ")))
                .child(Node::leaf("description", m.description.clone()))
                .child(Node::leaf("model_release", yes_no(m.model_release)))
                .child(Node::leaf("property_release", yes_no(m.property_release)))
                .child(Node::leaf("editorial", yes_no(m.editorial))),
        ],
    )
}

fn metadata(ctx: &Ctx<'_>) -> Result<Answer, ApiError> {
    let user = acting_user(ctx)?;
    let m = own(ctx, &user, media_id(ctx.args.get("id_media"))?)?;
    Ok(answer(ctx, &m))
}

fn set_metadata(ctx: &Ctx<'_>) -> Result<Answer, ApiError> {
    let user = acting_user(ctx)?;
    let bad = |e: String| ApiError::Unprocessable("body".into(), e);
    let mut b = match ctx.args.params().get(RAW_BODY) {
        Some(raw) => body::parse(raw).map_err(bad)?,
        None => Body::default(),
    };
    for name in ["id_media"].iter().chain(body::FIELDS) {
        if let Some(v) = ctx.args.get(name) {
            body::set_field(&mut b, name, v)
                .map_err(|e| ApiError::Unprocessable((*name).into(), e))?;
        }
    }
    let id = b
        .id_media
        .ok_or_else(|| ApiError::MissingParam("id_media".into()))?;
    own(ctx, &user, id)?;
    let now = ctx.state.clock.now();
    ctx.state
        .store
        .media_items()
        .update_metadata(id, &b.update, now)?;
    Ok(answer(ctx, &own(ctx, &user, id)?))
}
