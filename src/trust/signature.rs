//! ACP request signatures (SIG-01 … SIG-07).
//!
//! An ACP client signs each request: the `Signature` header carries a detached signature,
//! base64url-encoded, over the canonical JSON of the request body (SIG-01, SIG-02), and the
//! `Timestamp` header carries the signing time in RFC 3339 (SIG-03). The server verifies the
//! signature over the canonical JSON (SIG-04) and checks the timestamp against a bounded
//! clock-skew window (SIG-05). MCP transports carry the same two values as `meta.signature`
//! and `meta.timestamp` (SIG-07); pass them here exactly like the headers.
//!
//! The protocol puts no algorithm name and no key id on the wire: both parties agree on them
//! out of band (SIG-06). This module therefore:
//!
//! - canonicalizes the **received bytes** with [`crate::trust::canonical`] (RFC 8785), never a
//!   re-serialized typed struct, so members this crate does not model still verify;
//! - signs and verifies only bodies whose numbers keep their value in canonical form
//!   ([`canonical::canonicalize_exact`]): a body with `9007199254740993`, which RFC 8785
//!   writes `9007199254740992`, is refused with [`SignatureError::Body`] and
//!   [`CanonicalJsonError::InexactNumber`], because its signed bytes would not be the bytes a
//!   typed parse reads;
//! - tries every configured key whose [`Algorithm`] is on the verifier's explicit allow-list,
//!   checking the allow-list **before** any cryptography runs;
//! - requires the timestamp and checks it with a [`VerificationPolicy`] that has separate past
//!   and future tolerances and no switch to turn the check off;
//! - returns a [`Verified`] proof that only this module can construct.
//!
//! Built-in algorithms: [`HmacSha256Key`] (shared secret, [`Algorithm::HS256`]),
//! `Ed25519SigningKey`/`Ed25519VerifyingKey` (feature `ed25519`, on by default,
//! [`Algorithm::ED25519`]) and `Es256SigningKey`/`Es256VerifyingKey` (feature `es256`,
//! ECDSA P-256 with SHA-256 and 64-byte `r || s` signatures, [`Algorithm::ES256`]). Others
//! (RSA, an HSM, …) plug in through the [`VerifyingKey`] and [`SigningKey`] traits.
//!
//! # What is signed
//!
//! The spec does not say whether the timestamp is covered. [`SignedContent::CanonicalBody`]
//! (the default) signs the canonical body only, as the spec describes; the timestamp is then
//! checked for freshness but an attacker who replays a captured body inside the window can
//! change it. [`SignedContent::TimestampAndBody`] signs `timestamp + "." + canonical_body`
//! (the timestamp exactly as it appears in the header) and binds the two. Both parties must
//! use the same choice. **Use [`SignedContent::TimestampAndBody`]** when you control both
//! sides (the examples do): the timestamp is then part of what is signed, so a captured request
//! stops verifying once its timestamp leaves the [`VerificationPolicy`] window.
//!
//! Exactly these bytes are signed, and nothing else:
//!
//! | request | [`SignedContent::CanonicalBody`] | [`SignedContent::TimestampAndBody`] |
//! |---|---|---|
//! | with a JSON body | `canonical_body` | `timestamp + "." + canonical_body` |
//! | without a body (a cancel without `intent_trace`) | refused: an empty body is not JSON | `timestamp + "."` (the empty content) |
//!
//! `canonical_body` is the RFC 8785 form of the received bytes; `timestamp` is the `Timestamp`
//! header value as sent. The HTTP method, the path (and so the session id), the query and the
//! other headers are **not** signed: a signed body-less cancel proves who sent it and when, and
//! it verifies for any session within the freshness window. Authenticate the caller with its
//! bearer token as well, and rely on the idempotency key and the state machine (a second cancel
//! is a 405) against replays.
//!
//! # Encoding
//!
//! Signatures are emitted as unpadded base64url (RFC 4648 §5). Verification accepts the
//! unpadded form and the correctly padded form; it rejects the standard alphabet (`+`, `/`),
//! whitespace inside the value, non-zero trailing bits, and values longer than
//! [`MAX_SIGNATURE_HEADER_LEN`] characters. Leading and trailing spaces and tabs (HTTP
//! optional whitespace) are ignored in both headers.
//!
//! # Example
//!
//! ```
//! use agentic_commerce::trust::signature::{
//!     Algorithm, HmacSha256Key, RequestSigner, SignedRequest, Verifier,
//! };
//! use time::macros::datetime;
//!
//! let body = br#"{"items":[{"id":"sku_1","quantity":1}],"extension":{"x":1}}"#;
//! let now = datetime!(2026-01-30 12:00:00 UTC);
//!
//! // Agent side.
//! let signer = RequestSigner::new(HmacSha256Key::new(b"shared secret 0123456789")?);
//! let headers = signer.sign(body, now)?;
//!
//! // Merchant side.
//! let verifier = Verifier::new([Algorithm::HS256])
//!     .with_key("agent-2026-01", HmacSha256Key::new(b"shared secret 0123456789")?);
//! let proof = verifier.verify(
//!     &SignedRequest {
//!         body,
//!         signature: Some(&headers.signature),
//!         timestamp: Some(&headers.timestamp),
//!     },
//!     now,
//! )?;
//! assert_eq!(proof.key_id(), "agent-2026-01");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`Verified`] cannot be built outside this module:
//!
//! ```compile_fail
//! let forged = agentic_commerce::trust::signature::Verified {
//!     key_id: "k".into(),
//!     algorithm: agentic_commerce::trust::signature::Algorithm::HS256,
//!     timestamp: time::OffsetDateTime::UNIX_EPOCH,
//! };
//! ```

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hmac::Mac as _;
use time::{Duration, OffsetDateTime, UtcOffset};

