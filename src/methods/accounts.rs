//! Account administration (methods.md §C), for api keys with the admin role.
//! The rules and the transactional writes live in [`crate::accounts`]; this
//! file declares the methods and turns accounts into answer trees.

use super::{Area, Ctx, ErrorDoc, Field, FieldType, Kind, Method, Param};
use crate::accounts::{self, Actor, Draft, Edit};
use crate::answer::tree::{Answer, Node};
use crate::error::ApiError;
use crate::protocol::timestamp::Timestamp;
use crate::store::users::User;

const STATUSES: &[&str] = crate::accounts::rules::STATUSES;

/// A method description followed by how every method of this area shows an
/// account (a macro so the result stays a `&'static str` literal).
macro_rules! with_user_shape {
    ($description:literal) => {
        concat!(
            $description,
            " An account is answered as one `user` element whose attributes are `id`, \
             `username`, `email`, `firstname`, `surname`, `company`, `status`, `created_at` and \
             `updated_at` (timestamps like `Thu, 26 Jul 2012 14:53:44 UTC`); in JSON they are the \
             keys of the `user` object. The password is never returned."
        )
    };
}

const ID: Param = Param::new("id", "The account id (`usr_` + 16 hex digits).").required();
const USERNAME: Param = Param::new(
    "username",
    "3 to 32 characters of `a-z`, `0-9`, `_`, `.`, `-`; unique.",
);
const EMAIL: Param = Param::new(
    "email",
    "A valid address (`name@example.com`); unique, compared case-insensitively.",
);
const PASSWORD: Param = Param::new(
    "password",
    "10 to 256 characters mixing at least two of lowercase, uppercase, digits and others. \
     Stored only as an argon2id hash.",
)
.secret();
const STATUS: Param = Param::new("status", "The account status.").values(STATUSES);
const FIRSTNAME: Param = Param::new("firstname", "Up to 100 characters; empty clears it.");
const SURNAME: Param = Param::new("surname", "Up to 100 characters; empty clears it.");
const COMPANY: Param = Param::new("company", "Up to 100 characters; empty clears it.");

const LIST_PARAMS: &[Param] = &[
    Param::new("limit", "Accounts per page.")
        .kind(Kind::Integer { min: 1, max: 100 })
        .default("100"),
    Param::new("offset", "Accounts to skip.")
        .kind(Kind::Integer {
            min: 0,
            max: 1_000_000_000,
        })
        .default("0"),
    Param::new("status", "Only accounts with this status.").values(STATUSES),
];
const GET_PARAMS: &[Param] = &[ID];
const CREATE_PARAMS: &[Param] = &[
    USERNAME.required(),
    EMAIL.required(),
    PASSWORD.required(),
    STATUS.default("active"),
    FIRSTNAME,
    SURNAME,
    COMPANY,
];
const UPDATE_PARAMS: &[Param] = &[
    ID, USERNAME, EMAIL, PASSWORD, STATUS, FIRSTNAME, SURNAME, COMPANY,
];
const DELETE_PARAMS: &[Param] = &[ID];

const NOT_FOUND: ErrorDoc = ErrorDoc {
    code: 404,
    meaning: "no account with this id",
};
const TAKEN: ErrorDoc = ErrorDoc {
    code: 409,
    meaning: "the username or the email (case-insensitively) belongs to another account",
};
const INVALID: ErrorDoc = ErrorDoc {
    code: 422,
    meaning: "a field breaks its rule (malformed email, username, unknown status, weak password, \
              name too long); the message names the field",
};
/// The demo's second account, which the samples read, change and delete.
const SAMPLE_ID: &str = crate::demo::SAMPLE_USER_ID;

