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
impl AuditEventId {
    /// The smallest id after `self` with the same timestamp: an org's
    /// events are numbered under the org's lock, so when two changes commit
    /// within one millisecond (possibly on two servers, whose UUID v7
    /// counters are unrelated) the later one still sorts after the earlier.
    pub fn successor(&self) -> Self {
        // The low 62 bits are random in UUID v7; adding one there leaves
        // the timestamp, version and variant bits as they are.
        let value = self.0.as_u128();
        let random_mask = (1u128 << 62) - 1;
        let next = if value & random_mask == random_mask {
            // Never in practice (a 2^-62 chance); stay ordered anyway by
            // moving into the next millisecond.
            (value & !random_mask) + (1u128 << 80)
        } else {
            value + 1
        };
        Self(Uuid::from_u128(next))
    }
}

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
    fn an_audit_event_successor_sorts_right_after_it_as_text() {
        let id = AuditEventId::new();
        let next = id.successor();
        assert!(id.to_string() < next.to_string());
        assert_eq!(next.as_uuid().get_version_num(), 7);
        assert_eq!(next.as_uuid().get_variant(), uuid::Variant::RFC4122);
    }

    #[test]
    fn later_ids_sort_after_earlier_ones_as_text() {
        let a = UserId::new();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = UserId::new();
        assert!(a.to_string() < b.to_string());
    }
}
