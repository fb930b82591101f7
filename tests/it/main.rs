//! The integration tests, one binary grouped by behaviour (one module per layer of the crate,
//! plus the command-line tool and the end-to-end runs of the examples).
//!
//! `cargo test --test it <module path>` runs a part, e.g. `cargo test --test it trust::canonical`.

#[path = "../common/mod.rs"]
mod common;
#[path = "../e2e_support/ex.rs"]
mod ex;
#[path = "../e2e_support/harness.rs"]
mod harness;
#[path = "../e2e_support/wire.rs"]
mod wire;

mod checkout;
mod cli;
mod e2e;
mod engine;
mod models;
mod protocol;
mod rules;
mod trust;