/// An account, as every method of this area answers it.
const USER: Field = Field::group(
    "user",
    "The account.",
    &[
        Field::attr(
            "id",
            FieldType::Text,
            "The account id (`usr_` + 16 hex digits).",
        ),
        Field::attr("username", FieldType::Text, "The username."),
        Field::attr("email", FieldType::Text, "The email address."),
        Field::attr(
            "firstname",
            FieldType::Text,
            "The first name (may be empty).",
        ),
        Field::attr("surname", FieldType::Text, "The surname (may be empty)."),
        Field::attr("company", FieldType::Text, "The company (may be empty)."),
        Field::attr("status", FieldType::Text, "The account status."),
        Field::attr("created_at", FieldType::Timestamp, "When it was created."),
        Field::attr("updated_at", FieldType::Timestamp, "When it last changed."),
    ],
);

const USERS_ANSWER: &[Field] = &[Field::group(
    "users",
    "The page of accounts.",
    &[
        Field::attr(
            "total",
            FieldType::Integer,
            "How many accounts match `status`.",
        ),
        Field::attr("limit", FieldType::Integer, "The page size asked."),
        Field::attr("offset", FieldType::Integer, "How many were skipped."),
        USER.repeated(),
    ],
)];

const DELETED_ANSWER: &[Field] = &[Field::group(
    "deleted",
    "The account deleted.",
    &[Field::attr("id", FieldType::Text, "Its id.")],
)];

/// A declaration of this area: admin keys only.
const fn admin_method(
    name: &'static str,
    summary: &'static str,
    description: &'static str,
    handler: super::Handler,
) -> Method {
    Method::new(name, Area::Accounts, summary, description, handler).admin()
}

pub fn methods() -> Vec<Method> {
    vec![
        admin_method(
            "get-users",
            "Lists accounts, oldest first, a page at a time.",
            with_user_shape!("Answers `<users total limit offset>` with one `user` element per account, ordered by \
             creation time then id, so pages are stable. `total` counts every account matching \
             `status`. In JSON, one account on a page is an object and several an array (the \
             protocol's rule). An unknown `status` is 422."),
            get_users,
        )
        .params(LIST_PARAMS)
        .errors(&[INVALID])
        .sample(&[("limit", "10")])
.answer(USERS_ANSWER),
        admin_method(
            "get-user",
            "Shows one account.",
            with_user_shape!("An unknown id is 404."),
            get_user,
        )
        .params(GET_PARAMS)
        .errors(&[NOT_FOUND])
        .sample(&[("id", SAMPLE_ID)])
.answer(&[USER]),
        admin_method(
            "create-user",
            "Creates an account.",
            with_user_shape!("Answers the new account. Every field is checked (422 naming the field), then the \
             username and email must be free (409). The change is written to the audit trail \
             in the same transaction."),
            create_user,
        )
        .params(CREATE_PARAMS)
        .mutating()
        .errors(&[TAKEN, INVALID])
        .sample(&[
                ("username", "jane.doe"),
                ("email", "jane.doe@example.com"),
                ("password", "Correct-Horse-42"),
                ("firstname", "Jane"),
                ("surname", "Doe"),
            ])
.answer(&[USER]),
        admin_method(
            "update-user",
            "Changes fields of an account.",
            with_user_shape!("Only the fields given change; the answer is the account afterwards. When nothing \
             differs, nothing is written (no audit row, `updated_at` kept). The audit trail \
             records which fields changed, never their values."),
            update_user,
        )
        .params(UPDATE_PARAMS)
        .mutating()
        .errors(&[NOT_FOUND, TAKEN, INVALID])
        .sample(&[("id", SAMPLE_ID), ("status", "inactive")])
.answer(&[USER]),
        admin_method(
            "delete-user",
            "Deletes an account.",
            "Answers `<deleted id=\"…\"/>`. The account's sign-ins end with it; api keys it owned \
             stay, without an owner.",
            delete_user,
        )
        .params(DELETE_PARAMS)
        .mutating()
        .errors(&[NOT_FOUND])
        .sample(&[("id", SAMPLE_ID)])
.answer(DELETED_ANSWER),
    ]
}

