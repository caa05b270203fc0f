//! Page requests as they arrive in a query string: `limit` and `cursor`.
//! Never a panic; an accepted limit is in range; a cursor we encode for a
//! key decodes back to that key (keys are ids, 36 bytes; cursors longer
//! than 200 characters are refused, which leaves room for keys of up to
//! 140 bytes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use roster_core::pagination::{decode_cursor, encode_cursor, PageRequest};

fuzz_target!(|input: &str| {
    let (limit, cursor) = input.split_once('\n').unwrap_or((input, input));
    if let Ok(page) = PageRequest::parse(Some(limit), Some(cursor), PageRequest::MAX_LIMIT) {
        assert!((1..=PageRequest::MAX_LIMIT).contains(&page.limit));
    }
    let _ = decode_cursor(cursor);
    if input.len() <= 140 {
        assert_eq!(
            decode_cursor(&encode_cursor(input)).ok().as_deref(),
            Some(input)
        );
    }
});
