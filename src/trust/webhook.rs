//! Webhook signatures: the `Merchant-Signature` header (WH-01 … WH-05).
//!
//! A merchant POSTs order events to the agent platform's webhook receiver and signs each
//! request with a shared secret (WH-01). The header value is
//!
//! ```text
//! Merchant-Signature: t=<unix seconds>,v1=<64 hex digits>
//! ```
//!
//! where `v1 = hex(HMAC-SHA256(secret, t + "." + raw_body))` (WH-02, WH-03). The MAC covers the
//! **raw body bytes exactly as received**, never a re-serialized JSON value, and the timestamp
//! digits exactly as they appear in the header.
//!
//! - Senders call [`sign`] (or [`MerchantSignature::compute`]) and put the result in the header.
//! - Receivers build a [`WebhookVerifier`] from one or more [`WebhookSecret`]s and call
//!   [`WebhookVerifier::verify`] with the header value, the raw body and the current time. The
//!   result is a [`VerifiedWebhook`] proof; only after that does
//!   [`VerifiedWebhook::parse`] turn the body into a typed event.
//! - Every failure is a [`WebhookError`]. They all map to HTTP 401 with the ACP error body
//!   `{"type":"invalid_request","code":"invalid_signature","message":…}` (WH-05), see
//!   [`WebhookError::http_status`] and `AcpError::from` ([`crate::protocol::error::AcpError`]).
//!
//! # Parsing rules
//!
//! The 2026-04-17 `openapi.agentic_checkout_webhook.yaml` gives the pattern `^t=\d+,v1=[a-fA-F0-9]{64}$`. This module
//! accepts every header that pattern accepts, and, to support secret rotation the way Stripe
//! does, a little more:
//!
//! - The value is a comma-separated list of `key=value` elements, in any order. Exactly one
//!   `t` element is required; a second one is malformed.
//! - One or more `v1` elements are accepted (the spec pattern allows exactly one; a sender that
//!   is rotating secrets may send one signature per secret). Verification succeeds when any
//!   `v1` matches under any configured secret. Every `v1` value must be exactly 64 hexadecimal
//!   digits, upper or lower case; anything else (empty, 63 or 65 digits, non-hex) makes the
//!   whole header malformed, so a short or empty signature can never match.
//! - Elements with other keys (`v0=…`, future schemes) are ignored, but must still have the
//!   `key=value` shape.
//! - Leading and trailing spaces and tabs around the whole value are trimmed, because HTTP
//!   itself does not treat them as part of a field value (RFC 9110 §5.5). **No other
//!   whitespace is allowed**: `t=1, v1=…` is malformed, as the spec pattern says. Only visible
//!   ASCII characters are allowed; empty elements (`,,`, a trailing comma) are malformed.
//! - `t` is one or more ASCII digits (leading zeros allowed, as in `\d+`) whose value fits in a
//!   `u64`; a larger value is malformed. The MAC is computed over the digits as sent.
//!
//! # Timestamp tolerance
//!
//! Freshness is checked with the same [`VerificationPolicy`] as request signatures (WH-04,
//! SIG-05): a past and a future tolerance, both **inclusive**, in whole seconds here (`now` is
//! truncated to whole seconds). The default accepts `t` from `now - 300` (the spec's
//! recommended 300 s) to `now + 60` (clock drift only: a sender cannot sign from the
//! future); `t = now - 301` and `t = now + 61` are [`WebhookError::Stale`]. Tolerances are
//! capped at [`VerificationPolicy::MAX_TOLERANCE`] (one hour), so the check cannot be switched
//! off by a huge window; a larger one is a [`PolicyError`](crate::trust::PolicyError). The difference is computed in
//! 128-bit arithmetic, so no timestamp can overflow.
//!
//! Signing and verifying both take the time as a [`time::OffsetDateTime`].
//!
//! # Security
//!
//! - MACs are compared with [`hmac::Mac::verify_slice`] (constant time) on the full 32 decoded
//!   bytes. Every (secret, `v1`) pair is tried, with no early exit, and errors never say which
//!   secret or how much of a signature matched.
//! - The checks run in a fixed order: missing, then malformed, then stale, then mismatch. The
//!   timestamp is checked before any MAC, so a stale header costs no HMAC work.
//! - [`WebhookSecret`] has a redacted `Debug` and no `Display`, `Serialize` or `PartialEq`.
//!
//! # Example
//!
//! ```
//! use agentic_commerce::trust::webhook::{self, WebhookSecret, WebhookVerifier};
//! use time::OffsetDateTime;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let secret = WebhookSecret::new("whsec_test_secret")?; // at least 16 bytes
//! let body = br#"{"type":"order_update","data":{"type":"order"}}"#;
//!
//! // Merchant side.
//! let signed_at = OffsetDateTime::from_unix_timestamp(1_709_123_456)?;
//! let header = webhook::sign(&secret, signed_at, body)?;
//!
//! // Receiver side.
//! let verifier = WebhookVerifier::new(secret);
//! let now = OffsetDateTime::from_unix_timestamp(1_709_123_500)?;
//! let verified = verifier.verify(Some(&header), body, now)?;
//! let event: serde_json::Value = verified.parse()?;
//! assert_eq!(event["type"], "order_update");
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::str::FromStr;

