//! Idempotency for ACP write requests (RFC `agentic_checkout` §6, `delegate_payment` §5).
//!
//! Every POST (and the cart PUT) carries an `Idempotency-Key` (IDEM-01). A server must answer a
//! retry with the same key and the same body with the original response instead of running the
//! side effects again, and must refuse the same key with a different body. This module provides
//! the parts that do not depend on storage or I/O:
//!
//! - [`Fingerprint`]: SHA-256 of the RFC 8785 canonical JSON of the body (IDEM-05, IDEM-06), so
//!   key order and whitespace do not matter, `1.0` equals `1`, `null` differs from an absent
//!   member, and array order matters. Extension fields are part of the body and so of the
//!   fingerprint (IDEM-15).
//! - [`IdempotencyScope`]: caller identity + endpoint path + key (IDEM-03).
//! - Pure decision functions [`begin`] and [`complete`] over an [`IdempotencyRecord`], with an
//!   explicit `now` and an [`IdempotencyPolicy`] (retention of at least 24 hours, IDEM-14).
//! - The [`IdempotencyStore`] trait (synchronous, object-safe) and a ready
//!   [`InMemoryIdempotencyStore`] that is correct under concurrent use.
//! - [`IdempotencyRejection`]: the exact ACP error JSON, status and headers for a conflict
//!   (422, IDEM-11) or a request still in flight (409 + `Retry-After`, IDEM-12).
//!
//! # Flow
//!
//! ```
//! use agentic_commerce::protocol::headers::IdempotencyKey;
//! use agentic_commerce::trust::idempotency::{
//!     Fingerprint, IdempotencyOutcome, IdempotencyScope, IdempotencyStore,
//!     InMemoryIdempotencyStore, StoredResponse,
//! };
//! use time::macros::datetime;
//!
//! let store = InMemoryIdempotencyStore::default();
//! let now = datetime!(2026-04-17 10:00 UTC);
//! let key = IdempotencyKey::parse("key-1").unwrap();
//! let scope = IdempotencyScope::new("merchant_42", "/checkout_sessions", key.clone());
//! let body = br#"{"currency":"usd","line_items":[{"id":"item_1"}]}"#;
//! let fingerprint = Fingerprint::of_json(body).unwrap();
//!
//! // First request: run the handler, then record its response.
//! let IdempotencyOutcome::Proceed(lease) = store.begin(&scope, &fingerprint, now).unwrap() else {
//!     panic!("a new key proceeds");
//! };
//! let response = StoredResponse::new(201, br#"{"id":"cs_1"}"#.to_vec(), vec![]);
//! store.complete(&scope, lease, response, now).unwrap();
//!
//! // A retry with the same body replays the stored response (IDEM-08, IDEM-09).
//! match store.begin(&scope, &fingerprint, now).unwrap() {
//!     IdempotencyOutcome::Replay(stored) => {
//!         assert_eq!(stored.status, 201);
//!         assert!(stored
//!             .replay_headers(&key)
//!             .contains(&("Idempotent-Replayed".to_owned(), "true".to_owned())));
//!     }
//!     other => panic!("expected a replay, got {other:?}"),
//! }
//!
//! // The same key with another body is a conflict (IDEM-11).
//! let other = Fingerprint::of_json(br#"{"currency":"eur"}"#).unwrap();
//! let outcome = store.begin(&scope, &other, now).unwrap();
//! let rejection = outcome.rejection().unwrap();
//! assert_eq!(rejection.status(), 422);
//! assert_eq!(agentic_commerce::AcpError::from(rejection).to_json()["code"], "idempotency_conflict");
//! ```
//!
//! # Policy decisions
//!
//! - A different fingerprint is a [`IdempotencyOutcome::Conflict`] even while the first
//!   request is still in flight: the mismatch is permanent, so the non-retryable 422 is the
//!   more useful answer than a 409 that invites a retry.
//! - All non-5xx responses are stored, including 4xx: the request was processed and a retry
//!   must see the same answer (IDEM-08). A 5xx releases the key (IDEM-13).
//! - An in-flight reservation is held for [`IdempotencyPolicy::in_flight_lease`]; after that it
//!   is presumed abandoned (the worker crashed) and a new request with the key proceeds.
//! - Every reservation carries a [`LeaseToken`] (fencing): only the worker holding the current
//!   token can [`complete`](IdempotencyStore::complete) or [`release`](IdempotencyStore::release)
//!   the key. A worker whose lease ran out and was taken over by a retry gets
//!   [`CompleteError::LeaseLost`] and changes nothing, so a late worker can never overwrite or
//!   delete the retry's reservation or response (IDEM-10, IDEM-17).
//! - A conflict is always 422 `idempotency_conflict` (IDEM-11), also for delegate
//!   authentication, whose RFC (§7, IDEM-19) says 409: the checkout and delegate-payment RFCs
//!   state that their idempotency sections take precedence over conflicting rules.
//! - Retention runs from the latest write (reservation or completion); after it a reused key is
//!   a new request (IDEM-14).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::{Mutex, PoisonError};

