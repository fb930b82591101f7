//! `agentic-commerce-postgres` against a real PostgreSQL server, in one test binary (one link):
//! the stores ([`store`]), product feeds ([`feeds`]), the order-webhook outbox ([`outbox`]) and the merchant engine's
//! completing commit ([`order_commit`]). Each test works in its own schema.

mod common;
mod feeds;
mod order_commit;
mod outbox;
mod store;
