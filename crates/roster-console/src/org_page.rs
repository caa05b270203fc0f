//! What every page and action of one org shares: the ids in its address,
//! read in a fixed order ([`OrgRequest`]), and the loaded org with the
//! caller's role in it ([`OrgPage`]).
//!
//! The order is part of what a visitor sees: a logged-out visitor goes to
//! the login page whatever the address holds; then a malformed org id is
//! "no such organization"; a page loads the org (the core answers 404 to
//! non-members) before the address's other ids are read.

use std::collections::HashMap;
use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{Redirect, Response};
use maud::Markup;
use roster_core::ids::{ApiKeyId, InvitationId, OrgId, ProjectId, UserId};
use roster_core::model::{Org, User};
use roster_core::service::Grant;
use roster_core::{Ctx, DomainError, Roster};

use crate::actions::{Done, Notice};
use crate::error::PageError;
use crate::forms::Path;
use crate::layout::{self, OrgFrame, Section};
use crate::paths::OrgPaths;
use crate::session::Visit;
use crate::ConsoleState;

/// An id in a console address: its name in the route table and what a
/// visitor reads when it names nothing.
pub trait Segment: Sized + Copy + Send + 'static {
    const NAME: &'static str;
    const NO_SUCH: &'static str;
    fn parse_raw(raw: &str) -> Result<Self, DomainError>;

    /// The id in `raw`; a malformed one is a page that does not exist.
    fn segment(raw: &str) -> Result<Self, PageError> {
        Self::parse_raw(raw)
            .map_err(|_| PageError::Status(StatusCode::NOT_FOUND, Self::NO_SUCH.into()))
    }

    /// The id from the address's parameters.
    fn from_params(params: &HashMap<String, String>) -> Result<Self, PageError> {
        Self::segment(
            params
                .get(Self::NAME)
                .map(String::as_str)
                .unwrap_or_default(),
        )
    }
}

macro_rules! segment {
    ($id:ty, $name:literal, $no_such:literal) => {
        impl Segment for $id {
            const NAME: &'static str = $name;
            const NO_SUCH: &'static str = $no_such;
            fn parse_raw(raw: &str) -> Result<Self, DomainError> {
                <$id>::parse(raw)
            }
        }
    };
}

segment!(
    OrgId,
    "org",
    "There is no such organization, or you are not a member of it."
);
segment!(UserId, "user", "There is no such member.");
segment!(ProjectId, "project", "There is no such project.");
segment!(InvitationId, "id", "There is no such invitation.");
segment!(ApiKeyId, "id", "There is no such API key.");

/// The ids of an org's address, read left to right: `OrgId`, or a tuple
/// that starts with it.
pub trait PathIds: Sized + Copy + Send + 'static {
    fn from_params(params: &HashMap<String, String>) -> Result<Self, PageError>;
}

impl PathIds for OrgId {
    fn from_params(params: &HashMap<String, String>) -> Result<Self, PageError> {
        <OrgId as Segment>::from_params(params)
    }
}

impl<B: Segment> PathIds for (OrgId, B) {
    fn from_params(params: &HashMap<String, String>) -> Result<Self, PageError> {
        Ok((
            <OrgId as Segment>::from_params(params)?,
            B::from_params(params)?,
        ))
    }
}

impl<B: Segment, C: Segment> PathIds for (OrgId, B, C) {
    fn from_params(params: &HashMap<String, String>) -> Result<Self, PageError> {
        Ok((
            <OrgId as Segment>::from_params(params)?,
            B::from_params(params)?,
            C::from_params(params)?,
        ))
    }
}

/// A request to one of an org's addresses, its ids not read yet: a page
/// reads them with [`OrgRequest::page`], a form post with
/// [`OrgRequest::act`].
pub struct OrgRequest<Ids> {
    state: ConsoleState,
    visit: Visit,
    params: HashMap<String, String>,
    ids: PhantomData<Ids>,
}

impl<Ids: Send> FromRequestParts<ConsoleState> for OrgRequest<Ids> {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ConsoleState,
    ) -> Result<Self, Self::Rejection> {
        let Path(params) =
            Path::<HashMap<String, String>>::from_request_parts(parts, state).await?;
        let visit = Visit::from_request_parts(parts, state).await?;
        Ok(Self {
            state: state.clone(),
            visit,
            params,
            ids: PhantomData,
        })
    }
}

