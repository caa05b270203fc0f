//! `Authorization` and `apikey` header values. Never a panic; a credential
//! found is a non-empty, trimmed part of the value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roster_core::credentials::{apikey_credential, bearer_credential};

fuzz_target!(|value: &str| {
    for credential in [bearer_credential(value), apikey_credential(value)]
        .into_iter()
        .flatten()
    {
        assert!(!credential.is_empty());
        assert_eq!(credential, credential.trim());
        assert!(value.contains(credential));
    }
});
