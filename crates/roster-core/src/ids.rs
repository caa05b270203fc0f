//! Identifiers. Every id is a UUID v7 (time-ordered, so keyset pagination on
//! the id is also creation order) wrapped in its own type so that an org id
//! can never be passed where a user id is expected.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

use crate::error::DomainError;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// Parses the canonical hyphenated form; anything else is `Invalid`.
            pub fn parse(raw: &str) -> Result<Self, DomainError> {
                Uuid::parse_str(raw.trim())
                    .map(Self)
                    .map_err(|_| DomainError::invalid($field, "must be a UUID"))
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl FromStr for $name {
            type Err = DomainError;
            fn from_str(raw: &str) -> Result<Self, DomainError> {
                Self::parse(raw)
            }
        }
    };
}

id_type!(
    /// A user account.
    UserId, "user_id"
);
id_type!(
    /// An organization.
    OrgId, "org_id"
);
id_type!(
    /// A project inside an organization.
    ProjectId, "project_id"
);
id_type!(
    /// An invitation to an organization.
    InvitationId, "invitation_id"
);
id_type!(
    /// A login session (one refresh-token family).
    SessionId, "session_id"
);
id_type!(
    /// An API key.
    ApiKeyId, "api_key_id"
);
id_type!(
    /// An audit event.
    AuditEventId, "audit_event_id"
);
id_type!(
    /// An email in the outbox.
    OutboxEmailId, "outbox_email_id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_their_text_form() {
        let id = OrgId::new();
        assert_eq!(OrgId::parse(&id.to_string()).unwrap(), id);
    }

    #[test]
    fn malformed_ids_are_invalid_with_the_field_named() {
        let err = UserId::parse("not-a-uuid").unwrap_err();
        assert!(matches!(
            err,
            DomainError::Invalid {
                field: "user_id",
                ..
            }
        ));
    }

    #[test]
    fn later_ids_sort_after_earlier_ones_as_text() {
        let a = UserId::new();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = UserId::new();
        assert!(a.to_string() < b.to_string());
    }
}
