//! The console's stylesheet and script, embedded in the binary and served
//! with a long cache lifetime: their URLs carry a version, so a new build
//! never meets a stale cached copy.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::PageError;
use crate::paths::mount;

const CSS: &str = include_str!("../assets/console.css");
const JS: &str = include_str!("../assets/console.js");

/// Where the stylesheet is served (the version busts caches on upgrade).
pub const CSS_PATH: &str = concat!(
    mount!(),
    "/assets/console-",
    env!("CARGO_PKG_VERSION"),
    ".css"
);
/// Where the script is served.
pub const JS_PATH: &str = concat!(
    mount!(),
    "/assets/console-",
    env!("CARGO_PKG_VERSION"),
    ".js"
);

/// `GET /console/assets/{file}`.
pub async fn serve(Path(file): Path<String>) -> Response {
    let (body, content_type) = if CSS_PATH.ends_with(&format!("/{file}")) {
        (CSS, "text/css; charset=utf-8")
    } else if JS_PATH.ends_with(&format!("/{file}")) {
        (JS, "text/javascript; charset=utf-8")
    } else {
        return PageError::Status(StatusCode::NOT_FOUND, "No such file.".into()).into_response();
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400, immutable"),
            ),
        ],
        body,
    )
        .into_response()
}