use crate::primitives::Timestamp;
use crate::trust::PolicyError;
use crate::trust::canonical::{self, CanonicalBody, CanonicalJsonError};

/// Name of the HTTP header carrying the signature.
pub const SIGNATURE_HEADER: &str = "Signature";
/// Name of the HTTP header carrying the RFC 3339 signing time.
pub const TIMESTAMP_HEADER: &str = "Timestamp";
/// The longest `Signature` value accepted (characters after trimming); enough for a 4096-bit
/// RSA signature.
pub const MAX_SIGNATURE_HEADER_LEN: usize = 1024;

/// base64url for emitting: unpadded.
const B64_ENCODE: GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;
/// base64url for reading: padding optional (but must be correct when present).
const B64_DECODE: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

// ---------------------------------------------------------------------------------------------
// Errors

/// Why a request signature was not produced or not accepted.
///
/// The variants tell a missing header from a malformed one, a stale timestamp and a mismatch,
/// but never reveal which key was tried or how much of a signature matched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The `Signature` header is absent or empty.
    #[error("the Signature header is missing")]
    MissingSignature,
    /// The `Timestamp` header is absent or empty.
    #[error("the Timestamp header is missing")]
    MissingTimestamp,
    /// The `Signature` header is not base64url, or decodes to a length no configured key uses.
    #[error("the Signature header is malformed")]
    MalformedSignature,
    /// The `Timestamp` header is not an RFC 3339 date-time (or, when signing, cannot be
    /// written as one).
    #[error("the Timestamp header is not an RFC 3339 date-time")]
    MalformedTimestamp,
    /// The timestamp is older than the policy's past tolerance.
    #[error("the request timestamp is too old")]
    TimestampTooOld,
    /// The timestamp is further ahead than the policy's future tolerance.
    #[error("the request timestamp is in the future")]
    TimestampInFuture,
    /// Keys are configured, but none has an algorithm on the verifier's allow-list.
    #[error("no allowed signature algorithm is configured")]
    AlgorithmNotAllowed,
    /// The verifier has no keys.
    #[error("no verification key is configured")]
    NoKey,
    /// No allowed key accepts the signature.
    #[error("the signature does not match")]
    Mismatch,
    /// The body is not canonicalizable JSON (RFC 8785), or has a number that would change value
    /// in canonical form ([`CanonicalJsonError::InexactNumber`]).
    #[error("the request body is not canonicalizable JSON: {0}")]
    Body(#[from] CanonicalJsonError),
    /// A signing key failed to produce a signature.
    #[error("the signing key failed to sign")]
    SigningFailed,
}

impl SignatureError {
    /// The HTTP status a server should answer with: 400 when the body itself is not valid
    /// (canonicalizable) JSON, 500 for [`SigningFailed`](Self::SigningFailed) (a client-side
    /// failure), and 401 for every authentication failure (missing, malformed, stale or
    /// mismatching signature or timestamp, no usable key).
    pub fn http_status(&self) -> u16 {
        match self {
            Self::Body(_) => 400,
            Self::SigningFailed => 500,
            _ => 401,
        }
    }

    /// The ACP error `code` for a response: `invalid_signature` for authentication failures
    /// (as the ACP webhook examples use for every signature failure), `invalid_request` for an
    /// unreadable body, `processing_error` for signing failures. The error `type` is
    /// `invalid_request` in every case but the last.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Body(_) => "invalid_request",
            Self::SigningFailed => "processing_error",
            _ => "invalid_signature",
        }
    }
}

/// Why key material was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// An HMAC secret is shorter than [`HmacSha256Key::MIN_SECRET_LEN`] bytes (128 bits, the
    /// floor for a shared secret). Longer secrets of any length and format are accepted, so a
    /// secret issued by another platform still works.
    #[error("the shared secret is shorter than 16 bytes (128 bits)")]
    SecretTooShort,
    /// The bytes are not a valid key for the algorithm.
    #[error("invalid {algorithm} key")]
    InvalidKey {
        /// The algorithm the key was meant for.
        algorithm: Algorithm,
    },
}

// ---------------------------------------------------------------------------------------------
// Algorithms and key traits

/// A signature algorithm name, agreed out of band (SIG-06).
///
/// An open set: the built-in names are associated constants, and [`Algorithm::new`] names any
/// other (for a custom [`VerifyingKey`]). Names compare case-sensitively.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Algorithm(Cow<'static, str>);

impl Algorithm {
    /// HMAC with SHA-256 over a shared secret (JOSE name `HS256`).
    pub const HS256: Self = Self(Cow::Borrowed("HS256"));
    /// Ed25519 (RFC 8032), named by the ACP delegate-payment RFC.
    pub const ED25519: Self = Self(Cow::Borrowed("Ed25519"));
    /// ECDSA with P-256 and SHA-256 (JOSE name `ES256`), named by the ACP delegate-payment
    /// RFC.
    pub const ES256: Self = Self(Cow::Borrowed("ES256"));

    /// A static algorithm name, usable in `const` items.
    pub const fn from_static(name: &'static str) -> Self {
        Self(Cow::Borrowed(name))
    }

