//! Form and query extractors whose refusals are console pages (400 with a
//! message), never axum's plain-text rejections.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use roster_core::pagination::PageRequest;
use roster_core::DomainError;
use serde::de::DeserializeOwned;

use crate::error::PageError;
use crate::session::Visit;

/// A urlencoded form body.
pub struct Form<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Form<T> {
    type Rejection = PageError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Form::<T>::from_request(request, state).await {
            Ok(axum::Form(value)) => Ok(Form(value)),
            Err(rejection) => Err(PageError::Status(
                StatusCode::BAD_REQUEST,
                format!("The form could not be read: {}", rejection.body_text()),
            )),
        }
    }
}

/// A query string.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(rejection) => Err(PageError::Status(
                StatusCode::BAD_REQUEST,
                format!("The address could not be read: {}", rejection.body_text()),
            )),
        }
    }
}

/// Path parameters.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(_) => Err(PageError::Status(
                StatusCode::NOT_FOUND,
                "There is no such page in the console.".to_string(),
            )),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Visit {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Visit>().cloned().ok_or_else(|| {
            PageError::Domain(DomainError::Internal(
                "console session layer missing".into(),
            ))
        })
    }
}

/// `?done=…&cursor=…` and friends, shared by list pages.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ListQuery {
    pub done: Option<String>,
    pub cursor: Option<String>,
    pub q: Option<String>,
}

/// Rows per page of a console table.
const TABLE_ROWS: &str = "50";

/// The page of a console table that starts at `cursor` (from `?cursor=`).
pub fn table_page(cursor: Option<String>) -> Result<PageRequest, DomainError> {
    PageRequest::parse(Some(TABLE_ROWS), cursor.as_deref(), PageRequest::MAX_LIMIT)
}
