//! Delegated payment token allowances (DP-03 … DP-11) and single use.
//!
//! A delegated payment token (`vt_…`) is minted with an `allowance`: the one checkout session,
//! merchant, currency, maximum amount and expiry it may be charged within. Before a merchant (or
//! its PSP) charges the token, it must check the proposed charge against that allowance (DP-03)
//! and make sure the token has not been used before (DP-11).
//!
//! - [`AllowanceTerms`] is the allowance, deserializable from the official `Allowance` JSON
//!   object of `schema.delegate_payment.json`.
//! - [`ProposedCharge`] is what the merchant is about to charge.
//! - [`check`] is a pure function over both and an explicit `now`. It reports **every**
//!   violated rule at once, one [`AllowanceViolation`] each, in a fixed order.
//! - [`TokenLedger`] records consumed tokens; [`InMemoryTokenLedger`] is a thread-safe
//!   in-memory implementation. [`authorize_charge`] checks the allowance first and consumes
//!   the token only if every check passes.
//!
//! # Rules
//!
//! | Rule  | Check                                                                   | Violation                                |
//! |-------|-------------------------------------------------------------------------|------------------------------------------|
//! | DP-05 | `reason` is `one_time`                                                  | [`AllowanceViolation::ReasonNotOneTime`]  |
//! | DP-03 | `amount > 0`                                                            | [`AllowanceViolation::NonPositiveAmount`] |
//! | DP-03 | `amount <= max_amount`                                                  | [`AllowanceViolation::AmountExceeded`]    |
//! | DP-03 | currencies equal, ASCII case-insensitively (DP-07 allowance is lowercase) | [`AllowanceViolation::CurrencyMismatch`]  |
//! | DP-09 | `checkout_session_id` equal (exact)                                     | [`AllowanceViolation::SessionMismatch`]   |
//! | DP-10 | `merchant_id` equal (exact)                                             | [`AllowanceViolation::MerchantMismatch`]  |
//! | DP-04 | `now < expires_at` (exactly at `expires_at` is expired)                 | [`AllowanceViolation::Expired`]           |
//!
//! Amounts are `i64` minor units and are only compared, never added, so no value can overflow.
//!
//! # Example
//!
//! ```
//! use agentic_commerce::trust::allowance::{
//!     authorize_charge, AllowanceTerms, InMemoryTokenLedger, ProposedCharge,
//! };
//! use time::macros::datetime;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let terms: AllowanceTerms = serde_json::from_str(
//!     r#"{"reason":"one_time","max_amount":2000,"currency":"usd",
//!         "checkout_session_id":"csn_01HV3P3","merchant_id":"acme",
//!         "expires_at":"2025-10-09T07:20:50.52Z"}"#,
//! )?;
//! let charge = ProposedCharge {
//!     amount: 1999,
//!     currency: "USD".to_owned(),
//!     checkout_session_id: "csn_01HV3P3".to_owned(),
//!     merchant_id: "acme".to_owned(),
//! };
//! let ledger = InMemoryTokenLedger::new();
//! let now = datetime!(2025-10-09 07:00 UTC);
//!
//! let ok = authorize_charge(&ledger, "vt_123", &terms, &charge, now)?;
//! assert_eq!(ok.headroom(), 1);
//! // The token is single use (DP-11).
//! assert!(authorize_charge(&ledger, "vt_123", &terms, &charge, now).is_err());
//! # Ok(())
//! # }
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::primitives::Timestamp;

/// The allowance `reason` of a delegated payment token (DP-05).
///
/// The 2026-04-17 schema defines one value, `one_time`. Other values are kept as received so
/// that [`check`] can report them ([`AllowanceViolation::ReasonNotOneTime`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AllowanceReason(String);

impl AllowanceReason {
    /// The wire value `one_time`.
    pub const ONE_TIME: &'static str = "one_time";

    /// The `one_time` reason.
    pub fn one_time() -> Self {
        Self(Self::ONE_TIME.to_owned())
    }

    /// Any reason string, kept as given.
    pub fn new(reason: impl Into<String>) -> Self {
        Self(reason.into())
    }

    /// The wire value.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is `one_time`.
    pub fn is_one_time(&self) -> bool {
        self.0 == Self::ONE_TIME
    }
}