    /// Any algorithm name.
    pub fn new(name: impl Into<String>) -> Self {
        Self(Cow::Owned(name.into()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A key's verdict that a signature is not valid for a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejected;

/// A key that checks signatures; implement it to plug in another algorithm.
///
/// ```
/// use agentic_commerce::trust::signature::{Algorithm, Rejected, Verifier, VerifyingKey};
///
/// /// Wraps some RSA library.
/// struct MyRsaKey;
///
/// impl VerifyingKey for MyRsaKey {
///     fn algorithm(&self) -> Algorithm {
///         Algorithm::from_static("RS256")
///     }
///     fn signature_len(&self) -> Option<usize> {
///         Some(256)
///     }
///     fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), Rejected> {
///         let _ = (message, signature); // call the RSA library here
///         Err(Rejected)
///     }
/// }
///
/// let verifier = Verifier::new([Algorithm::from_static("RS256")]).with_key("rsa-1", MyRsaKey);
/// # let _ = verifier;
/// ```
pub trait VerifyingKey: Send + Sync {
    /// The algorithm this key belongs to; checked against the verifier's allow-list before
    /// [`verify`](Self::verify) is ever called.
    fn algorithm(&self) -> Algorithm;

    /// The exact length of this key's signatures in bytes, if fixed. A decoded signature whose
    /// length matches no allowed key is reported as
    /// [`SignatureError::MalformedSignature`]; keys of another length are not called.
    fn signature_len(&self) -> Option<usize> {
        None
    }

    /// Checks `signature` over `message` (the exact signed bytes).
    ///
    /// # Errors
    ///
    /// [`Rejected`] unless the signature is valid.
    fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), Rejected>;
}

/// A key that produces signatures; implement it to plug in another algorithm.
pub trait SigningKey {
    /// The algorithm this key signs with.
    fn algorithm(&self) -> Algorithm;

    /// Signs `message` (the exact bytes to sign) and returns the raw signature.
    ///
    /// # Errors
    ///
    /// [`SignatureError::SigningFailed`] if the key cannot sign.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignatureError>;
}

// ---------------------------------------------------------------------------------------------
// HMAC-SHA256

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// An HMAC-SHA256 shared secret ([`Algorithm::HS256`]); it both signs and verifies.
///
/// `Debug` prints `[REDACTED]`; there is no `Display`, `Serialize` or `PartialEq`, so the
/// secret cannot leak into logs or be compared in variable time.
pub struct HmacSha256Key {
    secret: Box<[u8]>,
    /// HMAC-SHA256 already keyed with `secret`, cloned per message, so signing and verifying
    /// skip the key schedule.
    keyed: HmacSha256,
}

impl HmacSha256Key {
    /// Length of an HMAC-SHA256 signature in bytes.
    pub const SIGNATURE_LEN: usize = 32;

    /// The shortest secret accepted: 16 bytes (128 bits). There is no upper limit and no format
    /// requirement.
    pub const MIN_SECRET_LEN: usize = 16;

    /// Wraps the raw secret bytes.
    ///
    /// # Errors
    ///
    /// [`KeyError::SecretTooShort`] for a secret shorter than [`Self::MIN_SECRET_LEN`] bytes.
    pub fn new(secret: &[u8]) -> Result<Self, KeyError> {
        if secret.len() < Self::MIN_SECRET_LEN {
            return Err(KeyError::SecretTooShort);
        }
        // HMAC accepts keys of any length, so the error branch is unreachable in practice.
        let keyed = HmacSha256::new_from_slice(secret).map_err(|_| KeyError::SecretTooShort)?;
        Ok(Self {
            secret: secret.into(),
            keyed,
        })
    }

    /// The raw secret.
    ///
    /// # Security Warning
    ///
    /// Do not log, display or compare this value; compare signatures with
    /// [`VerifyingKey::verify`], which runs in constant time.
    pub fn secret(&self) -> &[u8] {
        &self.secret
    }

    fn mac(&self, message: &[u8]) -> HmacSha256 {
        let mut mac = self.keyed.clone();
        mac.update(message);
        mac
    }
}

impl fmt::Debug for HmacSha256Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HmacSha256Key([REDACTED])")
    }
}

impl VerifyingKey for HmacSha256Key {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }

    fn signature_len(&self) -> Option<usize> {
        Some(Self::SIGNATURE_LEN)
    }

    fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), Rejected> {
        // `verify_slice` compares in constant time.
        self.mac(message)
            .verify_slice(signature)
            .map_err(|_| Rejected)
    }
}

impl SigningKey for HmacSha256Key {
    fn algorithm(&self) -> Algorithm {
        Algorithm::HS256
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignatureError> {
        Ok(self.mac(message).finalize().into_bytes().to_vec())
    }
}

// ---------------------------------------------------------------------------------------------
// Ed25519

/// An Ed25519 private key ([`Algorithm::ED25519`], RFC 8032).
///
/// `Debug` prints `[REDACTED]`; there is no `Display`, `Serialize` or `PartialEq`.
#[cfg(feature = "ed25519")]
pub struct Ed25519SigningKey(ed25519_dalek::SigningKey);

#[cfg(feature = "ed25519")]
impl Ed25519SigningKey {
    /// The key from its 32-byte RFC 8032 seed (the "secret key").
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self(ed25519_dalek::SigningKey::from_bytes(seed))
    }

