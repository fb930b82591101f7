//! Tests that pin canonical-JSON (RFC 8785, `canonical`) details where mutation testing
//! (`.ci/mutants canonical`, see `MUTANTS.md`) found no test.

use agentic_commerce::canonical::canonicalize;

/// The fast scan of a string without escapes must stop at a raw control character even when
/// it is the string's first character, so that the character is rejected (RFC 8259 section 7:
/// U+0000..U+001F must be escaped) rather than copied into the output.
#[test]
fn a_raw_control_character_anywhere_in_a_string_is_rejected() {
    for text in [
        "\"\u{1}\"",
        "\"\u{1f}\"",
        "\"\u{0}abc\"",
        "\"\u{1}\u{1}\"",
        "\"abc\u{1f}\"",
        "{\"\u{9}\":1}",
        "[\"\u{a}\"]",
    ] {
        assert!(
            canonicalize(text.as_bytes()).is_err(),
            "{text:?} has an unescaped control character"
        );
    }
    // Their escaped forms are fine, and a space is not a control character.
    assert_eq!(
        canonicalize(br#"["\u0001"," ","\t"]"#).ok(),
        Some(br#"["\u0001"," ","\t"]"#.to_vec())
    );
}
