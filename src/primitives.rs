//! Cross-version primitives: money, currency, timestamps, URIs and identifiers.
//!
//! Money is always an integer number of minor units ([`Amount`]); there are no
//! floats anywhere in the money path (HDR-05).

mod amount;
mod currency;
pub mod ids;
mod timestamp;
mod uri;

pub use amount::Amount;
pub use currency::{Currency, CurrencyError};
pub(crate) use timestamp::rfc3339;
pub use timestamp::{Timestamp, TimestampError};
pub use uri::{InvalidUriError, Uri};