    /// The key from a seed given as a slice.
    ///
    /// # Errors
    ///
    /// [`KeyError::InvalidKey`] unless `seed` is 32 bytes long.
    pub fn from_seed_slice(seed: &[u8]) -> Result<Self, KeyError> {
        let seed: &[u8; 32] = seed.try_into().map_err(|_| KeyError::InvalidKey {
            algorithm: Algorithm::ED25519,
        })?;
        Ok(Self::from_seed(seed))
    }

    /// The matching public key.
    pub fn verifying_key(&self) -> Ed25519VerifyingKey {
        Ed25519VerifyingKey(self.0.verifying_key())
    }
}

#[cfg(feature = "ed25519")]
impl fmt::Debug for Ed25519SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Ed25519SigningKey([REDACTED])")
    }
}

#[cfg(feature = "ed25519")]
impl SigningKey for Ed25519SigningKey {
    fn algorithm(&self) -> Algorithm {
        Algorithm::ED25519
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignatureError> {
        use ed25519_dalek::Signer as _;
        Ok(self.0.sign(message).to_bytes().to_vec())
    }
}

/// An Ed25519 public key ([`Algorithm::ED25519`]).
///
/// Verification is strict (`verify_strict`): it rejects small-order keys and non-canonical
/// signature encodings, so a signature cannot be altered into another valid one.
#[cfg(feature = "ed25519")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ed25519VerifyingKey(ed25519_dalek::VerifyingKey);

#[cfg(feature = "ed25519")]
impl Ed25519VerifyingKey {
    /// Length of an Ed25519 signature in bytes.
    pub const SIGNATURE_LEN: usize = 64;

    /// The key from its 32-byte compressed encoding.
    ///
    /// # Errors
    ///
    /// [`KeyError::InvalidKey`] unless `bytes` is a valid 32-byte point encoding.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let invalid = || KeyError::InvalidKey {
            algorithm: Algorithm::ED25519,
        };
        let bytes: &[u8; 32] = bytes.try_into().map_err(|_| invalid())?;
        ed25519_dalek::VerifyingKey::from_bytes(bytes)
            .map(Self)
            .map_err(|_| invalid())
    }

    /// The 32-byte compressed encoding.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }
}

#[cfg(feature = "ed25519")]
impl VerifyingKey for Ed25519VerifyingKey {
    fn algorithm(&self) -> Algorithm {
        Algorithm::ED25519
    }

    fn signature_len(&self) -> Option<usize> {
        Some(Self::SIGNATURE_LEN)
    }

    fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), Rejected> {
        let signature = ed25519_dalek::Signature::from_slice(signature).map_err(|_| Rejected)?;
        self.0
            .verify_strict(message, &signature)
            .map_err(|_| Rejected)
    }
}

// ---------------------------------------------------------------------------------------------
// ES256

/// An ECDSA P-256 private key ([`Algorithm::ES256`]).
///
/// Signatures are deterministic (RFC 6979) and fixed-size: 64 bytes, `r || s` big-endian, the
/// JOSE form. `Debug` prints `[REDACTED]`; there is no `Display`, `Serialize` or `PartialEq`.
#[cfg(feature = "es256")]
pub struct Es256SigningKey(p256::ecdsa::SigningKey);

#[cfg(feature = "es256")]
impl Es256SigningKey {
    /// The key from its 32-byte big-endian secret scalar.
    ///
    /// # Errors
    ///
    /// [`KeyError::InvalidKey`] unless `scalar` is 32 bytes encoding a value in `1..n`.
    pub fn from_bytes(scalar: &[u8]) -> Result<Self, KeyError> {
        p256::ecdsa::SigningKey::from_slice(scalar)
            .map(Self)
            .map_err(|_| KeyError::InvalidKey {
                algorithm: Algorithm::ES256,
            })
    }

    /// The matching public key.
    pub fn verifying_key(&self) -> Es256VerifyingKey {
        Es256VerifyingKey(*self.0.verifying_key())
    }
}

#[cfg(feature = "es256")]
impl fmt::Debug for Es256SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Es256SigningKey([REDACTED])")
    }
}

#[cfg(feature = "es256")]
impl SigningKey for Es256SigningKey {
    fn algorithm(&self) -> Algorithm {
        Algorithm::ES256
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SignatureError> {
        use p256::ecdsa::signature::Signer as _;
        let signature: p256::ecdsa::Signature = self
            .0
            .try_sign(message)
            .map_err(|_| SignatureError::SigningFailed)?;
        Ok(signature.to_bytes().to_vec())
    }
}

/// An ECDSA P-256 public key ([`Algorithm::ES256`]); expects 64-byte `r || s` signatures.
///
/// Both `s` and `n - s` verify (P-256 ECDSA is malleable); do not use a signature as an
/// identifier.
#[cfg(feature = "es256")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Es256VerifyingKey(p256::ecdsa::VerifyingKey);

#[cfg(feature = "es256")]
impl Es256VerifyingKey {
    /// Length of an ES256 signature in bytes.
    pub const SIGNATURE_LEN: usize = 64;

    /// The key from a SEC1 point encoding (33 bytes compressed or 65 bytes uncompressed).
    ///
    /// # Errors
    ///
    /// [`KeyError::InvalidKey`] unless `bytes` encodes a point on P-256.
    pub fn from_sec1_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        p256::ecdsa::VerifyingKey::from_sec1_bytes(bytes)
            .map(Self)
            .map_err(|_| KeyError::InvalidKey {
                algorithm: Algorithm::ES256,
            })
    }