impl<Ids: PathIds> OrgRequest<Ids> {
    /// Parameter `name` of the address as sent, for the page a logged-out
    /// visitor comes back to.
    pub fn raw(&self, name: &str) -> &str {
        self.params
            .get(name)
            .map(String::as_str)
            .unwrap_or_default()
    }

    /// The org's addresses as sent.
    pub fn paths(&self) -> OrgPaths {
        OrgPaths::new(self.raw(OrgId::NAME))
    }

    /// The org's page and the address's ids; a logged-out visitor goes to
    /// login, then to the page `back_to` picks.
    pub async fn page(
        self,
        back_to: impl FnOnce(&OrgPaths) -> String,
    ) -> Result<(OrgPage, Ids), PageError> {
        let ctx = self.visit.require_login(&back_to(&self.paths()))?;
        let org = <OrgId as Segment>::from_params(&self.params)?;
        let inner = ctx.clone();
        let (user, org, grant) = self.state.run(move |r| r.org_view(&inner, org)).await?;
        let ids = Ids::from_params(&self.params)?;
        let page = OrgPage {
            ctx,
            user,
            org,
            grant,
            visit: self.visit,
            state: self.state,
        };
        Ok((page, ids))
    }

    /// A form post made on the org's page `page`: one core call as the
    /// caller with the address's ids, then back to `page` with `notice`.
    /// A logged-out visitor goes to login, then to `page`.
    pub async fn act<T, F>(
        self,
        page: fn(&OrgPaths) -> String,
        notice: Notice,
        call: F,
    ) -> Result<Redirect, PageError>
    where
        T: Send + 'static,
        F: FnOnce(&Roster, &Ctx, Ids) -> Result<T, DomainError> + Send + 'static,
    {
        self.act_then(page, call, |_, paths, _| notice.at(page(paths)))
            .await
    }

    /// [`OrgRequest::act`] for a post that leads elsewhere: `then` picks
    /// the page and notice from the outcome, the org's addresses and the
    /// ids. A logged-out visitor goes to login, then to the page `back_to`
    /// picks.
    pub async fn act_then<T, F>(
        self,
        back_to: impl FnOnce(&OrgPaths) -> String,
        call: F,
        then: impl FnOnce(T, &OrgPaths, Ids) -> Done,
    ) -> Result<Redirect, PageError>
    where
        T: Send + 'static,
        F: FnOnce(&Roster, &Ctx, Ids) -> Result<T, DomainError> + Send + 'static,
    {
        let ctx = self.visit.require_login(&back_to(&self.paths()))?;
        let ids = Ids::from_params(&self.params)?;
        let org = <OrgId as Segment>::from_params(&self.params)?;
        self.state
            .act(
                move |r| call(r, &ctx, ids),
                |outcome| then(outcome, &OrgPaths::new(org), ids),
            )
            .await
    }
}

/// What every org page needs: the caller, the org and what the caller may
/// do in it (the core answers 404 to non-members), and what it takes to
/// run core calls and render the page.
pub struct OrgPage {
    pub ctx: Ctx,
    pub user: User,
    pub org: Org,
    /// What the caller may do here: pages offer only what it allows.
    pub grant: Grant,
    pub visit: Visit,
    state: ConsoleState,
}

impl OrgPage {
    /// Runs a core call as the caller, in this org.
    pub async fn run<T, F>(&self, f: F) -> Result<T, DomainError>
    where
        T: Send + 'static,
        F: FnOnce(&Roster, &Ctx, OrgId) -> Result<T, DomainError> + Send + 'static,
    {
        let (ctx, org) = (self.ctx.clone(), self.org.id);
        self.state.run(move |r| f(r, &ctx, org)).await
    }

    /// The page under tab `section`, titled `title`.
    pub fn render(&self, section: Section, title: &str, content: Markup) -> Response {
        let frame = OrgFrame {
            org: &self.org,
            grant: &self.grant,
            section,
        };
        layout::page(&self.visit, &self.user, Some(frame), title, content)
    }

    /// The addresses of the org's pages.
    pub fn paths(&self) -> OrgPaths {
        OrgPaths::new(self.org.id)
    }
}
