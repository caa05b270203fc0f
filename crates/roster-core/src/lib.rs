//! Roster's domain core: value types, roles and rules, the storage
//! boundary (`Store`/`Tx`) and the services that run every command and
//! query. It knows no HTTP, no SQL and no email transport.

pub mod authcache;
pub mod credentials;
pub mod crypto;
pub mod error;
pub mod ids;
pub mod mail;
pub mod model;
pub mod pagination;
pub mod ratelimit;
pub mod role;
pub mod scope;
pub mod service;
pub mod store;
pub mod time;
pub mod types;

pub use error::{DomainError, ErrorKind, Result};
pub use service::{CoreConfig, Ctx, Roster, SignupMode};
