//! Tests for `agentic_commerce::protocol::version` (VER-01..05).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use agentic_commerce::AcpError;
use agentic_commerce::protocol::version::{
    ApiVersion, ApiVersionParseError, VersionError, negotiate,
};
use proptest::prelude::*;
use serde_json::json;

#[test]
fn ver_released_list_is_oldest_first_and_latest_is_newest() {
    let names: Vec<&str> = ApiVersion::RELEASED
        .iter()
        .map(ApiVersion::as_str)
        .collect();
    assert_eq!(
        names,
        [
            "2025-09-29",
            "2025-12-12",
            "2026-01-16",
            "2026-01-30",
            "2026-04-17"
        ]
    );
    assert_eq!(ApiVersion::LATEST, ApiVersion::V2026_04_17);
    assert_eq!(ApiVersion::RELEASED.last(), Some(&ApiVersion::LATEST));
    assert!(ApiVersion::RELEASED.iter().all(ApiVersion::is_released));
}

#[test]
fn ver_unknown_valid_dates_parse_and_are_kept() {
    let v: ApiVersion = "2026-01-22".parse().unwrap();
    assert_eq!(v.as_str(), "2026-01-22");
    assert_eq!(v.to_string(), "2026-01-22");
    assert!(!v.is_released());
    assert!(v > ApiVersion::V2026_01_16 && v < ApiVersion::V2026_01_30);
    let leap: ApiVersion = "2028-02-29".parse().unwrap();
    assert!(!leap.is_released());
}

#[test]
fn ver_rejects_malformed_and_impossible_dates() {
    for bad in [
        "",
        "2026-4-17",
        "2026/04/17",
        "26-04-17",
        "2026-04-17 ",
        " 2026-04-17",
        "2026-04-170",
        "２０２６-04-17",
        "+026-04-17",
        "2026-0a-17",
        "v2026-04-17",
    ] {
        assert_eq!(
            bad.parse::<ApiVersion>(),
            Err(ApiVersionParseError::Format),
            "{bad:?}"
        );
    }
    for bad in [
        "2026-02-29",
        "2026-13-01",
        "2026-00-10",
        "2026-04-31",
        "2026-04-00",
    ] {
        assert!(
            matches!(
                bad.parse::<ApiVersion>(),
                Err(ApiVersionParseError::NotADate(_))
            ),
            "{bad:?}"
        );
    }
}

#[test]
fn ver_serde_is_the_string() {
    let v = ApiVersion::V2026_01_30;
    assert_eq!(serde_json::to_value(&v).unwrap(), json!("2026-01-30"));
    let back: ApiVersion = serde_json::from_value(json!("2026-01-30")).unwrap();
    assert_eq!(back, v);
    let unknown: ApiVersion = serde_json::from_value(json!("2030-01-01")).unwrap();
    assert_eq!(unknown.as_str(), "2030-01-01");
    assert!(serde_json::from_value::<ApiVersion>(json!("2030-02-30")).is_err());
    assert!(serde_json::from_value::<ApiVersion>(json!(20_300_101)).is_err());
}

#[test]
fn ver_02_negotiate_accepts_a_supported_version() {
    let supported = [ApiVersion::V2026_01_30, ApiVersion::V2026_04_17];
    assert_eq!(
        negotiate(&supported, Some("2026-01-30")),
        Ok(ApiVersion::V2026_01_30)
    );
    // Unknown dates may be supported by a server that knows them.
    let future: ApiVersion = "2027-01-01".parse().unwrap();
    assert_eq!(
        negotiate(std::slice::from_ref(&future), Some("2027-01-01")),
        Ok(future)
    );
}

#[test]
fn ver_03_04_missing_header_is_400_missing_api_version() {
    let supported = [
        ApiVersion::V2025_09_29,
        ApiVersion::V2026_04_17,
        ApiVersion::V2026_01_30,
    ];
    let err = negotiate(&supported, None).unwrap_err();
    assert!(matches!(err, VersionError::Missing { .. }));
    assert_eq!(err.status(), 400);
    assert_eq!(
        AcpError::from(&err).to_json(),
        json!({
            "type": "invalid_request",
            "code": "missing_api_version",
            "message": "The API-Version header is required",
            "supported_versions": ["2026-04-17", "2026-01-30", "2025-09-29"],
        })
    );
}

#[test]
fn ver_03_04_05_unsupported_is_400_with_versions_newest_first_deduplicated() {
    let supported = [
        ApiVersion::V2026_01_16,
        ApiVersion::V2026_04_17,
        ApiVersion::V2026_01_16,
        ApiVersion::V2025_12_12,
    ];
    for requested in [
        "2025-09-29",
        "2099-01-01",
        "garbage",
        "2026-02-30",
        "",
        "   ",
        "2026-04- 17",
    ] {
        let err = negotiate(&supported, Some(requested)).unwrap_err();
        assert_eq!(err.status(), 400, "{requested:?}");
        assert_eq!(err.code(), "unsupported_api_version");
        assert_eq!(
            AcpError::from(&err).to_json(),
            json!({
                "type": "invalid_request",
                "code": "unsupported_api_version",
                "message": "The requested API-Version is not supported; see supported_versions",
                "supported_versions": ["2026-04-17", "2026-01-16", "2025-12-12"],
            })
        );
        assert!(matches!(&err, VersionError::Unsupported { requested: r, .. } if r == requested));
    }
}

#[test]
fn ver_surrounding_spaces_and_tabs_are_stripped() {
    let supported = [ApiVersion::V2026_04_17];
    for requested in [
        " 2026-04-17",
        "2026-04-17 ",
        "\t2026-04-17\t ",
        "  2026-04-17  ",
    ] {
        assert_eq!(
            negotiate(&supported, Some(requested)),
            Ok(ApiVersion::V2026_04_17)
        );
    }
    // Other whitespace (newline, no-break space) is not optional whitespace.
    assert!(negotiate(&supported, Some("2026-04-17\n")).is_err());
    assert!(negotiate(&supported, Some("\u{a0}2026-04-17")).is_err());
}

#[test]
fn ver_empty_supported_list_rejects_everything() {
    let err = negotiate(&[], Some("2026-04-17")).unwrap_err();
    assert_eq!(
        AcpError::from(&err).to_json()["supported_versions"],
        json!([])
    );
}

proptest! {
    #[test]
    fn ver_any_real_date_roundtrips_and_orders_like_the_string(
        a in 0_i32..=9999, am in 1_u8..=12, ad in 1_u8..=31,
        b in 0_i32..=9999, bm in 1_u8..=12, bd in 1_u8..=31,
    ) {
        let sa = format!("{a:04}-{am:02}-{ad:02}");
        let sb = format!("{b:04}-{bm:02}-{bd:02}");
        let va = sa.parse::<ApiVersion>();
        let vb = sb.parse::<ApiVersion>();
        let real_a = time::Month::try_from(am).ok().and_then(|m| time::Date::from_calendar_date(a, m, ad).ok()).is_some();
        prop_assert_eq!(va.is_ok(), real_a);
        if let (Ok(va), Ok(vb)) = (va, vb) {
            prop_assert_eq!(va.as_str(), sa.as_str());
            prop_assert_eq!(va.cmp(&vb), sa.cmp(&sb));
            prop_assert_eq!(va.clone(), ApiVersion::from_date(va.date()).unwrap());
        }
    }

    #[test]
    fn ver_negotiate_never_panics(s in "\\PC{0,16}") {
        let _ = negotiate(ApiVersion::RELEASED, Some(&s));
    }
}
