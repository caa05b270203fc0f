//! Email delivery. Emails are written to the outbox by the core, in the
//! transaction of the change that causes them; this crate's worker sends
//! them through a transport and records each delivery. It knows the store
//! only through the core's `Tx` operations, and no HTTP.

mod transport;
mod worker;

pub use transport::{MailConfig, Transport};
pub use worker::{spawn_worker, MailWaker, RetryPolicy, WorkerHandle};
