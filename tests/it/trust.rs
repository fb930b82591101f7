//! Canonical JSON, request signatures, webhooks, allowances, idempotency, hostile input and fuzz regressions.

mod adversarial;
mod allowance;
mod canonical;
mod fuzz_regressions;
mod idempotency;
mod signature;
mod webhook;
