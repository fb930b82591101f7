//! The `acp` command-line tool, run as a process, and the conformance checker against the example merchant.

mod canonical;
mod conformance_checker;
mod feed;
mod feed_lint;
mod load;
mod models;
mod protocol;
mod rules;
mod trust;