use hmac::{Hmac, Mac as _};
use serde::de::DeserializeOwned;
use sha2::Sha256;
use time::{Duration, OffsetDateTime};

pub use crate::trust::signature::VerificationPolicy;

type HmacSha256 = Hmac<Sha256>;

/// The HTTP header that carries the webhook signature (WH-01).
pub const HEADER_NAME: &str = "Merchant-Signature";

/// The length in bytes of a decoded `v1` signature (HMAC-SHA256 output).
pub const SIGNATURE_LEN: usize = 32;

/// A shared webhook signing secret.
///
/// The secret's bytes are used as the HMAC key exactly as given: a `whsec_` prefix is part of
/// the key and nothing is base64-decoded (this is what Stripe-style `t=…,v1=…` signers do).
///
/// The type has a redacted `Debug` and deliberately no `Display`, `Serialize` or `PartialEq`,
/// so the secret cannot end up in logs or be compared in variable time by accident.
#[derive(Clone)]
pub struct WebhookSecret {
    key: Box<[u8]>,
    /// HMAC-SHA256 already keyed with `key`; cloned for each MAC.
    keyed: HmacSha256,
}

impl WebhookSecret {
    /// The shortest secret accepted: 16 bytes (128 bits). There is no upper limit and no format
    /// requirement, so a secret issued by another platform (`whsec_…` or not) still works.
    pub const MIN_LEN: usize = 16;

    /// Wraps a secret (a string or raw bytes).
    ///
    /// # Errors
    ///
    /// [`InvalidSecretError`] if the secret is shorter than [`Self::MIN_LEN`] bytes: HMAC
    /// accepts any key, but a shorter shared secret can be guessed.
    pub fn new(secret: impl Into<Vec<u8>>) -> Result<Self, InvalidSecretError> {
        let key = secret.into().into_boxed_slice();
        if key.len() < Self::MIN_LEN {
            return Err(InvalidSecretError);
        }
        // HMAC accepts keys of every length, so this error branch is unreachable in practice.
        let keyed = HmacSha256::new_from_slice(&key).map_err(|_| InvalidSecretError)?;
        Ok(Self { key, keyed })
    }

    /// The raw key bytes.
    ///
    /// # Security Warning
    ///
    /// This exposes the secret. Do not log it, print it or compare it with `==`.
    pub fn expose_secret(&self) -> &[u8] {
        &self.key
    }

    /// A MAC keyed with this secret and already fed `t + "."` (WH-03).
    fn mac_for(&self, timestamp_digits: &str) -> HmacSha256 {
        let mut mac = self.keyed.clone();
        mac.update(timestamp_digits.as_bytes());
        mac.update(b".");
        mac
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret([REDACTED])")
    }
}

/// The error from [`WebhookSecret::new`] for a secret shorter than [`WebhookSecret::MIN_LEN`]
/// bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("webhook secret is shorter than 16 bytes (128 bits)")]
pub struct InvalidSecretError;

