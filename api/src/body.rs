//! Request bodies: read up to the configured size and parsed as JSON, with a 400 that says
//! where the JSON is wrong (line, column, field) and a 413 that says what the limit is.

use crate::AppState;
use crate::error::ApiError;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

/// A body as bytes, read up to the configured size (CSV uploads).
#[derive(Debug)]
pub struct RawBody(pub axum::body::Bytes);

impl FromRequest<AppState> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        read(req, &state.limits).await.map(RawBody)
    }
}

/// The body, read whole within `body_read_timeout_ms` and up to `request_body_bytes_max`.
/// While it arrives the request gives back its place and stops its clock
/// ([`crate::observe::Claim`]): a client that sends slowly costs a connection, not a request.
async fn read(req: Request, limits: &crate::Limits) -> Result<axum::body::Bytes, ApiError> {
    let limit = limits.request_body_bytes_max;
    if let Some(length) = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        && length > limit
    {
        return Err(ApiError::TooLarge {
            bytes: length,
            limit,
        });
    }
    let claim = req
        .extensions()
        .get::<std::sync::Arc<crate::observe::Claim>>()
        .cloned();
    if let Some(claim) = &claim {
        claim.lend();
    }
    let timeout = std::time::Duration::from_millis(limits.body_read_timeout_ms);
    // On a timeout the body is dropped half read, and hyper closes the connection once the
    // answer is written: the rest of the body is never waited for.
    let bytes = tokio::time::timeout(timeout, collect(req.into_body(), limit))
        .await
        .map_err(|_| ApiError::BodyTimedOut {
            limit_ms: limits.body_read_timeout_ms,
        })??;
    if let Some(claim) = &claim {
        claim.take_back()?;
    }
    Ok(bytes)
}

/// The body's bytes, refused past `limit`.
async fn collect(mut body: axum::body::Body, limit: usize) -> Result<axum::body::Bytes, ApiError> {
    use axum::body::HttpBody as _;
    let mut bytes = Vec::new();
    while let Some(frame) =
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await
    {
        // The client hung up, or sent a chunked body hyper cannot read.
        let frame = frame.map_err(|e| {
            ApiError::BadRequest(format!("the request body could not be read: {e}"))
        })?;
        if let Ok(data) = frame.into_data() {
            let total = bytes.len().saturating_add(data.len());
            if total > limit {
                return Err(ApiError::TooLarge {
                    bytes: total,
                    limit,
                });
            }
            bytes.extend_from_slice(&data);
        }
    }
    Ok(bytes.into())
}

/// A JSON body of type `T`, and the bytes it came from.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let bytes = read(req, &state.limits).await?;
        let invalid =
            |e: String| ApiError::BadRequest(format!("the request body is not valid: {e}"));
        // RFC 8259 §8.1: a parser may ignore a byte-order mark, and some platforms' HTTP
        // clients (and every Windows text editor) write one.
        let json_bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        let mut json = serde_json::Deserializer::from_slice(json_bytes);
        // The path of the field at fault, so a client is told `seed`, not only a column.
        let value = serde_path_to_error::deserialize(&mut json).map_err(|e| {
            let path = incentive_engine::text::excerpt(&e.path().to_string());
            let inner = json_error(e.inner());
            invalid(if path == "." {
                inner
            } else {
                format!("field `{path}`: {inner}")
            })
        })?;
        json.end().map_err(|e| invalid(json_error(&e)))?;
        Ok(JsonBody(value))
    }
}

/// serde_json's words for what is wrong, with any value it repeats cut short: it quotes a
/// string of the wrong type whole (`invalid type: string "…8 MB…", expected u32`).
pub fn json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    // serde_json ends its message with " at line L column C" when it knows where.
    let place = format!(" at line {} column {}", e.line(), e.column());
    match text.strip_suffix(&place) {
        Some(what) if e.line() > 0 => format!("{}{place}", cut_quoted(what)),
        _ => cut_quoted(&text),
    }
}

/// The message with the value it quotes (between its first and last `"`) cut to an excerpt,
/// keeping what comes after — "expected u32" is the part a client needs.
fn cut_quoted(message: &str) -> String {
    use incentive_engine::text::excerpt;
    match (message.find('"'), message.rfind('"')) {
        (Some(open), Some(close)) if close > open => {
            let (head, rest) = message.split_at(open + 1);
            let (quoted, tail) = rest.split_at(close - open - 1);
            format!("{head}{}{tail}", excerpt(quoted))
        }
        _ => excerpt(message),
    }
}

/// A query string parsed as `T`, with a 400 in the API's own format that says what is wrong.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> axum::extract::FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|q| ApiQuery(q.0))
            .map_err(|e| {
                ApiError::BadRequest(format!("the query string is not valid: {}", e.body_text()))
            })
    }
}

/// A value a client sends as a number or as text (a glucose value, `"LO"`, an HbA1c), kept as
/// the text it was written in. Anything else — an array, an object, `true`, `null` — is refused
/// while the body is parsed, before it is built: a body of 8 MB of `[[],[],…]` would otherwise
/// become hundreds of MB of JSON values only to be rejected, and the rejection would repeat it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar(pub String);

impl<'de> serde::Deserialize<'de> for Scalar {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Scalar;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a number or a string")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Scalar, E> {
                // As serde_json prints a number it has read: the shortest text that reads back
                // as the same f64 (`5.6`, not `5.599999…`).
                Ok(Scalar(
                    serde_json::Number::from_f64(v)
                        .map_or_else(|| v.to_string(), |n| n.to_string()),
                ))
            }
            fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Scalar, E> {
                Ok(Scalar(v))
            }
        }
        d.deserialize_any(Visitor)
    }
}

impl utoipa::PartialSchema for Scalar {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::Number))
            .item(ObjectBuilder::new().schema_type(Type::String))
            .into()
    }
}

impl utoipa::ToSchema for Scalar {}

/// Whether the request's `Content-Type` is one of `types` (its parameters, such as `charset`,
/// aside; compared without regard to case, as media types are).
pub(crate) fn media_type_is(headers: &axum::http::HeaderMap, types: &[&str]) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| types.iter().any(|t| v.trim().eq_ignore_ascii_case(t)))
}
