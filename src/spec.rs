//! The wire types of each released ACP spec version, one module per version
//! date (`v2026_04_17`), each with one module per official schema bundle.
//!
//! Types are generated from the official JSON Schemas by the repository's
//! code generator (see the README) and checked against them by the
//! conformance and property tests.

pub mod common;
pub mod v2025_09_29;
pub mod v2025_12_12;
pub mod v2026_01_16;
pub mod v2026_01_30;
pub mod v2026_04_17;