/// The error from [`sign`] and [`MerchantSignature::compute`] for a signing time before
/// 1970-01-01T00:00:00Z, which `t=<unix seconds>` cannot express.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("webhook signing time is before the Unix epoch")]
pub struct PreEpochTimestampError;

/// Signs a webhook body and returns the `Merchant-Signature` header value
/// `t=<timestamp>,v1=<64 lowercase hex>` (WH-02, WH-03).
///
/// `timestamp` is the signing time (normally now; `t` is its whole Unix seconds); `body` is the
/// exact bytes that will be sent.
///
/// # Errors
///
/// [`PreEpochTimestampError`] if `timestamp` is before the Unix epoch.
pub fn sign(
    secret: &WebhookSecret,
    timestamp: OffsetDateTime,
    body: &[u8],
) -> Result<String, PreEpochTimestampError> {
    MerchantSignature::compute(secret, timestamp, body).map(|signature| signature.to_string())
}

/// A parsed `Merchant-Signature` header value.
///
/// [`FromStr`] applies the parsing rules in the [module docs](self); [`Display`](fmt::Display)
/// writes `t=<digits>,v1=<hex>[,v1=<hex>…]` with lowercase hex, keeping the timestamp digits as
/// parsed (so a parsed header displays as it was received, except for hex case, ignored
/// unknown elements and element order).
///
/// Parsing only checks the shape; use [`WebhookVerifier`] to check the signature.
#[derive(Clone, PartialEq, Eq)]
pub struct MerchantSignature {
    timestamp: u64,
    timestamp_digits: String,
    signatures: Vec<[u8; SIGNATURE_LEN]>,
}

impl MerchantSignature {
    /// Computes the header for `body` signed with `secret` at `timestamp` (`t` is its whole
    /// Unix seconds).
    ///
    /// # Errors
    ///
    /// [`PreEpochTimestampError`] if `timestamp` is before the Unix epoch.
    pub fn compute(
        secret: &WebhookSecret,
        timestamp: OffsetDateTime,
        body: &[u8],
    ) -> Result<Self, PreEpochTimestampError> {
        let timestamp =
            u64::try_from(timestamp.unix_timestamp()).map_err(|_| PreEpochTimestampError)?;
        let timestamp_digits = timestamp.to_string();
        let mut mac = secret.mac_for(&timestamp_digits);
        mac.update(body);
        let tag: [u8; SIGNATURE_LEN] = mac.finalize().into_bytes().into();
        Ok(Self {
            timestamp,
            timestamp_digits,
            signatures: vec![tag],
        })
    }

    /// The header's timestamp `t` as sent, in Unix seconds (it may be beyond the calendar
    /// range of [`OffsetDateTime`]; such a header is never fresh).
    pub fn timestamp(&self) -> u64 {
        self.timestamp
    }

    /// The decoded `v1` signatures, in header order (at least one).
    pub fn signatures(&self) -> &[[u8; SIGNATURE_LEN]] {
        &self.signatures
    }

    /// Adds another `v1` signature (for a sender signing with several secrets during a
    /// rotation), computed over the same timestamp and body.
    #[must_use]
    pub fn with_additional_secret(mut self, secret: &WebhookSecret, body: &[u8]) -> Self {
        let mut mac = secret.mac_for(&self.timestamp_digits);
        mac.update(body);
        self.signatures.push(mac.finalize().into_bytes().into());
        self
    }
}

/// Whether any of `signatures` is a valid MAC of `t + "." + body` under any of `secrets`.
///
/// Every pair is compared in constant time and none is skipped once a match is found.
fn matches(
    secrets: &[WebhookSecret],
    timestamp_digits: &str,
    body: &[u8],
    signatures: &[[u8; SIGNATURE_LEN]],
    more_signatures: &[[u8; SIGNATURE_LEN]],
) -> bool {
    let mut matched = false;
    for secret in secrets {
        let mut mac = secret.mac_for(timestamp_digits);
        mac.update(body);
        for signature in signatures.iter().chain(more_signatures) {
            matched |= mac.clone().verify_slice(signature).is_ok();
        }
    }
    matched
}