    /// The uncompressed SEC1 encoding (65 bytes).
    pub fn to_sec1_bytes(&self) -> Vec<u8> {
        self.0.to_encoded_point(false).as_bytes().to_vec()
    }
}

#[cfg(feature = "es256")]
impl VerifyingKey for Es256VerifyingKey {
    fn algorithm(&self) -> Algorithm {
        Algorithm::ES256
    }

    fn signature_len(&self) -> Option<usize> {
        Some(Self::SIGNATURE_LEN)
    }

    fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), Rejected> {
        use p256::ecdsa::signature::Verifier as _;
        let signature = p256::ecdsa::Signature::from_slice(signature).map_err(|_| Rejected)?;
        self.0.verify(message, &signature).map_err(|_| Rejected)
    }
}

// ---------------------------------------------------------------------------------------------
// Policy and signed content

/// How far the `Timestamp` may be from the verifier's clock (SIG-05), for request signatures
/// ([`Verifier::with_policy`]) and webhook signatures
/// ([`WebhookVerifier::with_policy`](crate::trust::webhook::WebhookVerifier::with_policy), WH-04)
/// alike.
///
/// Defaults: 300 seconds in the past (the tolerance ACP recommends for webhook signatures,
/// allowing for retries and queueing) and 60 seconds in the future (clock drift only; a
/// client cannot legitimately sign from the future). Both bounds are **inclusive**: a
/// timestamp exactly 300 s old is accepted, one 300 s and 1 ns old is not. There is no way
/// to switch the check off; tolerances are capped at [`Self::MAX_TOLERANCE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerificationPolicy {
    max_past: Duration,
    max_future: Duration,
}

impl VerificationPolicy {
    /// Default tolerance for timestamps in the past: 300 seconds.
    pub const DEFAULT_MAX_PAST: Duration = Duration::seconds(300);
    /// Default tolerance for timestamps in the future: 60 seconds.
    pub const DEFAULT_MAX_FUTURE: Duration = Duration::seconds(60);
    /// The largest tolerance either bound accepts: one hour.
    pub const MAX_TOLERANCE: Duration = Duration::hours(1);

    /// The default policy (300 s past, 60 s future).
    pub const fn new() -> Self {
        Self {
            max_past: Self::DEFAULT_MAX_PAST,
            max_future: Self::DEFAULT_MAX_FUTURE,
        }
    }

    /// Sets how old a timestamp may be.
    ///
    /// # Errors
    ///
    /// [`PolicyError`] if `tolerance` is negative or above [`Self::MAX_TOLERANCE`].
    pub fn with_max_past(self, tolerance: Duration) -> Result<Self, PolicyError> {
        Ok(Self {
            max_past: check_tolerance(tolerance)?,
            ..self
        })
    }

    /// Sets how far in the future a timestamp may be.
    ///
    /// # Errors
    ///
    /// [`PolicyError`] if `tolerance` is negative or above [`Self::MAX_TOLERANCE`].
    pub fn with_max_future(self, tolerance: Duration) -> Result<Self, PolicyError> {
        Ok(Self {
            max_future: check_tolerance(tolerance)?,
            ..self
        })
    }

    /// The past tolerance.
    pub fn max_past(&self) -> Duration {
        self.max_past
    }

    /// The future tolerance.
    pub fn max_future(&self) -> Duration {
        self.max_future
    }

    /// Checks `timestamp` against `now`; both bounds inclusive.
    ///
    /// # Errors
    ///
    /// [`SignatureError::TimestampTooOld`] or [`SignatureError::TimestampInFuture`].
    pub fn check(
        &self,
        timestamp: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<(), SignatureError> {
        self.check_age(now - timestamp)
    }

    /// Checks an age (`now - timestamp`; negative for a timestamp in the future); both bounds
    /// inclusive. Shared with the webhook verifier, which counts in whole seconds.
    pub(crate) fn check_age(&self, age: Duration) -> Result<(), SignatureError> {
        if age > self.max_past {
            Err(SignatureError::TimestampTooOld)
        } else if -age > self.max_future {
            Err(SignatureError::TimestampInFuture)
        } else {
            Ok(())
        }
    }
}

impl Default for VerificationPolicy {
    fn default() -> Self {
        Self::new()
    }
}

fn check_tolerance(tolerance: Duration) -> Result<Duration, PolicyError> {
    if tolerance.is_negative() {
        Err(PolicyError::NegativeTolerance)
    } else if tolerance > VerificationPolicy::MAX_TOLERANCE {
        Err(PolicyError::ToleranceTooLarge {
            max: VerificationPolicy::MAX_TOLERANCE,
        })
    } else {
        Ok(tolerance)
    }
}

/// Which bytes the signature covers; signer and verifier must agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SignedContent {
    /// The RFC 8785 canonical JSON of the body, as the ACP spec describes (the default).
    #[default]
    CanonicalBody,
    /// `timestamp + "." + canonical_body`, where `timestamp` is the `Timestamp` header value
    /// exactly as sent (after trimming optional whitespace). Binds the timestamp to the
    /// signature; an opt-in extension both parties must agree on, and the recommended choice.
    /// A request without a body is signed over the empty content: `timestamp + "."`.
    TimestampAndBody,
}