use sha2::{Digest as _, Sha256};
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

use crate::protocol::headers::{AcpHeader, IdempotencyKey, IdempotentReplayed, RetryAfter};
use crate::trust::PolicyError;
use crate::trust::canonical::{self, CanonicalJsonError};

// ---------------------------------------------------------------------------------------------
// Fingerprint
// ---------------------------------------------------------------------------------------------

/// SHA-256 of the RFC 8785 canonical JSON of a request body (IDEM-05, IDEM-06).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// The fingerprint of bytes that are already canonical (SHA-256 of `canonical`).
    pub fn from_canonical_bytes(canonical: &[u8]) -> Self {
        Self(Sha256::digest(canonical).into())
    }

    /// The fingerprint of a JSON request body: SHA-256 of its RFC 8785 canonical form.
    ///
    /// # Errors
    ///
    /// [`CanonicalJsonError`] if `json` is not valid JSON text or has no canonical form
    /// (duplicate member names, lone surrogates, numbers out of range, nesting too deep), and
    /// [`CanonicalJsonError::InexactNumber`] for a number that would change value in canonical
    /// form ([`canonical::canonicalize_exact`]): `9007199254740993` and `9007199254740992` would
    /// otherwise share a fingerprint while a typed parse reads different amounts.
    pub fn of_json(json: &[u8]) -> Result<Self, CanonicalJsonError> {
        canonical::canonicalize_exact(json).map(|c| Self::from_canonical_bytes(&c))
    }

    /// Like [`of_json`](Self::of_json), but an empty body (zero bytes, as a cancel without a
    /// body sends) has its own fingerprint, SHA-256 of the empty string. No JSON text has an
    /// empty canonical form, so it never equals the fingerprint of any JSON body (in
    /// particular not that of `{}`).
    ///
    /// # Errors
    ///
    /// As [`of_json`](Self::of_json) for a non-empty body.
    pub fn of_body(body: &[u8]) -> Result<Self, CanonicalJsonError> {
        if body.is_empty() {
            Ok(Self::from_canonical_bytes(b""))
        } else {
            Self::of_json(body)
        }
    }

    /// [`of_body`](Self::of_body) of a body already canonicalized (once, for the signature
    /// check too).
    pub fn of_canonical_body(body: &canonical::CanonicalBody<'_>) -> Self {
        Self::from_canonical_bytes(body.canonical())
    }

    /// The fingerprint of a parsed JSON value.
    ///
    /// # Errors
    ///
    /// As [`canonical::canonicalize_value_exact`]: an integer that would change value in
    /// canonical form is [`CanonicalJsonError::InexactNumber`]. Prefer
    /// [`of_body`](Self::of_body) on the raw bytes, which also checks decimals.
    pub fn of_value(value: &serde_json::Value) -> Result<Self, CanonicalJsonError> {
        canonical::canonicalize_value_exact(value).map(|c| Self::from_canonical_bytes(&c))
    }

    /// The 32 digest bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hexadecimal (64 characters).
    pub fn to_hex(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut digits = [0_u8; 64];
        hex::encode_to_slice(self.0, &mut digits).map_err(|_| fmt::Error)?;
        f.write_str(std::str::from_utf8(&digits).map_err(|_| fmt::Error)?)
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// A string that is not 64 hexadecimal digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a fingerprint is 64 hexadecimal digits")]
pub struct FingerprintParseError;

impl FromStr for Fingerprint {
    type Err = FingerprintParseError;

    /// Parses 64 hexadecimal digits (either case), for stores that persist fingerprints as text.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0_u8; 32];
        hex::decode_to_slice(s, &mut out).map_err(|_| FingerprintParseError)?;
        Ok(Self(out))
    }
}

