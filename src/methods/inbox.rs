//! `get-user-ftp-list` (methods.md §F): the signed-in contributor's upload
//! inbox, listed or processed (see `media::inbox`).

use super::{Area, Ctx, ErrorDoc, Field, FieldType, Kind, Method, Param, UserAuth};
use crate::answer::tree::{Answer, Node};
use crate::error::ApiError;
use crate::media::inbox::{self, Outcome};
use crate::protocol::user_auth::TokenRefusal;

const PARAMS: &[Param] = &[
    Param::new("offset", "Files to skip (in file name order).")
        .kind(Kind::Integer {
            min: 0,
            max: 1_000_000,
        })
        .default("0"),
    Param::new("limit", "Files per page.")
        .kind(Kind::Integer { min: 1, max: 50 })
        .default("50"),
    Param::new(
        "process",
        "`yes` imports the listed files as your new media (state `yellow`, waiting for review) \
         and answers `<queue>` with `stat=\"ok\"` (and the new `id-media`) or `stat=\"fail\"` \
         with the `error` per file; failed files stay in the inbox.",
    )
    .kind(Kind::Choice)
    .values(&["yes", "no"])
    .default("no"),
];

const FTP_ANSWER: &[Field] = &[
    super::contributor::TOKEN,
    Field::group(
        "ftp",
        "The page of files in your inbox.",
        &[
            Field::attr(
                "total",
                FieldType::Integer,
                "How many files the inbox holds.",
            ),
            Field::attr("items", FieldType::Integer, "How many are on this page."),
            Field::element("filename", FieldType::Text, "One file's name.").repeated(),
        ],
    )
    .when("without `process=yes`"),
    Field::group(
        "queue",
        "The page of files, each imported or refused.",
        &[
            Field::attr(
                "total",
                FieldType::Integer,
                "How many files the inbox held.",
            ),
            Field::attr("items", FieldType::Integer, "How many are on this page."),
            Field::element("filename", FieldType::Text, "One file's name, as its text.")
                .fields(&[
                    Field::attr(
                        "stat",
                        FieldType::Text,
                        "`ok` (imported) or `fail` (left there).",
                    ),
                    Field::attr("id-media", FieldType::Integer, "Your new item.")
                        .when("`stat=\"ok\"`"),
                    Field::attr("error", FieldType::Text, "Why the file was refused.")
                        .when("`stat=\"fail\"`"),
                ])
                .repeated(),
        ],
    )
    .when("`process=yes`"),
];

pub fn methods() -> Vec<Method> {
    vec![Method::new(
        "get-user-ftp-list",
        Area::Contributor,
        "Lists the files in your upload inbox, or imports them as your new media.",
        "The inbox is a folder per user that the operator's FTP/SFTP server (or \
            `panthera media inbox`) fills. Files are listed in file name order; hidden files, \
            folders and links are not. With `process=yes` each listed JPEG becomes your new \
            item in its own transaction and leaves the inbox once imported; a file that is not \
            a JPEG, too large (`media.inbox_max_file_bytes`) or named like one of your media \
            gets `stat=\"fail\"` with the reason and stays where it is.",
        ftp_list,
    )
    .params(PARAMS)
    .user(UserAuth::Required)
    .mutating()
    .errors(&[ErrorDoc {
        code: 401,
        meaning: "no signed-in user",
    }])
    .sample(&[("limit", "10")])
    .answer(FTP_ANSWER)]
}

fn ftp_list(ctx: &Ctx<'_>) -> Result<Answer, ApiError> {
    let account = ctx.account.ok_or(TokenRefusal::Missing)?;
    let config = &ctx.state.config;
    let dir = inbox::user_dir(config, &account.user.id)
        .ok_or_else(|| ApiError::Internal("a user id unfit for a folder name".into()))?;
    let all = inbox::list(&dir).map_err(|e| {
        tracing::error!(error = %e, dir = %dir.display(), "reading an upload inbox failed");
        ApiError::Unavailable
    })?;
    let offset = usize::try_from(ctx.args.int("offset").unwrap_or(0)).unwrap_or(0);
    let limit = usize::try_from(ctx.args.int("limit").unwrap_or(50)).unwrap_or(50);
    let page: Vec<&inbox::Entry> = all.iter().skip(offset).take(limit).collect();
    let mut out = Vec::new();
    if let Some(token) = &account.token {
        out.push(Node::leaf("token", token.token.clone()));
    }
    if ctx.args.get("process") == Some("yes") {
        let now = ctx.state.clock.now();
        let files = page.iter().map(|entry| {
            let n = Node::new("filename");
            let n = match inbox::process(&ctx.state.store, config, &account.user, &dir, entry, now)
            {
                Outcome::Imported(id) => n.attr("stat", "ok").attr("id-media", id),
                Outcome::Failed(why) => n.attr("stat", "fail").attr("error", why),
            };
            n.cdata(entry.name.clone())
        });
        out.push(
            Node::new("queue")
                .attr("total", all.len())
                .attr("items", page.len())
                .children(files.collect::<Vec<_>>()),
        );
    } else {
        out.push(
            Node::new("ftp")
                .attr("total", all.len())
                .attr("items", page.len())
                .children(
                    page.iter()
                        .map(|e| Node::new("filename").cdata(e.name.clone())),
                ),
        );
    }
    Ok(Answer::new(out))
}