impl fmt::Display for AllowanceReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The allowance of a delegated payment token: the `Allowance` object of
/// `schema.delegate_payment.json` (2026-04-17).
///
/// Deserializes from the official JSON (`expires_at` as RFC 3339) and ignores unknown keys. The
/// fields are plain and public: this is an input to [`check`], not a validated wire type, and
/// the schema's own constraints (lowercase `currency`, `merchant_id` length) are enforced by the
/// model types, not here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllowanceTerms {
    /// Usage pattern; only `one_time` is valid (DP-05).
    pub reason: AllowanceReason,
    /// Maximum charge in minor units (DP-03, DP-06).
    pub max_amount: i64,
    /// ISO 4217 currency code, lowercase in the schema (DP-07).
    pub currency: String,
    /// The checkout session the token is bound to (DP-09).
    pub checkout_session_id: String,
    /// The merchant allowed to charge the token (DP-10).
    pub merchant_id: String,
    /// The instant from which the token is invalid (DP-04, DP-08).
    #[serde(with = "crate::primitives::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// A charge a merchant proposes to make with a delegated payment token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposedCharge {
    /// Amount in minor units.
    pub amount: i64,
    /// ISO 4217 currency code, either case.
    pub currency: String,
    /// The checkout session being paid.
    pub checkout_session_id: String,
    /// The merchant making the charge.
    pub merchant_id: String,
}

/// Proof that a charge is within its allowance; only [`check`] constructs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllowanceOk {
    amount: i64,
    max_amount: i64,
}

impl AllowanceOk {
    /// The checked charge amount (positive).
    pub fn amount(&self) -> i64 {
        self.amount
    }

    /// The allowance's maximum amount.
    pub fn max_amount(&self) -> i64 {
        self.max_amount
    }

    /// How far below the maximum the charge is (`max_amount - amount`, never negative).
    pub fn headroom(&self) -> i64 {
        // 0 < amount <= max_amount, so this cannot overflow; saturating keeps it total anyway.
        self.max_amount.saturating_sub(self.amount)
    }
}

/// Checks a proposed charge against an allowance at time `now` (DP-03 … DP-10).
///
/// See the [module docs](self) for the rules. All rules are evaluated; nothing short-circuits.
///
/// # Errors
///
/// [`AllowanceViolations`] listing every violated rule, in the order of the module table.
pub fn check(
    terms: &AllowanceTerms,
    charge: &ProposedCharge,
    now: OffsetDateTime,
) -> Result<AllowanceOk, AllowanceViolations> {
    let mut violations = Vec::new();
    if !terms.reason.is_one_time() {
        violations.push(AllowanceViolation::ReasonNotOneTime {
            found: terms.reason.as_str().to_owned(),
        });
    }
    if charge.amount <= 0 {
        violations.push(AllowanceViolation::NonPositiveAmount {
            requested: charge.amount,
        });
    }
    if charge.amount > terms.max_amount {
        violations.push(AllowanceViolation::AmountExceeded {
            max: terms.max_amount,
            requested: charge.amount,
        });
    }
    if !terms.currency.eq_ignore_ascii_case(&charge.currency) {
        violations.push(AllowanceViolation::CurrencyMismatch {
            expected: terms.currency.clone(),
            found: charge.currency.clone(),
        });
    }
    if terms.checkout_session_id != charge.checkout_session_id {
        violations.push(AllowanceViolation::SessionMismatch {
            expected: terms.checkout_session_id.clone(),
            found: charge.checkout_session_id.clone(),
        });
    }
    if terms.merchant_id != charge.merchant_id {
        violations.push(AllowanceViolation::MerchantMismatch {
            expected: terms.merchant_id.clone(),
            found: charge.merchant_id.clone(),
        });
    }
    if now >= terms.expires_at {
        violations.push(AllowanceViolation::Expired {
            at: terms.expires_at,
        });
    }
    match AllowanceViolations::new(violations) {
        Some(violations) => Err(violations),
        None => Ok(AllowanceOk {
            amount: charge.amount,
            max_amount: terms.max_amount,
        }),
    }
}

