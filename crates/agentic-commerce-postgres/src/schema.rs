//! Versioned, idempotent migrations that [`PgStore::connect`](crate::PgStore::connect) runs.
//!
//! One transaction holds `pg_advisory_xact_lock(MIGRATION_LOCK)`, creates the schema (if one
//! is configured) and `acp_schema_migrations`, reads the applied versions and applies each
//! missing one, recording it. Several processes starting at once queue on the lock; the
//! first applies, the others find everything recorded. Every statement is also written to be
//! harmless if repeated (`IF NOT EXISTS`), and a database whose schema is newer than this
//! crate is left alone (migrations only ever add).

use tokio_postgres::Client;

use crate::PgError;

/// The advisory lock of migrations (the two-`int4` key space, which never overlaps the
/// one-`bigint` key space the per-scope locks use): "ACP\0", 1.
const MIGRATION_LOCK: (i32, i32) = (0x4143_5000, 1);

/// One migration: version (strictly increasing), name, SQL.
pub(crate) struct Migration {
    pub(crate) version: i32,
    pub(crate) name: &'static str,
    pub(crate) sql: &'static str,
}

/// Every migration, oldest first.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "idempotency records, resources, consumed tokens, lease sequence",
        sql: "
        CREATE TABLE IF NOT EXISTS acp_idempotency_records (
            identity TEXT NOT NULL,
            path TEXT NOT NULL,
            key TEXT NOT NULL,
            -- SHA-256 of the canonical request body, 64 hexadecimal digits.
            fingerprint TEXT NOT NULL,
            -- In flight: the owner lease and when it runs out; NULL once completed.
            lease BIGINT,
            lease_expires_us BIGINT,
            -- Completed: the response to replay; NULL while in flight.
            status INTEGER,
            body BYTEA,
            headers TEXT,
            -- End of retention (microseconds since the Unix epoch).
            expires_us BIGINT NOT NULL,
            PRIMARY KEY (identity, path, key),
            CONSTRAINT acp_idempotency_records_state CHECK (
                (lease IS NOT NULL AND lease_expires_us IS NOT NULL AND status IS NULL)
                OR (lease IS NULL AND status IS NOT NULL AND body IS NOT NULL
                    AND headers IS NOT NULL)
            )
        );
        CREATE INDEX IF NOT EXISTS acp_idempotency_records_expires
            ON acp_idempotency_records (expires_us);
        -- Lease tokens: unique across every process sharing the database (fencing).
        CREATE SEQUENCE IF NOT EXISTS acp_idempotency_lease_seq;
        CREATE TABLE IF NOT EXISTS acp_resources (
            kind TEXT NOT NULL,
            id TEXT NOT NULL,
            -- The JSON text as written (lossless; no JSONB normalization).
            document TEXT NOT NULL,
            version BIGINT NOT NULL CHECK (version >= 1),
            updated_us BIGINT NOT NULL,
            PRIMARY KEY (kind, id)
        );
        CREATE INDEX IF NOT EXISTS acp_resources_updated ON acp_resources (updated_us);
        -- The same table as the example servers' ledger: one row per used token.
        CREATE TABLE IF NOT EXISTS acp_consumed_tokens (
            token_id TEXT PRIMARY KEY,
            consumed_us BIGINT NOT NULL
        );
        CREATE INDEX IF NOT EXISTS acp_consumed_tokens_consumed
            ON acp_consumed_tokens (consumed_us);
    ",
    },
    Migration {
        version: 2,
        name: "outbox of order webhook events",
        sql: "
        CREATE TABLE IF NOT EXISTS acp_outbox (
            -- Increasing in commit order per order (an order's writes are serialized by the
            -- version guard of its document, in the same transaction).
            seq BIGSERIAL PRIMARY KEY,
            order_id TEXT NOT NULL,
            recipient TEXT NOT NULL,
            version TEXT NOT NULL,
            event_type TEXT NOT NULL,
            -- The 2026-04-17 event as JSON text; rendered for `version` at each attempt.
            payload TEXT NOT NULL,
            created_us BIGINT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_us BIGINT NOT NULL,
            -- The claim of the worker attempting it, until lease_until_us.
            lease BIGINT,
            lease_until_us BIGINT,
            last_error TEXT,
            -- Set once the event is a dead letter; delivered events are deleted.
            dead_us BIGINT
        );
        CREATE INDEX IF NOT EXISTS acp_outbox_live_order
            ON acp_outbox (order_id, seq) WHERE dead_us IS NULL;
        CREATE INDEX IF NOT EXISTS acp_outbox_live_due
            ON acp_outbox (next_attempt_us) WHERE dead_us IS NULL;
        CREATE INDEX IF NOT EXISTS acp_outbox_dead
            ON acp_outbox (seq) WHERE dead_us IS NOT NULL;
    ",
    },
    Migration {
        version: 3,
        name: "product feeds and their products",
        sql: "
        CREATE TABLE IF NOT EXISTS acp_feeds (
            id TEXT PRIMARY KEY,
            -- The identity that created the feed; no other identity sees it.
            owner TEXT NOT NULL,
            -- FeedMetadata as JSON text.
            metadata TEXT NOT NULL,
            created_us BIGINT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS acp_feed_products (
            feed_id TEXT NOT NULL REFERENCES acp_feeds (id) ON DELETE CASCADE,
            product_id TEXT NOT NULL,
            -- The Product as JSON text, as written (unknown members kept).
            product TEXT NOT NULL,
            PRIMARY KEY (feed_id, product_id)
        );
    ",
    },
];

/// The schema version this crate creates: the last migration's.
pub const SCHEMA_VERSION: i32 = 3;

/// Applies every missing migration in one transaction under the migration lock.
pub(crate) async fn migrate(client: &mut Client, schema: Option<&str>) -> Result<(), PgError> {
    let tx = client.transaction().await?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, $2)",
        &[&MIGRATION_LOCK.0, &MIGRATION_LOCK.1],
    )
    .await?;
    if let Some(schema) = schema {
        // Validated by PgConfig::with_schema: no quoting needed. The session's search_path
        // already names it; a schema created later in the session is found from then on.
        tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
            .await?;
    }
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS acp_schema_migrations (
             version INTEGER PRIMARY KEY,
             name TEXT NOT NULL,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )",
    )
    .await?;
    let applied: Vec<i32> = tx
        .query("SELECT version FROM acp_schema_migrations", &[])
        .await?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()?;
    for migration in MIGRATIONS {
        if applied.contains(&migration.version) {
            continue;
        }
        tx.batch_execute(migration.sql).await?;
        tx.execute(
            "INSERT INTO acp_schema_migrations (version, name) VALUES ($1, $2)",
            &[&migration.version, &migration.name],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
