//! Service methods (methods.md §A): about the host, its languages and its methods.

use super::{Area, Ctx, ErrorDoc, Field, FieldType, Method, Param};
use crate::answer::tree::{Answer, Node};
use crate::error::ApiError;
use crate::protocol::signature::Algo;
use crate::protocol::timestamp::Timestamp;

/// The languages content (titles, keywords) is offered in.
pub const CONTENT_LANGS: &[(&str, &str)] = &[
    ("da", "Danish"),
    ("de", "German"),
    ("en", "English"),
    ("es", "Spanish"),
    ("it", "Italian"),
    ("pl", "Polish"),
    ("pt", "Portuguese"),
];

const METHOD_INFO_PARAMS: &[Param] =
    &[Param::new("method", "The method name, e.g. `host-info`.").required()];

const HOST_INFO_ANSWER: &[Field] = &[
    Field::group(
        "host",
        "The server.",
        &[
            Field::element("name", FieldType::Text, "The server software: `Panthera`."),
            Field::element("version", FieldType::Text, "Its release."),
            Field::group(
                "api_versions",
                "The API versions the server knows.",
                &[Field::group(
                    "version",
                    "One version.",
                    &[
                        Field::attr("id", FieldType::Text, "The version, e.g. `1.2`."),
                        Field::attr(
                            "state",
                            FieldType::Text,
                            "`current`, `deprecated` (redirected to the newest current \
                             version) or `gone` (answered with 410).",
                        ),
                    ],
                )
                .repeated()],
            ),
            Field::element("server_time", FieldType::Timestamp, "The server's clock."),
            Field::group(
                "algos",
                "The accepted signature algorithms.",
                &[
                    Field::element("algo", FieldType::Text, "`sha1`, `sha256` or `sha512`.")
                        .repeated(),
                ],
            ),
            Field::element(
                "timestamp_tolerance",
                FieldType::Integer,
                "How far (seconds) a request's `timestamp` may be from `server_time`.",
            ),
        ],
    ),
    Field::group(
        "app",
        "The calling api key.",
        &[
            Field::element(
                "name",
                FieldType::Text,
                "The name the key was created with.",
            ),
            Field::element("role", FieldType::Text, "`app` or `admin`."),
            Field::element(
                "rate_limit",
                FieldType::Text,
                "The key's quotas, as the `RateLimit-Policy` header writes them.",
            ),
        ],
    ),
];

const CONTENT_LANGS_ANSWER: &[Field] = &[Field::group(
    "languages",
    "The content languages.",
    &[Field::group(
        "lang",
        "One language.",
        &[
            Field::attr(
                "id",
                FieldType::Text,
                "What `lang` parameters take, e.g. `de`.",
            ),
            Field::attr("name", FieldType::Text, "Its English name."),
        ],
    )
    .repeated()],
)];

const METHOD_LIST_ANSWER: &[Field] = &[Field::group(
    "methods",
    "The methods of the requested version, by area then name.",
    &[Field::group(
        "method",
        "One method.",
        &[
            Field::attr("name", FieldType::Text, "The method name."),
            Field::attr(
                "since",
                FieldType::Text,
                "The version its declaration serves since.",
            ),
            Field::attr(
                "user",
                FieldType::Text,
                "User authentication: `required`, `optional` or `not required`.",
            ),
            Field::attr(
                "ssl",
                FieldType::YesNo,
                "Whether it must be called over HTTPS.",
            ),
        ],
    )
    .repeated()],
)];

