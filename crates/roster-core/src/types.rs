//! Validated value types: a value of one of these types is valid by
//! construction. Request bodies arrive as plain strings and are converted
//! with `parse`, which answers `DomainError::Invalid` naming the field.

use std::fmt;

use crate::error::DomainError;

/// An email address in one canonical form, so that uniqueness does not
/// depend on a database collation and one mailbox is one account:
/// trimmed, Unicode-normalised (NFKC, so full-width or composed look-alikes
/// fold to one spelling), the local part lowercased, and the domain in its
/// ASCII (IDNA/punycode) form, so `ada@bücher.de` and
/// `ada@xn--bcher-kva.de` are the same address. A local part that mixes
/// scripts (`pаypal` with a Cyrillic `а`) is refused: it exists to pass for
/// another address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        use unicode_normalization::UnicodeNormalization;
        use unicode_security::MixedScript;

        let invalid = |reason: &str| DomainError::invalid("email", reason);
        let normalised: String = raw.trim().nfkc().collect();
        if normalised.is_empty() {
            return Err(invalid("must not be empty"));
        }
        if normalised.chars().count() > 254 {
            return Err(invalid("must be at most 254 characters"));
        }
        let (local, domain) = normalised
            .split_once('@')
            .ok_or_else(|| invalid("must contain @"))?;
        if domain.contains('@') {
            return Err(invalid("must contain exactly one @"));
        }
        let local = local.to_lowercase();
        if local.is_empty() || local.chars().count() > 64 {
            return Err(invalid("has an empty or over-long local part"));
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
        if !local.as_str().is_single_script() {
            return Err(invalid(
                "has a local part that mixes writing systems (scripts)",
            ));
        }
        let domain = Self::ascii_domain(domain).ok_or_else(|| invalid("has an invalid domain"))?;
        let value = format!("{local}@{domain}");
        if value.len() > 254 {
            return Err(invalid("must be at most 254 characters"));
        }
        Ok(Self(value))
    }

    /// The domain in lowercase ASCII (IDNA to-ASCII: Unicode labels become
    /// `xn--` punycode), with hostname rules checked on the result.
    fn ascii_domain(domain: &str) -> Option<String> {
        if domain.is_empty()
            || !domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.')
        {
            return None;
        }
        let ascii = idna::domain_to_ascii(domain).ok()?.to_ascii_lowercase();
        let labels: Vec<&str> = ascii.split('.').collect();
        let label_ok = |l: &&str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        (labels.len() >= 2 && labels.iter().all(label_ok) && ascii.len() <= 253).then_some(ascii)
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

/// Is `raw` a common password? Checked against zxcvbn's dictionary of the
/// 30,000 most common passwords (shipped inside the binary by that crate;
/// MIT licence), including its case, l33t-speak (`p@ssw0rd`) and reversed
/// variants and repetitions of one (`monkeymonkey`), plus plain runs of
/// consecutive characters (`abcdefghijkl`, `987654321098`) and what the
/// estimator guesses within a million tries.
fn is_common_password(raw: &str) -> bool {
    use zxcvbn::matching::patterns::MatchPattern;
    use zxcvbn::matching::Match;

    let lower = raw.to_lowercase();
    let codes: Vec<i64> = lower.chars().map(|c| c as i64).collect();
    let steps: Vec<i64> = codes.windows(2).map(|w| w[1] - w[0]).collect();
    if steps.iter().all(|&s| s == 1) || steps.iter().all(|&s| s == -1) {
        return true;
    }
    fn listed(found: &Match) -> bool {
        match &found.pattern {
            // The crate does not export the name of its dictionary type;
            // its derived `Debug` names the variant.
            MatchPattern::Dictionary(word) => format!("{:?}", word.dictionary_name) == "Passwords",
            MatchPattern::Repeat(repeat) => {
                repeat.base_matches.len() == 1 && listed(&repeat.base_matches[0])
            }
            _ => false,
        }
    }
    // One match covering the whole password: it is a listed password (or
    // a variant of one). And whatever zxcvbn finds in under a million
    // guesses is built from its lists, keyboard walks, runs and repeats
    // (`Password1234`, `qwertyuiop123`): as common, for an attacker.
    let estimate = zxcvbn::zxcvbn(raw, &[]);
    matches!(estimate.sequence(), [only] if listed(only))
        || estimate.guesses_log10() < MIN_GUESSES_LOG10
}

/// A new password must need at least 10^6 guesses by zxcvbn's estimate.
const MIN_GUESSES_LOG10: f64 = 6.0;

impl Password {
    pub const MIN_LEN: usize = 12;
    pub const MAX_LEN: usize = 128;

    /// A password for a new account: 12–128 characters, not one character
    /// repeated, not a common password or a plain run.
    pub fn parse_new(raw: &str) -> Result<Self, DomainError> {
        let n = raw.chars().count();
        if n < Self::MIN_LEN {
            return Err(DomainError::invalid(
                "password",
                "must be at least 12 characters",
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
    pub const ALL: [ResourceStatus; 4] = [
        ResourceStatus::Active,
        ResourceStatus::Suspended,
        ResourceStatus::Archived,
        ResourceStatus::Inactive,
    ];

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
    fn unicode_and_punycode_domains_are_one_address() {
        let unicode = Email::parse("ada@BÜCHER.de").unwrap();
        let punycode = Email::parse("Ada@xn--bcher-kva.DE").unwrap();
        assert_eq!(unicode, punycode);
        assert_eq!(unicode.as_str(), "ada@xn--bcher-kva.de");
    }

    #[test]
    fn emails_are_nfkc_normalised() {
        // Full-width letters and a decomposed é fold to their plain forms.
        assert_eq!(
            Email::parse("\u{ff41}\u{ff44}\u{ff41}@example.com")
                .unwrap()
                .as_str(),
            "ada@example.com"
        );
        assert_eq!(
            Email::parse("re\u{301}my@example.com").unwrap(),
            Email::parse("r\u{e9}my@example.com").unwrap()
        );
    }

    #[test]
    fn mixed_script_local_parts_are_refused() {
        // "paypal" with a Cyrillic а.
        let err = Email::parse("p\u{430}ypal@example.com").unwrap_err();
        assert!(err.to_string().contains("scripts"), "{err}");
        assert!(
            Email::parse("\u{43f}\u{430}\u{432}\u{435}\u{43b}@example.com").is_ok(),
            "one script is fine"
        );
        assert!(
            Email::parse("jos\u{e9}.2024@example.com").is_ok(),
            "Latin with digits and dots is fine"
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
            "a@exa_mple.com",
            "a@xn--.com",
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
        assert!(Password::parse_new("elevenchars").is_err());
        assert!(Password::parse_new("aaaaaaaaaaaaaa").is_err());
        assert!(Password::parse_new(&"ab".repeat(65)).is_err());
        let password = Password::parse_new("correct horse battery").unwrap();
        assert!(!format!("{password:?}").contains("horse"));
    }

    #[test]
    fn common_passwords_and_plain_runs_are_refused() {
        for weak in [
            "password1234",
            "Password1234",
            "qwertyuiop123",
            "1qaz2wsx3edc",
            "abcdefghijkl",
            "987654321098",
            "iloveyou1234",
            "monkeymonkeymonkey",
            "P@ssw0rd1234",
            "123456789012",
            "hunter2hunter2",
        ] {
            assert!(Password::parse_new(weak).is_err(), "{weak} was accepted");
        }
        for fine in [
            "correct horse battery",
            "passwordless sunrise",
            "Tr0ub4dor&3xy",
            "tangerine-orbit-47",
        ] {
            assert!(Password::parse_new(fine).is_ok(), "{fine} was refused");
        }
    }

    #[test]
    fn the_common_password_list_has_at_least_ten_thousand_entries() {
        // Sample deep entries of the shipped list: ranks well past 10,000
        // are still recognised, so the list is the large one.
        for deep in ["1qazxsw2", "qwerty12345"] {
            let listed = zxcvbn::zxcvbn(deep, &[]).sequence().iter().any(|m| {
                matches!(&m.pattern, zxcvbn::matching::patterns::MatchPattern::Dictionary(d)
                    if format!("{:?}", d.dictionary_name) == "Passwords")
            });
            assert!(listed, "{deep} not in the list");
        }
    }
}
