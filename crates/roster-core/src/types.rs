//! Validated value types: a value of one of these types is valid by
//! construction. Request bodies arrive as plain strings and are converted
//! with `parse`, which answers `DomainError::Invalid` naming the field.

use std::fmt;

use crate::error::DomainError;

/// An email address, trimmed and case-folded so that uniqueness does not
/// depend on a database collation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let value = raw.trim().to_lowercase();
        let invalid = |reason: &str| DomainError::invalid("email", reason);
        if value.is_empty() {
            return Err(invalid("must not be empty"));
        }
        if value.len() > 254 {
            return Err(invalid("must be at most 254 characters"));
        }
        let (local, domain) = value
            .split_once('@')
            .ok_or_else(|| invalid("must contain @"))?;
        if local.is_empty() || local.len() > 64 {
            return Err(invalid("has an empty or over-long local part"));
        }
        if domain.contains('@') {
            return Err(invalid("must contain exactly one @"));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let label_ok = |l: &&str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        };
        if labels.len() < 2 || !labels.iter().all(label_ok) {
            return Err(invalid("has an invalid domain"));
        }
        let local_ok = local
            .chars()
            .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c))
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..");
        if !local_ok {
            return Err(invalid("has an invalid local part"));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the `@`, used to suggest a username.
    pub fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or_default()
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A username: 2–40 characters of lowercase letters, digits, `.`, `_`, `-`,
/// starting with a letter or digit. Stored lowercased.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let value = raw.trim().to_lowercase();
        let n = value.chars().count();
        if !(2..=40).contains(&n) {
            return Err(DomainError::invalid(
                "username",
                "must be 2 to 40 characters",
            ));
        }
        let valid_chars = value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
        let valid_start = value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric());
        if !valid_chars || !valid_start {
            return Err(DomainError::invalid(
                "username",
                "may contain only letters, digits, '.', '_' and '-', and must start with a letter or digit",
            ));
        }
        Ok(Self(value))
    }

    /// A username derived from an email's local part (never fails: invalid
    /// characters are replaced, short results padded).
    pub fn suggest_from(email: &Email) -> Self {
        let mut value: String = email
            .local_part()
            .to_lowercase()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .take(32)
            .collect();
        if !value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        {
            value.insert(0, 'u');
        }
        while value.chars().count() < 2 {
            value.push('0');
        }
        Self(value)
    }

    /// This username with a suffix, for when the suggestion is taken.
    pub fn with_suffix(&self, suffix: &str) -> Self {
        Self(format!("{}-{}", self.0, suffix))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn bounded_text(
    field: &'static str,
    raw: &str,
    min: usize,
    max: usize,
) -> Result<String, DomainError> {
    let value = raw.trim();
    let n = value.chars().count();
    if n < min {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    if n > max {
        return Err(DomainError::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(DomainError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(value.to_string())
}

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident, $field:literal, $min:expr, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            pub fn parse(raw: &str) -> Result<Self, DomainError> {
                bounded_text($field, raw, $min, $max).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_type!(
    /// An organization's name: 1–100 characters.
    OrgName, "name", 1, 100
);
text_type!(
    /// A project's name: 1–100 characters.
    ProjectName, "name", 1, 100
);
text_type!(
    /// A free description (may be empty, which clears it): up to 1,000 characters.
    Description, "description", 0, 1000
);
text_type!(
    /// A person's display name (may be empty): up to 100 characters.
    PersonName, "name", 0, 100
);
text_type!(
    /// A personal message in an invitation: up to 500 characters.
    InvitationMessage, "message", 0, 500
);

/// A password as typed. Never printed: `Debug` hides it.
#[derive(Clone)]
pub struct Password(String);

/// Passwords of eight characters or more that attackers try first (the
/// shorter ones fail the length rule already), compared case-insensitively.
const COMMON_PASSWORDS: &[&str] = &[
    "password",
    "password1",
    "password12",
    "password123",
    "password1234",
    "password!",
    "passw0rd",
    "p@ssw0rd",
    "p@ssword",
    "p@55w0rd",
    "pa55word",
    "passpass",
    "mypassword",
    "12345678",
    "123456789",
    "1234567890",
    "0123456789",
    "87654321",
    "987654321",
    "0987654321",
    "12341234",
    "123123123",
    "12344321",
    "11223344",
    "123456123456",
    "147258369",
    "159753456",
    "741852963",
    "qwertyuiop",
    "qwertyui",
    "qwerty12",
    "qwerty123",
    "qwerty1234",
    "1q2w3e4r",
    "1q2w3e4r5t",
    "1qaz2wsx",
    "zaq12wsx",
    "q1w2e3r4",
    "q1w2e3r4t5",
    "1234qwer",
    "123qweasd",
    "qweasdzxc",
    "asdfghjkl",
    "asdfasdf",
    "asdf1234",
    "zxcvbnm1",
    "iloveyou",
    "iloveyou1",
    "sunshine",
    "princess",
    "football",
    "baseball",
    "basketball",
    "welcome1",
    "welcome123",
    "letmein1",
    "letmein123",
    "trustno1",
    "superman",
    "batman123",
    "starwars",
    "whatever",
    "dragon123",
    "monkey123",
    "abc12345",
    "abcd1234",
    "abc123456",
    "aa123456",
    "admin123",
    "admin1234",
    "administrator",
    "changeme",
    "changeme123",
    "computer",
    "internet",
    "jordan23",
    "master123",
    "shadow123",
    "mustang1",
    "pokemon1",
    "samsung1",
    "liverpool",
    "chelsea1",
    "secret123",
    "test1234",
    "testtest",
    "default1",
    "login123",
    "hello123",
    "helloworld",
    "freedom1",
    "michael1",
    "charlie1",
    "jennifer",
    "michelle",
    "sunshine1",
    "princess1",
    "football1",
    "iloveyou2",
    "qwertyqwerty",
    "passwordpassword",
    "11111111a",
    "a1234567",
    "a12345678",
    "1234567a",
    "12345678a",
    "roster123",
    "letmeinplease",
];

/// Is `raw` among the common passwords, or a plain run of consecutive
/// characters (`abcdefgh`, `98765432`)?
fn is_common_password(raw: &str) -> bool {
    let lower = raw.to_lowercase();
    if COMMON_PASSWORDS.contains(&lower.as_str()) {
        return true;
    }
    let codes: Vec<i64> = lower.chars().map(|c| c as i64).collect();
    let steps: Vec<i64> = codes.windows(2).map(|w| w[1] - w[0]).collect();
    steps.iter().all(|&s| s == 1) || steps.iter().all(|&s| s == -1)
}

impl Password {
    pub const MIN_LEN: usize = 8;
    pub const MAX_LEN: usize = 128;

    /// A password for a new account: 8–128 characters, not all the same
    /// character.
    pub fn parse_new(raw: &str) -> Result<Self, DomainError> {
        let n = raw.chars().count();
        if n < Self::MIN_LEN {
            return Err(DomainError::invalid(
                "password",
                "must be at least 8 characters",
            ));
        }
        if n > Self::MAX_LEN {
            return Err(DomainError::invalid(
                "password",
                "must be at most 128 characters",
            ));
        }
        let mut chars = raw.chars();
        let first = chars.next();
        if chars.all(|c| Some(c) == first) {
            return Err(DomainError::invalid(
                "password",
                "must not repeat a single character",
            ));
        }
        if is_common_password(raw) {
            return Err(DomainError::invalid(
                "password",
                "is too common: it is among the first passwords an attacker tries",
            ));
        }
        Ok(Self(raw.to_string()))
    }

    /// A password presented at login: only the length bound, so that an
    /// over-long input cannot make hashing expensive.
    pub fn parse_presented(raw: &str) -> Result<Self, DomainError> {
        if raw.is_empty() || raw.chars().count() > Self::MAX_LEN {
            return Err(DomainError::InvalidCredentials);
        }
        Ok(Self(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// Lifecycle state of a user, organization or project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceStatus {
    Active,
    Suspended,
    Archived,
    Inactive,
}

impl ResourceStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            ResourceStatus::Active => "active",
            ResourceStatus::Suspended => "suspended",
            ResourceStatus::Archived => "archived",
            ResourceStatus::Inactive => "inactive",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "active" => Ok(ResourceStatus::Active),
            "suspended" => Ok(ResourceStatus::Suspended),
            "archived" => Ok(ResourceStatus::Archived),
            "inactive" => Ok(ResourceStatus::Inactive),
            _ => Err(DomainError::invalid(
                "status",
                "must be one of active, suspended, archived, inactive",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_case_folded() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
    }

    #[test]
    fn malformed_emails_are_rejected() {
        for bad in [
            "",
            "plain",
            "a@b",
            "@example.com",
            "a@@example.com",
            "a b@example.com",
            "a..b@example.com",
            "a@-x.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn org_names_are_one_to_one_hundred_characters() {
        assert!(OrgName::parse("").is_err());
        assert!(OrgName::parse("   ").is_err());
        assert!(OrgName::parse(&"x".repeat(100)).is_ok());
        assert!(OrgName::parse(&"x".repeat(101)).is_err());
        assert!(
            OrgName::parse(&"é".repeat(100)).is_ok(),
            "counted in characters, not bytes"
        );
    }

    #[test]
    fn usernames_are_lowercased_and_restricted() {
        assert_eq!(Username::parse("Ada.L").unwrap().as_str(), "ada.l");
        assert!(Username::parse("-ada").is_err());
        assert!(Username::parse("a").is_err());
        assert!(Username::parse("ada lovelace").is_err());
    }

    #[test]
    fn suggested_usernames_are_always_valid() {
        for email in ["a@x.io", "+weird+@x.io", "Ada.Lovelace@x.io"] {
            let suggestion = Username::suggest_from(&Email::parse(email).unwrap());
            assert!(Username::parse(suggestion.as_str()).is_ok(), "{suggestion}");
        }
    }

    #[test]
    fn passwords_have_a_length_policy_and_never_print() {
        assert!(Password::parse_new("short").is_err());
        assert!(Password::parse_new("aaaaaaaaaa").is_err());
        assert!(Password::parse_new(&"ab".repeat(65)).is_err());
        let password = Password::parse_new("correct horse").unwrap();
        assert!(!format!("{password:?}").contains("horse"));
    }

    #[test]
    fn common_passwords_and_plain_runs_are_refused() {
        for weak in [
            "password",
            "Password123",
            "P@ssw0rd",
            "12345678",
            "qwertyuiop",
            "abcdefgh",
            "98765432",
            "iloveyou",
        ] {
            assert!(Password::parse_new(weak).is_err(), "{weak} was accepted");
        }
        for fine in [
            "correct horse battery",
            "abcdefgj",
            "passwordless sunrise",
            "12345679",
        ] {
            assert!(Password::parse_new(fine).is_ok(), "{fine} was refused");
        }
    }
}