impl SignedContent {
    /// The exact bytes signed for `canonical_body` and the `timestamp` header value.
    pub fn message(self, timestamp: &str, canonical_body: &[u8]) -> Vec<u8> {
        match self {
            Self::CanonicalBody => canonical_body.to_vec(),
            Self::TimestampAndBody => {
                let mut out = Vec::with_capacity(timestamp.len() + 1 + canonical_body.len());
                out.extend_from_slice(timestamp.as_bytes());
                out.push(b'.');
                out.extend_from_slice(canonical_body);
                out
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Signing

/// The two header values of a signed request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignatureHeaders {
    /// Value for the `Signature` header: unpadded base64url.
    pub signature: String,
    /// Value for the `Timestamp` header: RFC 3339 in UTC, whole seconds
    /// (`2026-01-30T12:00:00Z`).
    pub timestamp: String,
}

/// Signs request bodies for the `Signature` and `Timestamp` headers (SIG-01 … SIG-03).
#[derive(Debug)]
pub struct RequestSigner<K> {
    key: K,
    content: SignedContent,
}

impl<K: SigningKey> RequestSigner<K> {
    /// A signer that signs the canonical body ([`SignedContent::CanonicalBody`]).
    pub fn new(key: K) -> Self {
        Self {
            key,
            content: SignedContent::default(),
        }
    }

    /// Chooses what the signature covers.
    #[must_use]
    pub fn with_signed_content(self, content: SignedContent) -> Self {
        Self { content, ..self }
    }

    /// Signs the body exactly as it will be sent, stamped with `timestamp` (truncated to whole
    /// seconds, written in UTC).
    ///
    /// # Errors
    ///
    /// [`SignatureError::Body`] if `body` is not canonicalizable JSON,
    /// [`SignatureError::MalformedTimestamp`] if `timestamp` cannot be written in RFC 3339
    /// (negative years), [`SignatureError::SigningFailed`] if the key fails.
    ///
    /// With [`SignedContent::TimestampAndBody`] an empty `body` (a request without a body) is
    /// signed as the empty content, `timestamp + "."`; with [`SignedContent::CanonicalBody`]
    /// it is a [`SignatureError::Body`] (see [What is signed](self#what-is-signed)).
    pub fn sign(
        &self,
        body: &[u8],
        timestamp: OffsetDateTime,
    ) -> Result<SignatureHeaders, SignatureError> {
        let canonical_body = signed_body(self.content, body)?;
        self.sign_canonical(&canonical_body, timestamp)
    }

    /// [`sign`](Self::sign) with the system clock.
    ///
    /// # Errors
    ///
    /// As [`sign`](Self::sign).
    pub fn sign_now(&self, body: &[u8]) -> Result<SignatureHeaders, SignatureError> {
        self.sign(body, OffsetDateTime::now_utc())
    }

    /// Serializes `value` to canonical JSON and signs it; returns the body to send (the
    /// canonical bytes) with the headers.
    ///
    /// # Errors
    ///
    /// As [`sign`](Self::sign), and [`SignatureError::Body`] with
    /// [`CanonicalJsonError::Serialization`] if `serde_json` cannot serialize `value`.
    pub fn sign_json<T: serde::Serialize + ?Sized>(
        &self,
        value: &T,
        timestamp: OffsetDateTime,
    ) -> Result<(Vec<u8>, SignatureHeaders), SignatureError> {
        let canonical_body = canonical::canonicalize_serialize_exact(value)?;
        let headers = self.sign_canonical(&canonical_body, timestamp)?;
        Ok((canonical_body, headers))
    }

    fn sign_canonical(
        &self,
        canonical_body: &[u8],
        timestamp: OffsetDateTime,
    ) -> Result<SignatureHeaders, SignatureError> {
        let timestamp = format_timestamp(timestamp)?;
        let message = self.content.message(&timestamp, canonical_body);
        let signature = B64_ENCODE.encode(self.key.sign(&message)?);
        Ok(SignatureHeaders {
            signature,
            timestamp,
        })
    }
}

/// The canonical body, or the empty content for a request without a body when the timestamp
/// is signed too (with [`SignedContent::CanonicalBody`] the empty content would be one constant
/// signature for every body-less request, so an empty body stays an error there).
fn signed_body(content: SignedContent, body: &[u8]) -> Result<Vec<u8>, SignatureError> {
    if body.is_empty() && content == SignedContent::TimestampAndBody {
        Ok(Vec::new())
    } else {
        Ok(canonical::canonicalize_exact(body)?)
    }
}

fn format_timestamp(timestamp: OffsetDateTime) -> Result<String, SignatureError> {
    OffsetDateTime::from_unix_timestamp(timestamp.unix_timestamp())
        .ok()
        .and_then(|t| Timestamp(t.to_offset(UtcOffset::UTC)).to_rfc3339().ok())
        .ok_or(SignatureError::MalformedTimestamp)
}

// ---------------------------------------------------------------------------------------------
// Verifying

/// A received request: the raw body bytes and the two header values (`None` when absent).
///
/// Named fields keep the two header strings from being swapped.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    /// The body exactly as received.
    pub body: &'a [u8],
    /// The `Signature` header (or MCP `meta.signature`).
    pub signature: Option<&'a str>,
    /// The `Timestamp` header (or MCP `meta.timestamp`).
    pub timestamp: Option<&'a str>,
}

/// Proof that a request's signature was verified.
///
/// Only [`Verifier`] constructs it, so a handler that takes `&Verified` cannot be called with
/// an unverified request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    key_id: String,
    algorithm: Algorithm,
    timestamp: OffsetDateTime,
}

impl Verified {
    /// The id of the key that accepted the signature.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// That key's algorithm.
    pub fn algorithm(&self) -> &Algorithm {
        &self.algorithm
    }

