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
        read(req, state.limits.request_body_bytes_max)
            .await
            .map(RawBody)
    }
}

async fn read(req: Request, limit: usize) -> Result<axum::body::Bytes, ApiError> {
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
    axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|_| ApiError::TooLarge {
            bytes: limit + 1,
            limit,
        })
}

/// A JSON body of type `T`, and the bytes it came from.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let bytes = read(req, state.limits.request_body_bytes_max).await?;
        let invalid =
            |e: String| ApiError::BadRequest(format!("the request body is not valid: {e}"));
        let mut json = serde_json::Deserializer::from_slice(&bytes);
        // The path of the field at fault, so a client is told `seed`, not only a column.
        let value = serde_path_to_error::deserialize(&mut json).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            invalid(if path == "." {
                inner.to_string()
            } else {
                format!("field `{path}`: {inner}")
            })
        })?;
        json.end().map_err(|e| invalid(e.to_string()))?;
        Ok(JsonBody(value))
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