impl fmt::Debug for MerchantSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MerchantSignature")
            .field("timestamp", &self.timestamp_digits)
            .field("v1_count", &self.signatures.len())
            .finish_non_exhaustive()
    }
}

impl fmt::Display for MerchantSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t={}", self.timestamp_digits)?;
        for signature in &self.signatures {
            f.write_str(",v1=")?;
            let mut digits = [0_u8; 2 * SIGNATURE_LEN];
            hex::encode_to_slice(signature, &mut digits).map_err(|_| fmt::Error)?;
            f.write_str(std::str::from_utf8(&digits).map_err(|_| fmt::Error)?)?;
        }
        Ok(())
    }
}

impl FromStr for MerchantSignature {
    type Err = WebhookError;

    /// Parses a header value; an empty (or all-blank) value is [`WebhookError::Missing`], any
    /// other failure is [`WebhookError::Malformed`].
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let mut signatures = Vec::new();
        let (timestamp, digits) = parse_header(value, |signature| signatures.push(signature))?;
        Ok(Self {
            timestamp,
            timestamp_digits: digits.to_owned(),
            signatures,
        })
    }
}

/// Parses a header value per the [module rules](self), handing each decoded `v1` signature to
/// `on_signature` in header order; returns the timestamp and its digits as sent. An empty (or
/// all-blank) value is [`WebhookError::Missing`], any other failure
/// [`WebhookError::Malformed`]. Shared by [`MerchantSignature::from_str`] and the
/// allocation-free [`WebhookVerifier::verify`].
fn parse_header(
    value: &str,
    mut on_signature: impl FnMut([u8; SIGNATURE_LEN]),
) -> Result<(u64, &str), WebhookError> {
    let value = value.trim_matches([' ', '\t']);
    if value.is_empty() {
        return Err(WebhookError::Missing);
    }
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(malformed(MalformedReason::InvalidCharacter));
    }
    let mut timestamp: Option<(u64, &str)> = None;
    let mut any_signature = false;
    for element in value.split(',') {
        let Some((key, val)) = element.split_once('=') else {
            return Err(malformed(MalformedReason::InvalidElement));
        };
        if key.is_empty() {
            return Err(malformed(MalformedReason::InvalidElement));
        }
        match key {
            "t" => {
                if timestamp.is_some() {
                    return Err(malformed(MalformedReason::DuplicateTimestamp));
                }
                timestamp = Some((parse_timestamp(val)?, val));
            }
            "v1" => {
                on_signature(decode_signature(val)?);
                any_signature = true;
            }
            _ => {}
        }
    }
    let Some(timestamp) = timestamp else {
        return Err(malformed(MalformedReason::MissingTimestamp));
    };
    if !any_signature {
        return Err(malformed(MalformedReason::MissingSignature));
    }
    Ok(timestamp)
}

fn malformed(reason: MalformedReason) -> WebhookError {
    WebhookError::Malformed { reason }
}

fn parse_timestamp(digits: &str) -> Result<u64, WebhookError> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed(MalformedReason::InvalidTimestamp));
    }
    digits
        .parse::<u64>()
        .map_err(|_| malformed(MalformedReason::TimestampOutOfRange))
}

fn decode_signature(hex: &str) -> Result<[u8; SIGNATURE_LEN], WebhookError> {
    let bytes = hex.as_bytes();
    if bytes.len() != 2 * SIGNATURE_LEN {
        return Err(malformed(MalformedReason::InvalidSignatureLength));
    }
    let mut out = [0_u8; SIGNATURE_LEN];
    hex::decode_to_slice(bytes, &mut out)
        .map_err(|_| malformed(MalformedReason::InvalidSignatureHex))?;
    Ok(out)
}

/// How many `v1` signatures [`WebhookVerifier::verify`] keeps on the stack.
const INLINE_SIGNATURES: usize = 4;

