//! The example code under test (`examples/`), compiled into the test crate so the servers
//! run in-process.

#[path = "../../examples/merchant_server/admin.rs"]
pub(crate) mod admin;
#[path = "../../examples/merchant_server/app.rs"]
pub(crate) mod app;
#[path = "../../examples/merchant_server/catalog.rs"]
pub(crate) mod catalog;
#[path = "../../examples/merchant_server/checkout.rs"]
pub(crate) mod checkout;
#[path = "../../examples/agent_client/agent.rs"]
pub(crate) mod client_agent;
#[path = "../../examples/merchant_server/config.rs"]
pub(crate) mod config;
#[path = "../../examples/echo_server/echo.rs"]
pub(crate) mod echo;
#[path = "../../examples/merchant_server/feed.rs"]
pub(crate) mod feed;
#[path = "../../examples/feed_server/server.rs"]
pub(crate) mod feed_server;
#[path = "../../examples/support/http.rs"]
pub(crate) mod http;
#[path = "../../examples/merchant_server/orders.rs"]
pub(crate) mod orders;
#[path = "../../examples/psp_vault/vault.rs"]
pub(crate) mod vault;
