//! How a credential is read out of a header value: `Authorization: Bearer
//! <token>` and the Organization API's `apikey: <key>` or `apikey: apikey
//! <key>`. Plain string functions, so every surface shares them and the
//! fuzzer can reach them (`fuzz/fuzz_targets/credentials.rs`).

/// The token of an `Authorization` value with the `Bearer` scheme (any
/// case), trimmed; `None` for another scheme or an empty token.
pub fn bearer_credential(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The key of an `apikey` header value: the whole value, or what follows an
/// `apikey ` prefix (any case), trimmed; `None` when empty.
pub fn apikey_credential(value: &str) -> Option<&str> {
    let value = value.trim();
    let key = match value.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("apikey") => rest.trim(),
        _ => value,
    };
    (!key.is_empty()).then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_values_answer_their_token() {
        assert_eq!(bearer_credential("Bearer abc"), Some("abc"));
        assert_eq!(bearer_credential("  bearer   abc  "), Some("abc"));
        assert_eq!(bearer_credential("Basic abc"), None);
        assert_eq!(bearer_credential("Bearer "), None);
        assert_eq!(bearer_credential("Bearer"), None);
    }

    #[test]
    fn apikey_values_answer_the_key_with_or_without_the_prefix() {
        assert_eq!(apikey_credential("rsk_123"), Some("rsk_123"));
        assert_eq!(apikey_credential("apikey rsk_123"), Some("rsk_123"));
        assert_eq!(apikey_credential("APIKEY  rsk_123 "), Some("rsk_123"));
        assert_eq!(apikey_credential("   "), None);
        assert_eq!(apikey_credential("apikey "), Some("apikey"));
    }
}
