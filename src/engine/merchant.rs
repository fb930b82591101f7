//! The merchant engine (in progress).