// ---------------------------------------------------------------------------------------------
// Scope, stored response, policy
// ---------------------------------------------------------------------------------------------

/// Where a key is unique: authenticated caller identity + endpoint path + key (IDEM-03).
///
/// The same key used by another caller or on another path is an unrelated request. `path` is
/// the concrete request path (for example `/checkout_sessions/cs_1/complete`), without the
/// query string; `identity` is whatever the server authenticated (account id, API key id…).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IdempotencyScope {
    identity: String,
    path: String,
    key: IdempotencyKey,
}

impl IdempotencyScope {
    /// A scope.
    pub fn new(identity: impl Into<String>, path: impl Into<String>, key: IdempotencyKey) -> Self {
        Self {
            identity: identity.into(),
            path: path.into(),
            key,
        }
    }

    /// The caller identity.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// The endpoint path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The idempotency key.
    pub fn key(&self) -> &IdempotencyKey {
        &self.key
    }
}

/// A response recorded against a key, replayed verbatim to retries (IDEM-08).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoredResponse {
    /// HTTP status code of the original response.
    pub status: u16,
    /// Response body bytes.
    pub body: Vec<u8>,
    /// Response headers worth replaying (for example `Content-Type`, `Location`).
    pub headers: Vec<(String, String)>,
}

impl StoredResponse {
    /// A response.
    pub fn new(status: u16, body: Vec<u8>, headers: Vec<(String, String)>) -> Self {
        Self {
            status,
            body,
            headers,
        }
    }

    /// Whether the status is 5xx (or outside 100–599, which is never a valid response and
    /// is treated the same way): such responses are never stored (IDEM-13).
    pub fn is_server_error(&self) -> bool {
        !(100..500).contains(&self.status)
    }

    /// The headers to send with a replay: the stored headers, minus any stored
    /// `Idempotent-Replayed` or `Idempotency-Key`, followed by `Idempotent-Replayed: true`
    /// (IDEM-09) and the echo of `key` (HDR-04).
    pub fn replay_headers(&self, key: &IdempotencyKey) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .headers
            .iter()
            .filter(|(name, _)| {
                !matches!(
                    AcpHeader::from_name(name),
                    Some(AcpHeader::IdempotentReplayed | AcpHeader::IdempotencyKey)
                )
            })
            .cloned()
            .collect();
        let (name, value) = IdempotentReplayed::header();
        out.push((name.to_owned(), value.to_owned()));
        out.push((
            AcpHeader::IdempotencyKey.as_str().to_owned(),
            key.as_str().to_owned(),
        ));
        out
    }
}

/// How long keys are kept and how in-flight requests are handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdempotencyPolicy {
    retention: Duration,
    in_flight_lease: Duration,
    retry_after: RetryAfter,
}

impl IdempotencyPolicy {
    /// The minimum retention, 24 hours (IDEM-14).
    pub const MIN_RETENTION: Duration = Duration::hours(24);
    /// The default in-flight lease, 5 minutes.
    pub const DEFAULT_IN_FLIGHT_LEASE: Duration = Duration::minutes(5);
    /// The default `Retry-After` for in-flight rejections, 1 second.
    pub const DEFAULT_RETRY_AFTER: RetryAfter = RetryAfter::from_secs(1);