/// Verifies `Merchant-Signature` headers against one or more secrets (WH-01, WH-04).
///
/// Holding several secrets supports zero-downtime rotation: configure the new and the old
/// secret until every sender has switched. A verifier always has at least one secret.
#[derive(Debug, Clone)]
pub struct WebhookVerifier {
    secrets: Vec<WebhookSecret>,
    policy: VerificationPolicy,
}

impl WebhookVerifier {
    /// A verifier with one secret and the default [`VerificationPolicy`] (300 s in the past,
    /// 60 s in the future).
    pub fn new(secret: WebhookSecret) -> Self {
        Self {
            secrets: vec![secret],
            policy: VerificationPolicy::default(),
        }
    }

    /// A verifier accepting signatures made with any of `secrets` (secret rotation: the new
    /// secret and the old ones until every sender has switched), with the default policy;
    /// `None` when `secrets` is empty.
    pub fn rotating(secrets: impl IntoIterator<Item = WebhookSecret>) -> Option<Self> {
        let secrets: Vec<WebhookSecret> = secrets.into_iter().collect();
        (!secrets.is_empty()).then(|| Self {
            secrets,
            policy: VerificationPolicy::default(),
        })
    }

    /// Also accepts signatures made with `secret` (secret rotation).
    #[must_use]
    pub fn with_secret(mut self, secret: WebhookSecret) -> Self {
        self.secrets.push(secret);
        self
    }

    /// Sets the clock-skew policy (WH-04), the same type as for request signatures. Its
    /// tolerances are capped at [`VerificationPolicy::MAX_TOLERANCE`]; zero in both directions
    /// accepts only `t == now` (in whole seconds).
    #[must_use]
    pub fn with_policy(self, policy: VerificationPolicy) -> Self {
        Self { policy, ..self }
    }

    /// The clock-skew policy.
    pub fn policy(&self) -> &VerificationPolicy {
        &self.policy
    }

    /// Verifies a webhook request.
    ///
    /// `header` is the `Merchant-Signature` header value (`None` when absent), `body` the raw
    /// request body bytes exactly as received, and `now` the current time. If your framework
    /// exposes header values as bytes, pass `String::from_utf8_lossy(bytes)`: any non-ASCII
    /// byte makes the header [`MalformedReason::InvalidCharacter`].
    ///
    /// # Errors
    ///
    /// In this order: [`WebhookError::Missing`] if the header is absent or blank,
    /// [`WebhookError::Malformed`] if it does not parse, [`WebhookError::Stale`] if `t` is
    /// outside the policy's window, [`WebhookError::Mismatch`] if no `v1` matches under any
    /// secret.
    pub fn verify<'a>(
        &self,
        header: Option<&str>,
        body: &'a [u8],
        now: OffsetDateTime,
    ) -> Result<VerifiedWebhook<'a>, WebhookError> {
        // The header is parsed in place: the first few signatures (one, normally) are kept on
        // the stack, so a verification allocates nothing.
        let mut inline = [[0_u8; SIGNATURE_LEN]; INLINE_SIGNATURES];
        let mut count = 0;
        let mut overflow = Vec::new();
        let (timestamp, digits) =
            parse_header(header.ok_or(WebhookError::Missing)?, |signature| {
                if let Some(slot) = inline.get_mut(count) {
                    *slot = signature;
                    count += 1;
                } else {
                    overflow.push(signature);
                }
            })?;
        // Whole seconds: `now` is truncated, `t` has no fraction. An age beyond `i64` seconds
        // or a `t` beyond the calendar is far outside any policy (capped at one hour).
        let age = i128::from(now.unix_timestamp()) - i128::from(timestamp);
        let signed_at = i64::try_from(age)
            .ok()
            .filter(|&age| self.policy.check_age(Duration::seconds(age)).is_ok())
            .and_then(|_| i64::try_from(timestamp).ok())
            .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
            .ok_or(WebhookError::Stale { timestamp })?;
        let signatures = inline.get(..count).unwrap_or_default();
        if matches(&self.secrets, digits, body, signatures, &overflow) {
            Ok(VerifiedWebhook {
                timestamp: signed_at,
                body,
            })
        } else {
            Err(WebhookError::Mismatch)
        }
    }

    /// [`verify`](Self::verify) with `now` read from the system clock.
    ///
    /// # Errors
    ///
    /// As for [`verify`](Self::verify).
    pub fn verify_now<'a>(
        &self,
        header: Option<&str>,
        body: &'a [u8],
    ) -> Result<VerifiedWebhook<'a>, WebhookError> {
        self.verify(header, body, OffsetDateTime::now_utc())
    }
}

