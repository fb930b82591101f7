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
pub use timestamp::Timestamp;
pub use uri::{InvalidUriError, Uri};