    /// A policy keeping records for `retention`, with the default lease and `Retry-After`.
    ///
    /// # Errors
    ///
    /// [`PolicyError::RetentionTooShort`] below 24 hours.
    pub fn new(retention: Duration) -> Result<Self, PolicyError> {
        if retention < Self::MIN_RETENTION {
            return Err(PolicyError::RetentionTooShort);
        }
        Ok(Self {
            retention,
            in_flight_lease: Self::DEFAULT_IN_FLIGHT_LEASE,
            retry_after: Self::DEFAULT_RETRY_AFTER,
        })
    }

    /// Sets how long an in-flight reservation blocks the key before it is presumed abandoned.
    ///
    /// # Errors
    ///
    /// [`PolicyError::LeaseNotPositive`] for zero or negative durations.
    pub fn with_in_flight_lease(mut self, lease: Duration) -> Result<Self, PolicyError> {
        if !lease.is_positive() {
            return Err(PolicyError::LeaseNotPositive);
        }
        self.in_flight_lease = lease;
        Ok(self)
    }

    /// Sets the `Retry-After` sent with in-flight rejections (IDEM-12).
    #[must_use]
    pub fn with_retry_after(mut self, retry_after: RetryAfter) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// How long records are kept (at least 24 hours).
    pub fn retention(&self) -> Duration {
        self.retention
    }

    /// How long an in-flight reservation is held.
    pub fn in_flight_lease(&self) -> Duration {
        self.in_flight_lease
    }

    /// The `Retry-After` for in-flight rejections.
    pub fn retry_after(&self) -> RetryAfter {
        self.retry_after
    }
}

impl Default for IdempotencyPolicy {
    /// 24 hours retention, 5 minute lease, `Retry-After: 1`.
    fn default() -> Self {
        Self {
            retention: Self::MIN_RETENTION,
            in_flight_lease: Self::DEFAULT_IN_FLIGHT_LEASE,
            retry_after: Self::DEFAULT_RETRY_AFTER,
        }
    }
}

/// `at + d`, saturating at the largest representable instant instead of panicking.
fn add_saturating(at: OffsetDateTime, d: Duration) -> OffsetDateTime {
    at.checked_add(d)
        .unwrap_or_else(|| PrimitiveDateTime::MAX.assume_offset(at.offset()))
}

// ---------------------------------------------------------------------------------------------
// Records and pure decisions
// ---------------------------------------------------------------------------------------------

/// The owner token of one in-flight reservation (a fencing token).
///
/// A store issues a new token with every [`IdempotencyOutcome::Proceed`] and keeps it in the
/// record; [`complete`](fn@complete) and [`release`](fn@release) succeed only with the token of
/// the reservation currently stored. The token must differ from every token the store issued
/// earlier for the same scope; it is not a secret (it never leaves the server), so a counter is
/// enough: [`InMemoryIdempotencyStore`] uses a per-store counter, a database store a sequence.
/// A per-scope counter kept in the record would not be: once a record is deleted (released,
/// 5xx, purged) the count would start again and an old worker's token could match a new
/// reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LeaseToken(u64);

impl LeaseToken {
    /// A token with this value (for stores that issue or load tokens themselves).
    pub const fn new(value: u64) -> Self {
        Self(value)
    }

    /// The token's value (for stores that persist it).
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for LeaseToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "lease-{}", self.0)
    }
}

/// The state of a key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordState {
    /// The first request is being processed.
    InFlight {
        /// When the reservation is presumed abandoned.
        lease_expires_at: OffsetDateTime,
        /// The owner of the reservation: only this token may complete or release it.
        lease: LeaseToken,
    },
    /// The first request finished with this (non-5xx) response.
    Completed {
        /// The response to replay.
        response: StoredResponse,
    },
}