/// One violated allowance rule.
///
/// # Two forms: public and detailed
///
/// A violation has two textual forms, because the party that is told about it is usually not
/// the party that holds the allowance:
///
/// - The **public form** is the [`Display`](fmt::Display) text, the `message` of the
///   [`Serialize`] form, and [`public_message`](Self::public_message). It names the broken
///   rule but **none of the allowance's values**: not its `merchant_id`,
///   `checkout_session_id`, `max_amount`, `currency`, `reason` or `expires_at`. Put only this
///   form in a PSP's response. A merchant holding someone else's token would otherwise learn
///   the token's scope from one failed (free) charge and then charge with the right values
///   (DP-03, DP-09, DP-10).
/// - The **detailed form**, [`detailed`](Self::detailed), names the expected and found
///   values, for the PSP's own logs and for tools run by whoever holds both the allowance and
///   the charge.
///
/// The variants' fields (and the derived `Debug`) carry the values too; keep them out of
/// responses as well.
///
/// Serializes as `{"rule":"DP-04","code":"expired","message":<public form>}`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AllowanceViolation {
    /// The allowance reason is not `one_time` (DP-05).
    ReasonNotOneTime {
        /// The reason in the allowance.
        found: String,
    },
    /// The charge amount is zero or negative (DP-03).
    NonPositiveAmount {
        /// The proposed amount.
        requested: i64,
    },
    /// The charge amount is above the allowance's `max_amount` (DP-03).
    AmountExceeded {
        /// The allowance's `max_amount`.
        max: i64,
        /// The proposed amount.
        requested: i64,
    },
    /// The charge currency differs from the allowance currency, ignoring ASCII case (DP-03).
    CurrencyMismatch {
        /// The allowance's currency.
        expected: String,
        /// The charge's currency.
        found: String,
    },
    /// The charge is for another checkout session than the token is bound to (DP-09).
    SessionMismatch {
        /// The allowance's `checkout_session_id`.
        expected: String,
        /// The charge's checkout session id.
        found: String,
    },
    /// The charge is made by another merchant than the token is scoped to (DP-10).
    MerchantMismatch {
        /// The allowance's `merchant_id`.
        expected: String,
        /// The charging merchant id.
        found: String,
    },
    /// `now` is at or after the allowance's `expires_at` (DP-04).
    Expired {
        /// The allowance's `expires_at`.
        at: OffsetDateTime,
    },
}

impl fmt::Display for AllowanceViolation {
    /// The public form: no value of the allowance (see the [type docs](Self)).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.public_message())
    }
}

impl std::error::Error for AllowanceViolation {}

/// The detailed form of an [`AllowanceViolation`], with the allowance's values: for logs only,
/// never for a response. From [`AllowanceViolation::detailed`].
///
/// Displays as text and serializes as `{"rule","code","message"}` with the detailed message.
#[derive(Debug, Clone, Copy)]
pub struct DetailedViolation<'a>(&'a AllowanceViolation);

impl fmt::Display for DetailedViolation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            AllowanceViolation::ReasonNotOneTime { found } => {
                write!(
                    f,
                    "allowance reason is `{found}`; only `one_time` is supported"
                )
            }
            AllowanceViolation::NonPositiveAmount { requested } => {
                write!(f, "charge amount {requested} is not positive")
            }
            AllowanceViolation::AmountExceeded { max, requested } => {
                write!(
                    f,
                    "charge amount {requested} exceeds the allowance max_amount {max}"
                )
            }
            AllowanceViolation::CurrencyMismatch { expected, found } => write!(
                f,
                "charge currency `{found}` does not match the allowance currency `{expected}`"
            ),
            AllowanceViolation::SessionMismatch { expected, found } => {
                write!(
                    f,
                    "token is bound to checkout session `{expected}`, not `{found}`"
                )
            }
            AllowanceViolation::MerchantMismatch { expected, found } => {
                write!(f, "token is scoped to merchant `{expected}`, not `{found}`")
            }
            AllowanceViolation::Expired { at } => {
                write!(f, "allowance expired at {}", Timestamp(*at))
            }
        }
    }
}

impl Serialize for DetailedViolation<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_violation(serializer, self.0, &self.to_string())
    }
}

fn serialize_violation<S: serde::Serializer>(
    serializer: S,
    violation: &AllowanceViolation,
    message: &str,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeStruct as _;
    let mut out = serializer.serialize_struct("AllowanceViolation", 3)?;
    out.serialize_field("rule", violation.rule())?;
    out.serialize_field("code", violation.code())?;
    out.serialize_field("message", message)?;
    out.end()
}

