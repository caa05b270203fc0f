//! API key scope lists as a client sends them. Never a panic; whatever is
//! accepted is sorted, without duplicates, and each scope parses back from
//! its own name.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roster_core::scope::Scope;

fuzz_target!(|input: &str| {
    let raw: Vec<&str> = input
        .split(|c: char| c == ',' || c.is_whitespace())
        .collect();
    if let Ok(scopes) = Scope::parse_list(&raw) {
        assert!(!scopes.is_empty());
        assert!(scopes.windows(2).all(|pair| pair[0] < pair[1]));
        for scope in scopes {
            assert_eq!(Scope::parse(scope.as_str()).ok(), Some(scope));
        }
    }
});