/// What a store keeps per [`IdempotencyScope`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    fingerprint: Fingerprint,
    state: RecordState,
    expires_at: OffsetDateTime,
}

impl IdempotencyRecord {
    /// A record (for stores that load records from their own storage).
    pub fn new(fingerprint: Fingerprint, state: RecordState, expires_at: OffsetDateTime) -> Self {
        Self {
            fingerprint,
            state,
            expires_at,
        }
    }

    /// The fingerprint of the first request's body.
    pub fn fingerprint(&self) -> &Fingerprint {
        &self.fingerprint
    }

    /// In flight or completed.
    pub fn state(&self) -> &RecordState {
        &self.state
    }

    /// When the record stops counting (IDEM-14).
    pub fn expires_at(&self) -> OffsetDateTime {
        self.expires_at
    }

    /// Whether the record no longer affects new requests at `now`: retention is over, or an
    /// in-flight lease has run out.
    pub fn is_stale(&self, now: OffsetDateTime) -> bool {
        now >= self.expires_at
            || matches!(self.state, RecordState::InFlight { lease_expires_at, .. } if now >= lease_expires_at)
    }
}

/// What to do with a request that carries an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdempotencyOutcome {
    /// A new request: run it. The key is now reserved as in flight with this fingerprint and
    /// owned by this token; finish with [`IdempotencyStore::complete`] (or
    /// [`IdempotencyStore::release`]) passing the token.
    Proceed(LeaseToken),
    /// A retry of a completed request with the same body: send this response again with
    /// [`StoredResponse::replay_headers`] and do not run side effects (IDEM-08..10).
    Replay(StoredResponse),
    /// The key was used with a different body: 422 `idempotency_conflict` (IDEM-11).
    Conflict,
    /// The first request with this key is still running: 409 `idempotency_in_flight` with
    /// `Retry-After` (IDEM-12).
    InFlight {
        /// Seconds the client should wait.
        retry_after: RetryAfter,
    },
}

impl IdempotencyOutcome {
    /// The error to send for [`Conflict`](Self::Conflict) and [`InFlight`](Self::InFlight);
    /// `None` for [`Proceed`](Self::Proceed) and [`Replay`](Self::Replay).
    pub fn rejection(&self) -> Option<IdempotencyRejection> {
        match self {
            Self::Conflict => Some(IdempotencyRejection::Conflict),
            Self::InFlight { retry_after } => Some(IdempotencyRejection::InFlight {
                retry_after: *retry_after,
            }),
            Self::Proceed(_) | Self::Replay(_) => None,
        }
    }
}

/// An idempotency error response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdempotencyRejection {
    /// 422 `idempotency_conflict`: same key, different body; not retryable (IDEM-11).
    #[error("Idempotency-Key has already been used with a different request body")]
    Conflict,
    /// 409 `idempotency_in_flight` with `Retry-After` (IDEM-12).
    #[error("a request with this Idempotency-Key is currently being processed")]
    InFlight {
        /// Seconds the client should wait.
        retry_after: RetryAfter,
    },
}

impl IdempotencyRejection {
    /// The HTTP status: 422 or 409.
    pub fn status(&self) -> u16 {
        match self {
            Self::Conflict => 422,
            Self::InFlight { .. } => 409,
        }
    }

    /// The ACP error `type`: `invalid_request`.
    pub fn error_type(&self) -> &'static str {
        "invalid_request"
    }

    /// The ACP error `code`: `idempotency_conflict` or `idempotency_in_flight`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Conflict => "idempotency_conflict",
            Self::InFlight { .. } => "idempotency_in_flight",
        }
    }

    /// The message (the wording of the OAS examples).
    pub fn message(&self) -> &'static str {
        match self {
            Self::Conflict => "Idempotency-Key has already been used with a different request body",
            Self::InFlight { .. } => {
                "A request with this Idempotency-Key is currently being processed"
            }
        }
    }

    /// Headers to send with the error: `Retry-After` for in-flight rejections.
    pub fn response_headers(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::Conflict => Vec::new(),
            Self::InFlight { retry_after } => {
                vec![(
                    AcpHeader::RetryAfter.as_str(),
                    retry_after.to_header_value(),
                )]
            }
        }
    }
}