impl AllowanceViolation {
    /// The requirement ID the violation breaks (`DP-03`, `DP-04`, `DP-05`, `DP-09`, `DP-10`).
    pub fn rule(&self) -> &'static str {
        match self {
            Self::ReasonNotOneTime { .. } => "DP-05",
            Self::NonPositiveAmount { .. }
            | Self::AmountExceeded { .. }
            | Self::CurrencyMismatch { .. } => "DP-03",
            Self::SessionMismatch { .. } => "DP-09",
            Self::MerchantMismatch { .. } => "DP-10",
            Self::Expired { .. } => "DP-04",
        }
    }

    /// The public message: which rule is broken, without any value of the allowance or the
    /// charge. This is the [`Display`](fmt::Display) text.
    pub fn public_message(&self) -> &'static str {
        match self {
            Self::ReasonNotOneTime { .. } => "the token's allowance reason is not supported",
            Self::NonPositiveAmount { .. } => "charge amount is not positive",
            Self::AmountExceeded { .. } => "charge amount exceeds the token's allowance",
            Self::CurrencyMismatch { .. } => "charge currency does not match the token's allowance",
            Self::SessionMismatch { .. } => "token is not valid for this checkout session",
            Self::MerchantMismatch { .. } => "token is not valid for this merchant",
            Self::Expired { .. } => "token's allowance has expired",
        }
    }

    /// The detailed form, naming the allowance's expected values and the charge's values:
    /// for logs only, never for a response (see the [type docs](Self)).
    pub fn detailed(&self) -> DetailedViolation<'_> {
        DetailedViolation(self)
    }

    /// A stable `snake_case` code for the violation.
    pub fn code(&self) -> &'static str {
        match self {
            Self::ReasonNotOneTime { .. } => "reason_not_one_time",
            Self::NonPositiveAmount { .. } => "non_positive_amount",
            Self::AmountExceeded { .. } => "amount_exceeded",
            Self::CurrencyMismatch { .. } => "currency_mismatch",
            Self::SessionMismatch { .. } => "session_mismatch",
            Self::MerchantMismatch { .. } => "merchant_mismatch",
            Self::Expired { .. } => "expired",
        }
    }
}

impl Serialize for AllowanceViolation {
    /// The public form (see the [type docs](Self)).
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_violation(serializer, self, self.public_message())
    }
}

/// Every rule a proposed charge violates (never empty); the error of [`check`].
///
/// Like [`AllowanceViolation`], its [`Display`](fmt::Display) and [`Serialize`] forms are
/// public (no value of the allowance; safe for a response) and [`detailed`](Self::detailed)
/// is for logs. Serializes as a JSON array of [`AllowanceViolation`] objects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(transparent)]
pub struct AllowanceViolations(Vec<AllowanceViolation>);

impl AllowanceViolations {
    /// The only constructor: `None` for an empty list, so a value always holds a violation.
    fn new(violations: Vec<AllowanceViolation>) -> Option<Self> {
        (!violations.is_empty()).then_some(Self(violations))
    }

    /// The violations, in the order of the rules table in the [module docs](self).
    pub fn as_slice(&self) -> &[AllowanceViolation] {
        &self.0
    }

    /// Iterates over the violations.
    pub fn iter(&self) -> std::slice::Iter<'_, AllowanceViolation> {
        self.0.iter()
    }

    /// The number of violations (at least one).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always `false` (the only constructor refuses an empty list): a check that finds
    /// nothing returns [`AllowanceOk`] instead.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The violations as a vector.
    pub fn into_vec(self) -> Vec<AllowanceViolation> {
        self.0
    }

    /// The detailed form of every violation, with the allowance's values: for logs only,
    /// never for a response.
    pub fn detailed(&self) -> DetailedViolations<'_> {
        DetailedViolations(&self.0)
    }
}

impl fmt::Display for AllowanceViolations {
    /// The public form: `charge is outside the token allowance: <message> (<rule>); …`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_violations(f, &self.0, |f, v| f.write_str(v.public_message()))
    }
}

fn write_violations(
    f: &mut fmt::Formatter<'_>,
    violations: &[AllowanceViolation],
    mut message: impl FnMut(&mut fmt::Formatter<'_>, &AllowanceViolation) -> fmt::Result,
) -> fmt::Result {
    f.write_str("charge is outside the token allowance: ")?;
    for (i, violation) in violations.iter().enumerate() {
        if i > 0 {
            f.write_str("; ")?;
        }
        message(f, violation)?;
        write!(f, " ({})", violation.rule())?;
    }
    Ok(())
}

/// The detailed form of [`AllowanceViolations`], with the allowance's values: for logs only.
/// From [`AllowanceViolations::detailed`].
///
/// Displays like [`AllowanceViolations`] with detailed messages; serializes as an array of
/// [`DetailedViolation`] objects.
#[derive(Debug, Clone, Copy)]
pub struct DetailedViolations<'a>(&'a [AllowanceViolation]);

