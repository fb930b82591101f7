//! Business rules and the rules catalog.

mod catalog;
mod delegate_payment;
mod feed_readiness;
mod session;
