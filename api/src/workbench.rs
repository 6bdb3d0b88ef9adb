//! The policy workbench: a page at `/workbench/` that is a client of the public API and nothing
//! more. Its three files are built into the binary (the script from TypeScript under
//! `api/workbench/`, rebuilt and compared by CI), so the page works offline and a fresh clone
//! serves it without Node.js. No route here reads a key or any tenant's data: the page signs in
//! by sending the key the person typed to the `/v1` routes, as any client does.

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

const INDEX_HTML: &str = include_str!("../workbench/index.html");
const STYLE_CSS: &str = include_str!("../workbench/workbench.css");
const SCRIPT_JS: &str = include_str!("../workbench/dist/workbench.js");

/// Only this origin's own files and API: no inline script, nothing from elsewhere, no framing
/// (a page that holds a key must not be clickjacked), no form posted anywhere.
/// Styles may be inline: the editor (CodeMirror) writes its own style element and sizes its
/// gutters with style attributes. A style cannot run script, and script stays `'self'` only.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     connect-src 'self'; img-src 'self' data:; font-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

fn file(content_type: &'static str, body: &'static str) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // The files change with the binary: always ask the server, which answers from memory.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// The page's routes, for the API's router to merge.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            "/workbench",
            get(|| async { Redirect::permanent("/workbench/") }),
        )
        .route(
            "/workbench/",
            get(|| async { file("text/html; charset=utf-8", INDEX_HTML) }),
        )
        .route(
            "/workbench/workbench.css",
            get(|| async { file("text/css; charset=utf-8", STYLE_CSS) }),
        )
        .route(
            "/workbench/workbench.js",
            get(|| async { file("text/javascript; charset=utf-8", SCRIPT_JS) }),
        )
}
