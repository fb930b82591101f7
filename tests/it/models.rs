//! Parsing, strict validation and the models of every released version: the official examples, the offline feed files, unions, properties, errors, card data in `Debug`, version conversion, the synthetic next version.

mod bench_payloads;
mod conformance;
mod errors;
mod feed_files;
mod new_version;
mod parse;
mod primitives;
mod properties;
mod sensitive_debug;
mod unions;
mod versions;
mod versions_faithful;