const METHOD_INFO_ANSWER: &[Field] = &[Field::group(
    "method",
    "The method's description.",
    &[
        Field::attr("name", FieldType::Text, "The method name."),
        Field::attr(
            "since",
            FieldType::Text,
            "The version this declaration serves since.",
        ),
        Field::attr(
            "user",
            FieldType::Text,
            "User authentication: `required`, `optional` or `not required`.",
        ),
        Field::attr(
            "ssl",
            FieldType::YesNo,
            "Whether it must be called over HTTPS.",
        ),
        Field::attr(
            "admin",
            FieldType::YesNo,
            "Whether only admin api keys may call it.",
        ),
        Field::attr(
            "idempotent",
            FieldType::YesNo,
            "Whether it changes state and honours `idempotency_key`.",
        ),
        Field::attr(
            "verbs",
            FieldType::Text,
            "The HTTP verbs, comma-separated: `POST`, `PUT`.",
        ),
        Field::element("summary", FieldType::Text, "One line on what it does."),
        Field::element("description", FieldType::Text, "The longer description."),
        Field::group(
            "params",
            "Its parameters (empty when it has none).",
            &[Field::group(
                "param",
                "One parameter.",
                &[
                    Field::attr("name", FieldType::Text, "The parameter name."),
                    Field::attr(
                        "type",
                        FieldType::Text,
                        "`string`, `integer`, `timestamp`, `list`, `url` or `array`.",
                    ),
                    Field::attr("required", FieldType::YesNo, "Whether it must be given."),
                    Field::attr(
                        "default",
                        FieldType::Text,
                        "The value when it is not given.",
                    )
                    .when("the parameter has a default"),
                    Field::attr("min", FieldType::Integer, "The smallest value.")
                        .when("an integer parameter"),
                    Field::attr("max", FieldType::Integer, "The largest value.")
                        .when("an integer parameter"),
                    Field::attr(
                        "secret",
                        FieldType::YesNo,
                        "`yes`: never echoed nor stored.",
                    )
                    .when("a secret (a password)"),
                    Field::element("value", FieldType::Text, "One possible value.").repeated(),
                    Field::element("description", FieldType::Text, "What it means."),
                ],
            )
            .repeated()],
        ),
        Field::group(
            "errors",
            "The errors it can return, its own first.",
            &[Field::group(
                "error",
                "One error.",
                &[
                    Field::attr("code", FieldType::Integer, "The error code."),
                    Field::attr("meaning", FieldType::Text, "What it means for this method."),
                ],
            )
            .repeated()],
        ),
        Field::group(
            "versions",
            "Every declaration of the method.",
            &[Field::group(
                "version",
                "One declaration.",
                &[
                    Field::attr("since", FieldType::Text, "The first version it serves."),
                    Field::attr(
                        "until",
                        FieldType::Text,
                        "The first version it no longer serves.",
                    )
                    .when("a newer declaration takes over"),
                ],
            )
            .repeated()],
        ),
        Field::group(
            "sample",
            "The sample parameters (empty when it takes none).",
            &[Field::group(
                "param",
                "One sample parameter.",
                &[
                    Field::attr("name", FieldType::Text, "The parameter name."),
                    Field::attr("value", FieldType::Text, "Its sample value."),
                ],
            )
            .repeated()],
        ),
        Field::group(
            "answer",
            "What a successful call answers, field by field, depth first: the \
                Answer table of its documentation page (empty for a method that \
                answers nothing but `stat`).",
            &[
                Field::element("field", FieldType::Text, "What the field holds.")
                    .fields(&[
                        Field::attr(
                            "path",
                            FieldType::Text,
                            "Where it is: elements separated by `/`, an attribute after `@` \
                            (`items/media/@id`).",
                        ),
                        Field::attr(
                            "type",
                            FieldType::Text,
                            "`string`, `integer`, `timestamp`, `url`, `yes/no`, `base64`, or \
                            `element` (attributes and child elements only).",
                        ),
                        Field::attr(
                            "present",
                            FieldType::Text,
                            "When: `always`, `zero or more times`, or the condition.",
                        ),
                    ])
                    .repeated(),
            ],
        ),
    ],
)];

pub fn methods() -> Vec<Method> {
    vec![
        Method::new(
            "host-info",
            Area::Service,
            "Describes the server: software, API versions, time and signing rules.",
            "Use it as the first signed call: it proves the signature works and tells \
                the server's clock, the accepted algos and timestamp tolerance, and the API versions \
                with their state. `app` names the calling api key.",
            host_info,
        )
        .inline()
        .answer(HOST_INFO_ANSWER),
        Method::new(
            "get-user-content-langs",
            Area::Service,
            "Lists the languages of content such as titles and keywords.",
            "Any `lang` parameter of another method takes one of these ids.",
            content_langs,
        )
        .inline()
        .answer(CONTENT_LANGS_ANSWER),
        Method::new(
            "get-method-list",
            Area::Service,
            "Lists the methods of the requested API version.",
            "Each method with the version it exists since, whether it needs a \
                signed-in user, and whether it needs SSL.",
            method_list,
        )
        .inline()
        .answer(METHOD_LIST_ANSWER),
        Method::new(
            "get-method-info",
            Area::Service,
            "Describes one method: parameters, authentication, errors and sample.",
            "The same description its documentation page is made of.",
            method_info,
        )
        .params(METHOD_INFO_PARAMS)
        .errors(&[ErrorDoc {
                code: 404,
                meaning: "no such method in this version",
            }])
        .sample(&[("method", "host-info")])
        .inline()
        .answer(METHOD_INFO_ANSWER),
    ]
}

