//! Boundaries of canonical JSON (RFC 8785): escapes, surrogates, number formatting edges
//! (pinned where mutation testing, `.ci/mutants canonical`, found no test).

use agentic_commerce::trust::canonical::canonicalize;

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

/// A high surrogate escape followed by another escape that is not `\u` is a lone surrogate
/// (RFC 8785 section 3.2.2.2 rejects them), not a syntax error in what follows: the decoder
/// only reads a second `\uXXXX` when both the backslash and the `u` are there.
#[test]
fn a_high_surrogate_followed_by_another_kind_of_escape_is_a_lone_surrogate() {
    use agentic_commerce::trust::canonical::CanonicalJsonError;
    for text in [r#"["\ud83d\n"]"#, r#"["\ud83d\\"]"#, r#"["\ud83d\"", "x"]"#] {
        assert_eq!(
            canonicalize(text.as_bytes()),
            Err(CanonicalJsonError::LoneSurrogate {
                path: "$[0]".into()
            }),
            "{text}"
        );
    }
    // A low surrogate on its own, and a high one followed by a non-surrogate `\u`.
    for text in [r#"["\udc00"]"#, r#"["\ud83d\u0041"]"#] {
        assert!(
            matches!(
                canonicalize(text.as_bytes()),
                Err(CanonicalJsonError::LoneSurrogate { .. })
            ),
            "{text}"
        );
    }
}

/// ECMA-262 `Number::toString` step 5 (RFC 8785 section 3.2.2.3): when two shortest digit
/// strings are equally close to the double, the even one is printed. Between 10^15 and 2^51
/// doubles are spaced 0.25 apart, so `m + 0.25` lies exactly halfway between `m.2` and `m.3`
/// (even: `m.2`) and `m + 0.75` between `m.7` and `m.8` (even: `m.8`). Rust's `{:e}` rounds
/// these ties up; the crate's digit generation (ryu) must not.
#[test]
fn exact_ties_between_two_shortest_digit_strings_pick_the_even_one() {
    use agentic_commerce::trust::canonical::number_to_string;
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..2_000 {
        // A 16-digit integer below 2^51 (xorshift steps, deterministic).
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let m = 1_000_000_000_000_000 + state % 1_251_799_813_685_248;
        #[allow(clippy::cast_precision_loss)] // m < 2^51: exact
        let base = m as f64;
        for (fraction, digit) in [(0.25, '2'), (0.75, '8')] {
            let x = base + fraction;
            let expected = format!("{m}.{digit}");
            assert_eq!(
                number_to_string(x).as_deref(),
                Some(expected.as_str()),
                "{m} + {fraction}"
            );
            assert_eq!(number_to_string(-x), Some(format!("-{expected}")));
            // And through the text path, from the exact decimal spelling.
            let exact = format!("[{m}.{}]", &fraction.to_string()[2..]);
            assert_eq!(
                canonicalize(exact.as_bytes()).ok(),
                Some(format!("[{expected}]").into_bytes()),
                "{exact}"
            );
        }
    }
}