/// `create-user` as the REST users API (`POST /v1/users`) runs it: the same
/// method and handler, except that the password may be left out (the seed's
/// requests carry none); such an account cannot sign in until one is set.
/// Not registered: the signed `create-user` still requires a password.
pub static CREATE_USER_WITHOUT_PASSWORD: Method = admin_method(
    "create-user",
    "Creates an account (REST: the password is optional).",
    "See create-user.",
    create_user,
)
.params(CREATE_PARAMS_NO_PASSWORD)
.mutating()
.errors(&[TAKEN, INVALID])
.answer(&[USER]);
const CREATE_PARAMS_NO_PASSWORD: &[Param] = &[
    USERNAME.required(),
    EMAIL.required(),
    PASSWORD,
    STATUS.default("active"),
    FIRSTNAME,
    SURNAME,
    COMPANY,
];

/// An account as an answer element; never the password hash.
pub fn user_node(u: &User) -> Node {
    Node::new("user")
        .attr("id", &u.id)
        .attr("username", &u.username)
        .attr("email", &u.email)
        .attr("firstname", &u.firstname)
        .attr("surname", &u.surname)
        .attr("company", &u.company)
        .attr("status", &u.status)
        .attr("created_at", Timestamp::from_unix(u.created_at).format())
        .attr("updated_at", Timestamp::from_unix(u.updated_at).format())
}

impl Ctx<'_> {
    fn actor(&self) -> Actor<'_> {
        Actor {
            name: &self.key.api_key,
            request_id: self.request_id,
            now: self.state.clock.now(),
        }
    }
}

fn get_users(ctx: &Ctx<'_>) -> Result<Answer, ApiError> {
    let a = ctx.args;
    let status = a.get("status");
    if let Some(s) = status {
        crate::accounts::rules::status(s)
            .map_err(|why| ApiError::Unprocessable("status".into(), why.into()))?;
    }
    let (limit, offset) = (a.int("limit").unwrap_or(100), a.int("offset").unwrap_or(0));
    let users = ctx.state.store.users();
    let (total, page) = (users.count(status)?, users.list(status, limit, offset)?);
    Ok(Answer::one(
        Node::new("users")
            .attr("total", total)
            .attr("limit", limit)
            .attr("offset", offset)
            .children(page.iter().map(user_node)),
    ))
}

fn get_user(ctx: &Ctx<'_>) -> Result<Answer, ApiError> {
    let id = ctx.args.get("id").unwrap_or_default();
    Ok(Answer::one(user_node(&accounts::get(
        &ctx.state.store,
        id,
    )?)))
}

fn create_user(ctx: &Ctx<'_>) -> Result<Answer, ApiError> {
    let a = ctx.args;
    let draft = Draft {
        username: a.get("username").unwrap_or_default(),
        email: a.get("email").unwrap_or_default(),
        password: a.get("password"),
        status: a.get("status"),
        firstname: a.get("firstname"),
        surname: a.get("surname"),
        company: a.get("company"),
    };
    accounts::create(&ctx.state.store, &ctx.actor(), &draft, |tx, u| {
        ctx.finish(tx, Answer::one(user_node(u)))
    })
}

fn update_user(ctx: &Ctx<'_>) -> Result<Answer, ApiError> {
    let a = ctx.args;
    let edit = Edit {
        username: a.get("username"),
        email: a.get("email"),
        password: a.get("password"),
        status: a.get("status"),
        firstname: a.get("firstname"),
        surname: a.get("surname"),
        company: a.get("company"),
    };
    let id = a.get("id").unwrap_or_default();
    accounts::update(&ctx.state.store, &ctx.actor(), id, &edit, |tx, u| {
        ctx.finish(tx, Answer::one(user_node(u)))
    })
}

fn delete_user(ctx: &Ctx<'_>) -> Result<Answer, ApiError> {
    let id = ctx.args.get("id").unwrap_or_default();
    accounts::delete(&ctx.state.store, &ctx.actor(), id, |tx| {
        ctx.finish(tx, Answer::one(Node::new("deleted").attr("id", id)))
    })
}
