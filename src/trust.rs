//! Trust between parties: RFC 8785 canonical JSON, request signatures, webhook signatures,
//! delegated-payment allowances and idempotency.
//!
//! Everything here works on bytes, header strings and JSON values; nothing depends on the
//! checkout state machine.
//!
//! | concern | module |
//! |---|---|
//! | RFC 8785 canonical JSON | [`canonical`] |
//! | `Signature` / `Timestamp` request signatures | [`signature`] |
//! | `Merchant-Signature` order webhooks | [`webhook`] |
//! | delegated-payment token allowances, single use | [`allowance`] |
//! | `Idempotency-Key` fingerprints, decisions, store | [`idempotency`] |

pub mod allowance;
pub mod canonical;
pub mod idempotency;
pub mod signature;
pub mod webhook;

use time::Duration;

/// A policy (idempotency retention and lease, signature or webhook clock tolerance) that breaks
/// a spec rule or a safety bound.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// Idempotency retention below the 24 hours IDEM-14 requires.
    #[error("retention must be at least 24 hours (IDEM-14)")]
    RetentionTooShort,
    /// An idempotency in-flight lease that is not positive.
    #[error("the in-flight lease must be positive")]
    LeaseNotPositive,
    /// A negative clock-skew tolerance.
    #[error("clock-skew tolerance must not be negative")]
    NegativeTolerance,
    /// A clock-skew tolerance above
    /// [`VerificationPolicy::MAX_TOLERANCE`](signature::VerificationPolicy::MAX_TOLERANCE), so
    /// that the check cannot be switched off by a huge window.
    #[error("clock-skew tolerance exceeds the maximum of {max}")]
    ToleranceTooLarge {
        /// The cap.
        max: Duration,
    },
}