/// The result of [`begin`]: the outcome, and the record to write (if any).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BeginDecision {
    /// What to do with the request.
    pub outcome: IdempotencyOutcome,
    /// `Some(record)`: store it for the scope, replacing any stale record.
    /// `None`: leave the stored record unchanged.
    pub write: Option<IdempotencyRecord>,
}

/// Decides what to do with a request (pure; a store calls it under its lock or transaction).
///
/// `existing` is the stored record for the scope, if any; stale records (see
/// [`IdempotencyRecord::is_stale`]) count as absent. `lease` is the fresh token the store
/// issues if the request proceeds (see [`LeaseToken`]); it must differ from every token issued
/// before for the scope.
pub fn begin(
    existing: Option<&IdempotencyRecord>,
    fingerprint: &Fingerprint,
    lease: LeaseToken,
    now: OffsetDateTime,
    policy: &IdempotencyPolicy,
) -> BeginDecision {
    match existing.filter(|r| !r.is_stale(now)) {
        None => BeginDecision {
            outcome: IdempotencyOutcome::Proceed(lease),
            write: Some(IdempotencyRecord {
                fingerprint: *fingerprint,
                state: RecordState::InFlight {
                    lease_expires_at: add_saturating(now, policy.in_flight_lease),
                    lease,
                },
                expires_at: add_saturating(now, policy.retention),
            }),
        },
        Some(record) if record.fingerprint != *fingerprint => BeginDecision {
            outcome: IdempotencyOutcome::Conflict,
            write: None,
        },
        Some(record) => BeginDecision {
            outcome: match &record.state {
                RecordState::InFlight { .. } => IdempotencyOutcome::InFlight {
                    retry_after: policy.retry_after,
                },
                RecordState::Completed { response } => IdempotencyOutcome::Replay(response.clone()),
            },
            write: None,
        },
    }
}

/// Why a response cannot be recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CompleteError {
    /// The scope has no live in-flight reservation (never reserved, already completed or
    /// released, or expired).
    #[error("no in-flight reservation for this idempotency scope")]
    NotInFlight,
    /// The scope is in flight under another [`LeaseToken`]: this worker's lease ran out and a
    /// retry took the key over. Nothing was changed.
    #[error("the idempotency reservation is owned by another lease")]
    LeaseLost,
}

/// What [`complete`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Completion {
    /// Store this record (the response will be replayed).
    Store(IdempotencyRecord),
    /// Delete the record: the response was 5xx and a retry must run fresh (IDEM-13).
    Release,
}

/// Records the response of a request that got [`IdempotencyOutcome::Proceed`] with `lease`
/// (pure).
///
/// A reservation whose lease has run out can still be completed as long as nobody replaced it
/// and retention is not over.
///
/// # Errors
///
/// [`CompleteError::NotInFlight`] if `existing` is absent, expired or already completed;
/// [`CompleteError::LeaseLost`] if it is in flight under another token (fencing).
pub fn complete(
    existing: Option<&IdempotencyRecord>,
    lease: LeaseToken,
    response: StoredResponse,
    now: OffsetDateTime,
    policy: &IdempotencyPolicy,
) -> Result<Completion, CompleteError> {
    let record = existing
        .filter(|r| now < r.expires_at)
        .ok_or(CompleteError::NotInFlight)?;
    check_owner(record, lease)?;
    if response.is_server_error() {
        return Ok(Completion::Release);
    }
    Ok(Completion::Store(IdempotencyRecord {
        fingerprint: record.fingerprint,
        state: RecordState::Completed { response },
        expires_at: add_saturating(now, policy.retention),
    }))
}

