//! Driver errors to `DomainError`. Unique and foreign-key violations are
//! `Conflict`s, with a specific code where the violated constraint says
//! what collided; everything else is `Internal`, described by the driver's
//! error code and message only: never the statement's parameters or the
//! failing row, which may hold secrets (password and token hashes).

use roster_core::error::DomainError;

use crate::Backend;

/// A known unique constraint: its PostgreSQL name, how SQLite names it
/// ("UNIQUE constraint failed: <columns>"), and what the core is told.
struct Known {
    postgres: &'static str,
    sqlite: &'static str,
    code: &'static str,
    message: &'static str,
}

const KNOWN: &[Known] = &[
    Known {
        postgres: "users_email_key",
        sqlite: "users.email",
        code: "email_taken",
        message: "an account with this email already exists",
    },
    Known {
        postgres: "users_username_key",
        sqlite: "users.username",
        code: "username_taken",
        message: "this username is taken",
    },
    Known {
        postgres: "invitations_open_email",
        sqlite: "invitations.org_id, invitations.email",
        code: "invitation_exists",
        message: "this address already has an open invitation to the organization",
    },
    Known {
        postgres: "memberships_pkey",
        sqlite: "memberships.org_id, memberships.user_id",
        code: "already_member",
        message: "the user is already a member of the organization",
    },
];

/// A unique violation of the named constraint (`None` when the driver did
/// not say).
pub(crate) fn unique_violation(backend: Backend, constraint: Option<&str>) -> DomainError {
    let known = constraint.and_then(|name| {
        KNOWN.iter().find(|k| match backend {
            Backend::Postgres => k.postgres == name,
            Backend::Sqlite => k.sqlite == name,
        })
    });
    match known {
        Some(k) => DomainError::conflict(k.code, k.message),
        None => DomainError::conflict("conflict", "the record already exists"),
    }
}

pub(crate) fn foreign_key_violation() -> DomainError {
    DomainError::conflict("conflict", "a record it refers to does not exist")
}

pub(crate) fn from_sqlite(err: rusqlite::Error) -> DomainError {
    use rusqlite::ffi;
    if let rusqlite::Error::SqliteFailure(failure, message) = &err {
        match failure.extended_code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                let columns = message
                    .as_deref()
                    .and_then(|m| m.strip_prefix("UNIQUE constraint failed: "));
                return unique_violation(Backend::Sqlite, columns);
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => return foreign_key_violation(),
            _ => {}
        }
    }
    // SQLite's messages name tables, columns and constraints, not values.
    DomainError::Internal(format!("sqlite: {err}"))
}

pub(crate) fn from_postgres(err: postgres::Error) -> DomainError {
    use postgres::error::SqlState;
    if let Some(db) = err.as_db_error() {
        if *db.code() == SqlState::UNIQUE_VIOLATION {
            return unique_violation(Backend::Postgres, db.constraint());
        }
        if *db.code() == SqlState::FOREIGN_KEY_VIOLATION {
            return foreign_key_violation();
        }
        // Not `db.to_string()`: its DETAIL repeats the failing row's values.
        return DomainError::Internal(format!(
            "postgres {} {}: {}",
            db.severity(),
            db.code().code(),
            db.message()
        ));
    }
    // Connection, protocol and conversion errors carry no row values.
    DomainError::Internal(format!("postgres: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_constraints_map_to_their_codes_on_both_backends() {
        let cases = [
            ("users_email_key", "users.email", "email_taken"),
            ("users_username_key", "users.username", "username_taken"),
            (
                "invitations_open_email",
                "invitations.org_id, invitations.email",
                "invitation_exists",
            ),
            (
                "memberships_pkey",
                "memberships.org_id, memberships.user_id",
                "already_member",
            ),
            ("orgs_referral_code_key", "orgs.referral_code", "conflict"),
        ];
        for (pg, lite, code) in cases {
            assert_eq!(unique_violation(Backend::Postgres, Some(pg)).code(), code);
            assert_eq!(unique_violation(Backend::Sqlite, Some(lite)).code(), code);
        }
        assert_eq!(unique_violation(Backend::Sqlite, None).code(), "conflict");
    }
}