/// Proof that a webhook body was signed with a configured secret within the policy's window.
///
/// Only [`WebhookVerifier::verify`] constructs it. Request handlers can take a
/// `VerifiedWebhook` instead of raw bytes, so an unverified body cannot reach them; the body is
/// parsed into a typed event with [`parse`](Self::parse) only after verification.
#[derive(Clone, Copy)]
pub struct VerifiedWebhook<'a> {
    timestamp: OffsetDateTime,
    body: &'a [u8],
}

impl<'a> VerifiedWebhook<'a> {
    /// The signed timestamp `t` (whole seconds, UTC).
    pub fn timestamp(&self) -> OffsetDateTime {
        self.timestamp
    }

    /// The verified raw body bytes.
    pub fn body(&self) -> &'a [u8] {
        self.body
    }

    /// Parses the verified body as JSON into `T` (for example the typed webhook event).
    ///
    /// # Errors
    ///
    /// [`WebhookBodyError`] with the JSON path of the failing value if the body is not valid
    /// JSON or does not match `T`. This is a bad request (400), not a signature failure.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, WebhookBodyError> {
        let mut deserializer = serde_json::Deserializer::from_slice(self.body);
        let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
            WebhookBodyError {
                path: error.path().to_string(),
                source: error.into_inner(),
            }
        })?;
        deserializer.end().map_err(|source| WebhookBodyError {
            path: String::from("."),
            source,
        })?;
        Ok(value)
    }
}

impl fmt::Debug for VerifiedWebhook<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedWebhook")
            .field("timestamp", &self.timestamp)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// A verified webhook body that is not valid JSON for the requested type.
#[derive(Debug, thiserror::Error)]
#[error("invalid webhook body at {path}: {source}")]
pub struct WebhookBodyError {
    path: String,
    #[source]
    source: serde_json::Error,
}

impl WebhookBodyError {
    /// The path of the failing value (`.` for the document itself, else as
    /// `data.line_items[0].quantity`).
    pub fn path(&self) -> &str {
        &self.path
    }
}

/// Why a `Merchant-Signature` header failed verification (WH-05).
///
/// Every variant is an HTTP 401 with ACP error code `invalid_signature`. The variants tell a
/// missing header from a malformed one, a stale timestamp and a signature mismatch, but never
/// which secret or how much of a signature matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// The header is absent or blank.
    #[error("missing Merchant-Signature header")]
    Missing,
    /// The header does not have the `t=<unix seconds>,v1=<64 hex>` shape.
    #[error("malformed Merchant-Signature header: {reason}")]
    Malformed {
        /// What exactly is wrong.
        reason: MalformedReason,
    },
    /// The timestamp is outside the policy's window (replay or clock skew, WH-04).
    #[error("Merchant-Signature timestamp {timestamp} is outside the allowed window")]
    Stale {
        /// The header's `t`, in Unix seconds.
        timestamp: u64,
    },
    /// No `v1` signature matches the body under any configured secret.
    #[error("webhook signature verification failed")]
    Mismatch,
}

impl WebhookError {
    /// A stable `snake_case` word for the kind: `missing`, `malformed`, `stale` or `mismatch`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Malformed { .. } => "malformed",
            Self::Stale { .. } => "stale",
            Self::Mismatch => "mismatch",
        }
    }

    /// The HTTP status for the response: always 401 (WH-05).
    pub fn http_status(&self) -> u16 {
        401
    }

    /// The message used in the ACP error body; these are the messages of the four 401
    /// examples in the 2026-04-17 `openapi.agentic_checkout_webhook.yaml`.
    pub fn acp_message(&self) -> &'static str {
        match self {
            Self::Missing => "Missing Merchant-Signature header.",
            Self::Malformed { .. } => "Merchant-Signature must be t=<timestamp>,v1=<64_hex>.",
            Self::Stale { .. } => "Timestamp outside allowed window.",
            Self::Mismatch => "Webhook signature verification failed.",
        }
    }
}