fn host_info(ctx: &Ctx<'_>) -> Result<Answer, ApiError> {
    let st = ctx.state;
    let table = st.versions.load();
    let versions = table
        .versions
        .iter()
        .map(|(v, s)| Node::new("version").attr("id", v).attr("state", s.as_str()));
    let algos = Algo::ALL.iter().map(|a| Node::leaf("algo", a.as_str()));
    let host = Node::new("host")
        .child(Node::leaf("name", "Panthera"))
        .child(Node::leaf("version", env!("CARGO_PKG_VERSION")))
        .child(Node::new("api_versions").children(versions))
        .child(Node::leaf(
            "server_time",
            Timestamp::from_unix(st.clock.now()).format(),
        ))
        .child(Node::new("algos").children(algos))
        .child(Node::leaf(
            "timestamp_tolerance",
            st.config.auth.timestamp_tolerance_secs.to_string(),
        ));
    let app = Node::new("app")
        .child(Node::leaf("name", ctx.key.name.clone()))
        .child(Node::leaf("role", ctx.key.role.as_str()))
        .child(Node::leaf("rate_limit", st.ops.limiter.describe_default()));
    Ok(Answer::new(vec![host, app]))
}

fn content_langs(_ctx: &Ctx<'_>) -> Result<Answer, ApiError> {
    let langs = CONTENT_LANGS
        .iter()
        .map(|(id, name)| Node::new("lang").attr("id", id).attr("name", name));
    Ok(Answer::one(Node::new("languages").children(langs)))
}

fn method_list(ctx: &Ctx<'_>) -> Result<Answer, ApiError> {
    let methods = ctx
        .state
        .registry
        .in_version(ctx.version)
        .into_iter()
        .map(|m| {
            Node::new("method")
                .attr("name", m.name)
                .attr("since", m.since)
                .attr("user", m.user_auth.as_str())
                .attr("ssl", if m.ssl { "yes" } else { "no" })
        });
    Ok(Answer::one(Node::new("methods").children(methods)))
}

fn method_info(ctx: &Ctx<'_>) -> Result<Answer, ApiError> {
    let name = ctx.args.get("method").unwrap_or_default();
    match ctx.state.registry.lookup(name, ctx.version) {
        super::Lookup::Found(m) => Ok(Answer::one(describe(
            m,
            ctx.state.registry.declarations(m.name),
        ))),
        _ => Err(ApiError::NotFound(format!(
            "no method '{}' in version {}",
            name.chars().take(64).collect::<String>(),
            ctx.version
        ))),
    }
}

/// The description of a method that `get-method-info` answers.
pub fn describe(m: &Method, all_versions: &[&Method]) -> Node {
    let params = m.params.iter().map(|p| {
        let mut n = Node::new("param")
            .attr("name", p.name)
            .attr("type", p.kind.name())
            .attr("required", if p.required { "yes" } else { "no" });
        if let Some(d) = p.default {
            n = n.attr("default", d);
        }
        if let super::Kind::Integer { min, max } = p.kind {
            n = n.attr("min", min).attr("max", max);
        }
        if p.secret {
            n = n.attr("secret", "yes");
        }
        n.children(p.values.iter().map(|v| Node::leaf("value", *v)))
            .child(Node::leaf("description", p.description))
    });
    let errors = m.error_docs().map(|e| {
        Node::new("error")
            .attr("code", e.code)
            .attr("meaning", e.meaning)
    });
    let versions = all_versions.iter().map(|d| {
        let mut n = Node::new("version").attr("since", d.since);
        if let Some(u) = d.until {
            n = n.attr("until", u);
        }
        n
    });
    let sample = m
        .sample_params()
        .into_iter()
        .map(|(k, v)| Node::new("param").attr("name", k).attr("value", v));
    let answer = super::fields::by_path(m.answer)
        .into_iter()
        .map(|(path, f)| {
            Node::leaf("field", f.meaning)
                .attr("path", path)
                .attr("type", f.ty.name())
                .attr("present", f.presence())
        });
    Node::new("method")
        .attr("name", m.name)
        .attr("since", m.since)
        .attr("user", m.user_auth.as_str())
        .attr("ssl", if m.ssl { "yes" } else { "no" })
        .attr("admin", if m.admin { "yes" } else { "no" })
        .attr("idempotent", if m.mutating { "yes" } else { "no" })
        .attr(
            "verbs",
            m.verbs
                .iter()
                .map(|v| match v {
                    super::Verb::Post => "POST",
                    super::Verb::Put => "PUT",
                })
                .collect::<Vec<_>>()
                .join(","),
        )
        .child(Node::leaf("summary", m.summary))
        .child(Node::leaf("description", m.description))
        .child(Node::new("params").children(params))
        .child(Node::new("errors").children(errors))
        .child(Node::new("versions").children(versions))
        .child(Node::new("sample").children(sample))
        .child(Node::new("answer").children(answer))
}