    /// The request's `Timestamp`.
    pub fn timestamp(&self) -> OffsetDateTime {
        self.timestamp
    }
}

/// Verifies request signatures against a set of keys (SIG-04, SIG-05).
///
/// Holds any number of keys, each with a key id, for rotation: every key whose algorithm is
/// on the allow-list is tried and the first that accepts wins. Keys whose algorithm is not
/// allowed are never called, which lets an algorithm be withdrawn without removing its keys.
#[derive(Clone)]
pub struct Verifier {
    keys: Vec<(String, Arc<dyn VerifyingKey>)>,
    allowed: BTreeSet<Algorithm>,
    policy: VerificationPolicy,
    content: SignedContent,
}

impl Verifier {
    /// A verifier that accepts only the `allowed` algorithms, with no keys yet, the default
    /// [`VerificationPolicy`] and [`SignedContent::CanonicalBody`].
    pub fn new(allowed: impl IntoIterator<Item = Algorithm>) -> Self {
        Self {
            keys: Vec::new(),
            allowed: allowed.into_iter().collect(),
            policy: VerificationPolicy::default(),
            content: SignedContent::default(),
        }
    }

    /// Adds a key under `key_id`.
    #[must_use]
    pub fn with_key(mut self, key_id: impl Into<String>, key: impl VerifyingKey + 'static) -> Self {
        self.keys.push((key_id.into(), Arc::new(key)));
        self
    }

    /// Sets the clock-skew policy.
    #[must_use]
    pub fn with_policy(self, policy: VerificationPolicy) -> Self {
        Self { policy, ..self }
    }

    /// Chooses what the signature covers (must match the signer).
    #[must_use]
    pub fn with_signed_content(self, content: SignedContent) -> Self {
        Self { content, ..self }
    }

    /// The clock-skew policy.
    pub fn policy(&self) -> &VerificationPolicy {
        &self.policy
    }

    /// Verifies `request` at time `now`.
    ///
    /// Checks, in order: both headers present; signature is base64url; timestamp is RFC 3339
    /// and within the policy; some key has an allowed algorithm (no cryptography before this
    /// point); the body canonicalizes (an empty body is the empty content under
    /// [`SignedContent::TimestampAndBody`]); an allowed key of matching signature length
    /// accepts.
    ///
    /// # Errors
    ///
    /// A [`SignatureError`] naming the first check that failed.
    pub fn verify(
        &self,
        request: &SignedRequest<'_>,
        now: OffsetDateTime,
    ) -> Result<Verified, SignatureError> {
        let body = request.body;
        self.verify_with(request.signature, request.timestamp, now, || {
            signed_body(self.content, body).map(Cow::Owned)
        })
    }

    /// [`verify`](Self::verify) of a body already canonicalized ([`CanonicalBody`], shared
    /// with the idempotency fingerprint): the same checks in the same order, without a second
    /// canonicalization.
    ///
    /// # Errors
    ///
    /// As [`verify`](Self::verify).
    pub fn verify_canonical(
        &self,
        body: &CanonicalBody<'_>,
        signature: Option<&str>,
        timestamp: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<Verified, SignatureError> {
        self.verify_with(signature, timestamp, now, || {
            if body.raw().is_empty() {
                // `signed_body` decides what an empty body means for this content.
                signed_body(self.content, b"").map(Cow::Owned)
            } else {
                Ok(Cow::Borrowed(body.canonical()))
            }
        })
    }

    fn verify_with<'b>(
        &self,
        signature: Option<&str>,
        timestamp: Option<&str>,
        now: OffsetDateTime,
        canonical_body: impl FnOnce() -> Result<Cow<'b, [u8]>, SignatureError>,
    ) -> Result<Verified, SignatureError> {
        let signature = non_empty(signature).ok_or(SignatureError::MissingSignature)?;
        let timestamp_text = non_empty(timestamp).ok_or(SignatureError::MissingTimestamp)?;
        if signature.len() > MAX_SIGNATURE_HEADER_LEN {
            return Err(SignatureError::MalformedSignature);
        }
        let signature = B64_DECODE
            .decode(signature)
            .map_err(|_| SignatureError::MalformedSignature)?;
        let timestamp = parse_timestamp(timestamp_text)?;
        self.policy.check(timestamp, now)?;

        if self.keys.is_empty() {
            return Err(SignatureError::NoKey);
        }
        let candidates: Vec<&(String, Arc<dyn VerifyingKey>)> = self
            .keys
            .iter()
            .filter(|(_, key)| self.allowed.contains(&key.algorithm()))
            .collect();
        if candidates.is_empty() {
            return Err(SignatureError::AlgorithmNotAllowed);
        }
        let fits = |key: &Arc<dyn VerifyingKey>| {
            key.signature_len().is_none_or(|len| len == signature.len())
        };
        if !candidates.iter().any(|(_, key)| fits(key)) {
            return Err(SignatureError::MalformedSignature);
        }

        let canonical_body = canonical_body()?;
        // The canonical body itself is the message by default; no copy.
        let message = match self.content {
            SignedContent::CanonicalBody => Cow::Borrowed(canonical_body.as_ref()),
            content => Cow::Owned(content.message(timestamp_text, &canonical_body)),
        };
        for (key_id, key) in candidates {
            if fits(key) && key.verify(&message, &signature).is_ok() {
                return Ok(Verified {
                    key_id: key_id.clone(),
                    algorithm: key.algorithm(),
                    timestamp,
                });
            }
        }
        Err(SignatureError::Mismatch)
    }

