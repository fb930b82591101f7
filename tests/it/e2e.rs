//! End to end over real HTTP: the example merchant, PSP vault and agent, in memory, on PostgreSQL and at every released version.

mod admin;
mod feeds;
mod postgres;
mod servers;
mod three_ds;
mod versions;