fn check_owner(record: &IdempotencyRecord, lease: LeaseToken) -> Result<(), CompleteError> {
    match record.state {
        RecordState::InFlight { lease: owner, .. } if owner == lease => Ok(()),
        RecordState::InFlight { .. } => Err(CompleteError::LeaseLost),
        RecordState::Completed { .. } => Err(CompleteError::NotInFlight),
    }
}

/// Decides whether the holder of `lease` may drop the reservation `existing` (pure): `Ok`
/// means delete the record.
///
/// # Errors
///
/// [`CompleteError::NotInFlight`] if `existing` is absent or completed (a completed record is
/// never released); [`CompleteError::LeaseLost`] if it is in flight under another token.
pub fn release(
    existing: Option<&IdempotencyRecord>,
    lease: LeaseToken,
) -> Result<(), CompleteError> {
    check_owner(existing.ok_or(CompleteError::NotInFlight)?, lease)
}

// ---------------------------------------------------------------------------------------------
// Store
// ---------------------------------------------------------------------------------------------

/// Storage for idempotency records. Implementations must make [`begin`](Self::begin) atomic
/// per scope: of many concurrent calls for a new scope exactly one may get
/// [`IdempotencyOutcome::Proceed`]. Use the pure [`begin`](fn@begin),
/// [`complete`](fn@complete) and [`release`](fn@release) functions inside a lock or
/// transaction to get the semantics right, and issue a fresh [`LeaseToken`] per reservation.
///
/// For durable stores, write the completed record in the same transaction as the business
/// effect (IDEM-17).
pub trait IdempotencyStore {
    /// The store's error type.
    type Error: std::error::Error;

    /// Looks up `scope` and, for a new request, reserves it as in flight with `fingerprint`
    /// under a fresh [`LeaseToken`] (returned in [`IdempotencyOutcome::Proceed`]).
    ///
    /// # Errors
    ///
    /// Storage failures.
    fn begin(
        &self,
        scope: &IdempotencyScope,
        fingerprint: &Fingerprint,
        now: OffsetDateTime,
    ) -> Result<IdempotencyOutcome, Self::Error>;

    /// Records the response for the reservation owned by `lease`: stores non-5xx responses for
    /// replay and releases the reservation on 5xx (IDEM-13).
    ///
    /// # Errors
    ///
    /// When the scope has no in-flight reservation, when it belongs to another lease
    /// ([`CompleteError::LeaseLost`] in the in-memory store; nothing is changed), or on storage
    /// failures.
    fn complete(
        &self,
        scope: &IdempotencyScope,
        lease: LeaseToken,
        response: StoredResponse,
        now: OffsetDateTime,
    ) -> Result<Completion, Self::Error>;

    /// Drops the in-flight reservation owned by `lease` without a response (the handler gave
    /// up before any side effect), so a retry runs fresh.
    ///
    /// # Errors
    ///
    /// When the scope is not in flight (completed records are never released) or belongs to
    /// another lease (nothing is changed), or on storage failures.
    fn release(&self, scope: &IdempotencyScope, lease: LeaseToken) -> Result<(), Self::Error>;
}

/// The fewest records at which [`InMemoryIdempotencyStore`] purges on a write.
const MIN_PURGE_THRESHOLD: usize = 1024;

#[derive(Debug)]
struct Records {
    map: BTreeMap<IdempotencyScope, IdempotencyRecord>,
    /// The last lease token issued.
    last_lease: u64,
    /// A reservation purges expired records when the map holds this many.
    purge_threshold: usize,
}

impl Default for Records {
    fn default() -> Self {
        Self {
            map: BTreeMap::new(),
            last_lease: 0,
            purge_threshold: MIN_PURGE_THRESHOLD,
        }
    }
}