impl fmt::Display for DetailedViolations<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_violations(f, self.0, |f, v| write!(f, "{}", v.detailed()))
    }
}

impl Serialize for DetailedViolations<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(AllowanceViolation::detailed))
    }
}

impl<'a> IntoIterator for &'a AllowanceViolations {
    type Item = &'a AllowanceViolation;
    type IntoIter = std::slice::Iter<'a, AllowanceViolation>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Records which delegated payment tokens have been used, so each is charged at most once
/// (DP-11: `one_time` tokens are single use).
///
/// Implement it over your own storage (a unique-key insert, a compare-and-set). The crate ships
/// [`InMemoryTokenLedger`] for tests and single-process use.
pub trait TokenLedger {
    /// Marks `token_id` as used at `now`, atomically: of any number of concurrent calls with the
    /// same id, exactly one returns `Ok(())`.
    ///
    /// # Errors
    ///
    /// [`LedgerError::AlreadyUsed`] if the token was consumed before;
    /// [`LedgerError::Unavailable`] if the ledger could not record it (the charge must not
    /// proceed).
    fn consume(&self, token_id: &str, now: OffsetDateTime) -> Result<(), LedgerError>;
}

/// Why a [`TokenLedger`] did not consume a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// The token was consumed before (DP-11).
    #[error("payment token has already been used")]
    AlreadyUsed,
    /// The ledger's storage failed; whether the token is used is unknown, so do not charge.
    #[error("token ledger is unavailable")]
    Unavailable,
}

impl LedgerError {
    /// The requirement ID: `DP-11`.
    pub fn rule(&self) -> &'static str {
        "DP-11"
    }

    /// A stable `snake_case` code: `already_used` or `ledger_unavailable`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::AlreadyUsed => "already_used",
            Self::Unavailable => "ledger_unavailable",
        }
    }
}

/// A thread-safe, in-memory [`TokenLedger`] (`Send + Sync`).
///
/// It forgets everything when dropped, so use it for tests and single-process services only.
/// `Debug` prints only the number of consumed tokens, never the token ids.
#[derive(Default)]
pub struct InMemoryTokenLedger {
    consumed: Mutex<BTreeMap<String, OffsetDateTime>>,
}

impl InMemoryTokenLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }

    /// When `token_id` was consumed, if it was.
    pub fn consumed_at(&self, token_id: &str) -> Option<OffsetDateTime> {
        self.lock().get(token_id).copied()
    }

    /// Whether `token_id` has been consumed.
    pub fn is_consumed(&self, token_id: &str) -> bool {
        self.lock().contains_key(token_id)
    }

    /// The number of consumed tokens.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no token has been consumed.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, OffsetDateTime>> {
        // The map is only ever changed by a single `insert`, which cannot leave it half-updated,
        // so a panic in another thread while holding the lock does not corrupt it.
        self.consumed.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl TokenLedger for InMemoryTokenLedger {
    fn consume(&self, token_id: &str, now: OffsetDateTime) -> Result<(), LedgerError> {
        let mut consumed = self.lock();
        if consumed.contains_key(token_id) {
            return Err(LedgerError::AlreadyUsed);
        }
        consumed.insert(token_id.to_owned(), now);
        Ok(())
    }
}

impl fmt::Debug for InMemoryTokenLedger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InMemoryTokenLedger")
            .field("consumed", &self.len())
            .finish()
    }
}

/// Why [`authorize_charge`] refused a charge.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthorizeError {
    /// The charge is outside the allowance; the token was not consumed.
    #[error(transparent)]
    Allowance(#[from] AllowanceViolations),
    /// The allowance checks passed but the token could not be consumed (DP-11).
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// Checks a charge against the token's allowance and, only if every check passes, consumes the
/// token in `ledger` (DP-03 … DP-11).
///
/// A charge that fails the allowance leaves the token unused, so a corrected charge can still
/// be made with it.
///
/// # Errors
///
/// [`AuthorizeError::Allowance`] with every violation, or [`AuthorizeError::Ledger`] if the
/// token was already used or the ledger failed.
pub fn authorize_charge<L: TokenLedger + ?Sized>(
    ledger: &L,
    token_id: &str,
    terms: &AllowanceTerms,
    charge: &ProposedCharge,
    now: OffsetDateTime,
) -> Result<AllowanceOk, AuthorizeError> {
    let ok = check(terms, charge, now)?;
    ledger.consume(token_id, now)?;
    Ok(ok)
}