/// The specific shape problem behind [`WebhookError::Malformed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MalformedReason {
    /// A character outside visible ASCII (including inner spaces, tabs and non-ASCII).
    #[error("only visible ASCII characters are allowed, without inner whitespace")]
    InvalidCharacter,
    /// An element without `=`, with an empty key, or an empty element.
    #[error("every element must be key=value, separated by single commas")]
    InvalidElement,
    /// No `t` element.
    #[error("missing t=<unix seconds>")]
    MissingTimestamp,
    /// More than one `t` element.
    #[error("more than one t element")]
    DuplicateTimestamp,
    /// `t` is empty or not all ASCII digits.
    #[error("t must be unix seconds in ASCII digits")]
    InvalidTimestamp,
    /// `t` is all digits but larger than `u64::MAX`.
    #[error("t is out of range")]
    TimestampOutOfRange,
    /// No `v1` element.
    #[error("missing v1=<64 hex>")]
    MissingSignature,
    /// A `v1` value that is not exactly 64 characters.
    #[error("v1 must be exactly 64 hexadecimal digits")]
    InvalidSignatureLength,
    /// A `v1` value with a non-hexadecimal character.
    #[error("v1 must contain only hexadecimal digits")]
    InvalidSignatureHex,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> WebhookSecret {
        WebhookSecret::new(s).unwrap()
    }

    #[test]
    fn secret_debug_is_redacted() {
        let s = secret("super-secret-value");
        let debug = format!("{s:?}");
        assert_eq!(debug, "WebhookSecret([REDACTED])");
        let verifier = WebhookVerifier::new(s);
        assert!(!format!("{verifier:?}").contains("super-secret"));
    }

    #[test]
    fn secrets_below_128_bits_are_rejected() {
        assert_eq!(WebhookSecret::new("").unwrap_err(), InvalidSecretError);
        assert_eq!(
            WebhookSecret::new(Vec::new()).unwrap_err(),
            InvalidSecretError
        );
        assert_eq!(
            WebhookSecret::new("0123456789abcde").unwrap_err(),
            InvalidSecretError
        );
        assert!(WebhookSecret::new("0123456789abcdef").is_ok());
        assert!(WebhookSecret::new(vec![0xff_u8; 4096]).is_ok());
    }

    #[test]
    fn signature_hex_takes_either_case_and_nothing_else() {
        let lower = "0123456789abcdef".repeat(4);
        let decoded = decode_signature(&lower).unwrap();
        assert_eq!(
            decoded[..8],
            [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef]
        );
        assert_eq!(decode_signature(&lower.to_uppercase()).unwrap(), decoded);
        for bad in ['g', 'G', ' ', '+'] {
            let mut text = lower.clone();
            text.replace_range(5..6, &bad.to_string());
            assert!(decode_signature(&text).is_err(), "{bad:?}");
        }
        assert!(decode_signature(&lower[..62]).is_err());
    }

    #[test]
    fn a_rotating_verifier_accepts_each_of_its_secrets_and_no_other() {
        assert!(WebhookVerifier::rotating(Vec::new()).is_none());
        let (old, new) = (
            secret("an-old-webhook-secret"),
            secret("the-new-webhook-secret"),
        );
        let verifier = WebhookVerifier::rotating([old.clone(), new.clone()]).unwrap();
        let now = OffsetDateTime::now_utc();
        for key in [&old, &new] {
            let header = sign(key, now, b"{}").unwrap();
            assert!(verifier.verify(Some(&header), b"{}", now).is_ok());
        }
        let other = sign(&secret("a-third-webhook-secret"), now, b"{}").unwrap();
        assert!(verifier.verify(Some(&other), b"{}", now).is_err());
        assert_eq!(verifier.policy(), &VerificationPolicy::default());
    }
}