/// A thread-safe in-memory [`IdempotencyStore`] (`Mutex<BTreeMap>`), for tests and single
/// process servers. Records are lost on restart.
///
/// Lease tokens come from a per-store counter (unique for the store's life, see
/// [`LeaseToken`]).
///
/// Memory is bounded without a timer: when a reservation finds the map at its purge threshold
/// it first removes every record whose retention is over (amortized O(1) per write), and the
/// next threshold is twice the records left (at least 1024). So the store never holds more
/// than twice the records of its last purge, or 1024, whichever is larger: at most about twice
/// the keys used within one retention period (IDEM-14). Call
/// [`purge_stale`](Self::purge_stale) to reclaim earlier.
#[derive(Debug, Default)]
pub struct InMemoryIdempotencyStore {
    policy: IdempotencyPolicy,
    records: Mutex<Records>,
}

impl InMemoryIdempotencyStore {
    /// An empty store with `policy`.
    pub fn new(policy: IdempotencyPolicy) -> Self {
        Self {
            policy,
            records: Mutex::new(Records::default()),
        }
    }

    /// The store's policy.
    pub fn policy(&self) -> &IdempotencyPolicy {
        &self.policy
    }

    /// Runs `f` on the records. Every mutation is a single insert or remove (or a retain), so
    /// the map is consistent even if another thread panicked while holding the lock;
    /// poisoning is ignored.
    fn with_records<T>(&self, f: impl FnOnce(&mut Records) -> T) -> T {
        let mut guard = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut guard)
    }

    /// The stored record for `scope` (stale or not).
    pub fn record(&self, scope: &IdempotencyScope) -> Option<IdempotencyRecord> {
        self.with_records(|r| r.map.get(scope).cloned())
    }

    /// Removes every record that is stale at `now` (retention over, or an in-flight lease run
    /// out: its worker can then no longer complete it); returns how many were removed.
    pub fn purge_stale(&self, now: OffsetDateTime) -> usize {
        self.with_records(|r| {
            let before = r.map.len();
            r.map.retain(|_, rec| !rec.is_stale(now));
            before - r.map.len()
        })
    }

    /// Number of stored records (stale ones included until purged).
    pub fn len(&self) -> usize {
        self.with_records(|r| r.map.len())
    }

    /// Whether no records are stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl IdempotencyStore for InMemoryIdempotencyStore {
    type Error = CompleteError;

    fn begin(
        &self,
        scope: &IdempotencyScope,
        fingerprint: &Fingerprint,
        now: OffsetDateTime,
    ) -> Result<IdempotencyOutcome, Self::Error> {
        Ok(self.with_records(|r| {
            let lease = LeaseToken(r.last_lease.saturating_add(1));
            let decision = begin(r.map.get(scope), fingerprint, lease, now, &self.policy);
            if let Some(record) = decision.write {
                r.last_lease = lease.0;
                if r.map.len() >= r.purge_threshold {
                    // Only records past retention: a reservation whose lease ran out may
                    // still be completed by its worker while nobody replaced it.
                    r.map.retain(|_, rec| now < rec.expires_at);
                    r.purge_threshold = r.map.len().saturating_mul(2).max(MIN_PURGE_THRESHOLD);
                }
                r.map.insert(scope.clone(), record);
            }
            decision.outcome
        }))
    }

    fn complete(
        &self,
        scope: &IdempotencyScope,
        lease: LeaseToken,
        response: StoredResponse,
        now: OffsetDateTime,
    ) -> Result<Completion, Self::Error> {
        self.with_records(|r| {
            let completion = complete(r.map.get(scope), lease, response, now, &self.policy)?;
            match &completion {
                Completion::Store(record) => {
                    r.map.insert(scope.clone(), record.clone());
                }
                Completion::Release => {
                    r.map.remove(scope);
                }
            }
            Ok(completion)
        })
    }

    fn release(&self, scope: &IdempotencyScope, lease: LeaseToken) -> Result<(), Self::Error> {
        self.with_records(|r| {
            release(r.map.get(scope), lease)?;
            r.map.remove(scope);
            Ok(())
        })
    }
}
