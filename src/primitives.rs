//! Cross-version primitives: money, currency, timestamps and identifiers.
//!
//! Money is always an integer number of minor units ([`Amount`]); there are no
//! floats anywhere in the money path (HDR-05).

mod amount;
mod currency;
pub mod ids;
mod timestamp;

pub use amount::Amount;
pub use currency::{Currency, CurrencyError};
pub use timestamp::Timestamp;