    /// [`verify`](Self::verify) at the system clock's current time.
    ///
    /// # Errors
    ///
    /// As [`verify`](Self::verify).
    pub fn verify_now(&self, request: &SignedRequest<'_>) -> Result<Verified, SignatureError> {
        self.verify(request, OffsetDateTime::now_utc())
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Key ids and algorithms only, never key material.
        let keys: Vec<(&str, Algorithm)> = self
            .keys
            .iter()
            .map(|(id, key)| (id.as_str(), key.algorithm()))
            .collect();
        f.debug_struct("Verifier")
            .field("keys", &keys)
            .field("allowed", &self.allowed)
            .field("policy", &self.policy)
            .field("content", &self.content)
            .finish()
    }
}

/// Parses an RFC 3339 `date-time` ([`Timestamp::parse`]: the ABNF's `T`/`t` is required).
fn parse_timestamp(text: &str) -> Result<OffsetDateTime, SignatureError> {
    Timestamp::parse(text)
        .map(Timestamp::get)
        .map_err(|_| SignatureError::MalformedTimestamp)
}

/// Trims HTTP optional whitespace; `None` when absent or empty.
fn non_empty(value: Option<&str>) -> Option<&str> {
    value
        .map(|v| v.trim_matches(|c| c == ' ' || c == '\t'))
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-01-30 12:00:00 UTC);

    fn hmac() -> HmacSha256Key {
        HmacSha256Key::new(b"secret 0123456789").unwrap()
    }

    #[test]
    fn timestamp_is_whole_seconds_utc() {
        let signer = RequestSigner::new(hmac());
        let h = signer
            .sign(b"{}", datetime!(2026-01-30 13:00:00.999 +01:00))
            .unwrap();
        assert_eq!(h.timestamp, "2026-01-30T12:00:00Z");
        assert!(!h.signature.contains('='));
        assert_eq!(h.signature.len(), 43);
    }

    #[test]
    fn header_whitespace_is_trimmed_and_empty_is_missing() {
        let h = RequestSigner::new(hmac()).sign(b"[]", NOW).unwrap();
        let v = Verifier::new([Algorithm::HS256]).with_key("k", hmac());
        let sig = format!(" \t{} ", h.signature);
        let ts = format!(" {}\t", h.timestamp);
        let req = SignedRequest {
            body: b"[]",
            signature: Some(&sig),
            timestamp: Some(&ts),
        };
        assert!(v.verify(&req, NOW).is_ok());
        let req = SignedRequest {
            signature: Some("  "),
            ..req
        };
        assert_eq!(v.verify(&req, NOW), Err(SignatureError::MissingSignature));
    }

    /// `verify_canonical` answers exactly as `verify` on the same body, for every content
    /// layout, signed, tampered, unsigned and empty bodies alike.
    #[test]
    fn verify_canonical_agrees_with_verify() {
        let bodies: [&[u8]; 4] = [b"{\"b\":1.0, \"a\":[2]}", b"[]", b"", b"{\"a\":1}"];
        for content in [
            SignedContent::CanonicalBody,
            SignedContent::TimestampAndBody,
        ] {
            let signer = RequestSigner::new(hmac()).with_signed_content(content);
            let v = Verifier::new([Algorithm::HS256])
                .with_key("k", hmac())
                .with_signed_content(content);
            for signed_over in bodies {
                let Ok(h) = signer.sign(signed_over, NOW) else {
                    continue;
                };
                for body in bodies {
                    let req = SignedRequest {
                        body,
                        signature: Some(&h.signature),
                        timestamp: Some(&h.timestamp),
                    };
                    let canonical = CanonicalBody::new(body).unwrap();
                    let shared = v.verify_canonical(&canonical, req.signature, req.timestamp, NOW);
                    assert_eq!(shared, v.verify(&req, NOW), "{content:?} {body:?}");
                    let missing = v.verify_canonical(&canonical, None, req.timestamp, NOW);
                    assert_eq!(missing, Err(SignatureError::MissingSignature));
                }
            }
        }
        // The fingerprint of the shared form is the fingerprint of the raw body.
        for body in bodies {
            let canonical = CanonicalBody::new(body).unwrap();
            assert_eq!(
                crate::trust::idempotency::Fingerprint::of_canonical_body(&canonical),
                crate::trust::idempotency::Fingerprint::of_body(body).unwrap()
            );
        }
        // A body with no canonical form has no CanonicalBody, and Debug shows no content.
        assert!(CanonicalBody::new(b"{\"a\":1,\"a\":2}").is_err());
        let debug = format!("{:?}", CanonicalBody::new(b"{\"pan\":\"4242\"}").unwrap());
        assert!(!debug.contains("4242"), "{debug}");
    }

    #[test]
    fn overlong_signature_is_malformed_before_decoding() {
        let long = "A".repeat(MAX_SIGNATURE_HEADER_LEN + 1);
        let v = Verifier::new([Algorithm::HS256]).with_key("k", hmac());
        let req = SignedRequest {
            body: b"{}",
            signature: Some(&long),
            timestamp: Some("2026-01-30T12:00:00Z"),
        };
        assert_eq!(v.verify(&req, NOW), Err(SignatureError::MalformedSignature));
    }

    #[test]
    fn message_layouts() {
        assert_eq!(SignedContent::CanonicalBody.message("t", b"{}"), b"{}");
        assert_eq!(SignedContent::TimestampAndBody.message("t", b"{}"), b"t.{}");
    }
}
