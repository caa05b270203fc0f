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

/// What a visitor reads when the form or the address cannot be read.
fn unreadable(what: &str, detail: String) -> PageError {
    PageError::Status(
        StatusCode::BAD_REQUEST,
        format!("The {what} could not be read: {detail}"),
    )
}

/// A urlencoded form body.
pub struct Form<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Form<T> {
    type Rejection = PageError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Form(value) = axum::Form::<T>::from_request(request, state)
            .await
            .map_err(|rejection| unreadable("form", rejection.body_text()))?;
        Ok(Form(value))
    }
}

/// A query string.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Query(value) =
            axum::extract::Query::<T>::from_request_parts(parts, state)
                .await
                .map_err(|rejection| unreadable("address", rejection.body_text()))?;
        Ok(Query(value))
    }
}

/// Path parameters.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(value) = axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map_err(|_| PageError::no_such_page())?;
        Ok(Path(value))
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

/// The form that creates or edits an org or a project.
#[derive(Debug, serde::Deserialize)]
pub struct NameForm {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

impl NameForm {
    /// The description, where one was given, to create with.
    pub fn optional_description(&self) -> Option<&str> {
        Some(self.description.as_str()).filter(|d| !d.trim().is_empty())
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
