//! Access tokens: arbitrary text never verifies (or panics), and a token
//! we issued stops verifying once any one byte of it changes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use roster_core::crypto::TokenSigner;
use roster_core::ids::{OrgId, SessionId, UserId};

const NOW: i64 = 1_800_000_000;

fuzz_target!(|input: (&str, u16, u8, bool)| {
    let (text, position, flip, scoped) = input;
    let signer = TokenSigner::new(b"a fuzzing key of at least thirty-two bytes");
    assert!(
        signer.verify(text, NOW).is_err(),
        "forged token accepted: {text:?}"
    );

    let org = scoped.then(OrgId::new);
    let token = signer.issue(UserId::new(), SessionId::new(), org, NOW, 900);
    let verified = signer.verify(&token, NOW).expect("a fresh token verifies");
    assert_eq!(verified.org, org);
    assert!(
        signer.verify(&token, NOW + 900).is_err(),
        "an expired token verifies"
    );
    if flip != 0 {
        let mut bytes = token.into_bytes();
        let at = usize::from(position) % bytes.len();
        bytes[at] ^= flip;
        if let Ok(tampered) = String::from_utf8(bytes) {
            assert!(
                signer.verify(&tampered, NOW).is_err(),
                "tampered token accepted: {tampered:?}"
            );
        }
    }
});
