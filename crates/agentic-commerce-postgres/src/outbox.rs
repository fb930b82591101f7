//! [`OutboxStore`] for [`PgStore`]: the table `acp_outbox`, written in the transaction of the
//! order document it belongs to.
//!
//! - [`record`](OutboxStore::record): the document's compare-and-swap and the event's insert in
//!   one transaction; the event's `seq` (a `BIGSERIAL`) orders an order's events, since the
//!   version guard serializes the writes of one order.
//! - [`claim`](OutboxStore::claim): one statement picks the due heads of the orders' queues
//!   (`NOT EXISTS` an older live event of the same order) with `FOR UPDATE SKIP LOCKED`, and
//!   leases them under a fresh token from `acp_idempotency_lease_seq`: a concurrent claim skips
//!   the rows being claimed, and after the commit it sees the lease; an order whose head is
//!   claimed has no other due event.
//! - [`settle`](OutboxStore::settle) changes the row only while the claim's token is on it:
//!   delivered events are deleted; dead letters stay (listed oldest first) until
//!   [`PgStore::purge_dead_letters_before`].

use std::time::Duration;

use agentic_commerce::engine::outbox::{
    ClaimedEvent, NewEvent, OutboxEvent, OutboxStore, Recorded, Settlement,
};
use agentic_commerce::engine::store::Write;
use time::OffsetDateTime;
use tokio_postgres::{Row, Transaction};

use crate::store::{from_us, to_us, write_document};
use crate::{PgError, PgStore};

const COLUMNS: &str = "seq, order_id, recipient, version, event_type, payload, created_us, \
                       attempts, next_attempt_us, last_error";
/// [`COLUMNS`] of the claim's `UPDATE … FROM`, where `seq` alone would be ambiguous.
const CLAIM_COLUMNS: &str = "o.seq, o.order_id, o.recipient, o.version, o.event_type, \
                             o.payload, o.created_us, o.attempts, o.next_attempt_us, \
                             o.last_error, o.lease";

fn decode(row: &Row) -> Result<OutboxEvent, PgError> {
    let version: String = row.try_get(3)?;
    Ok(OutboxEvent {
        seq: u64::try_from(row.try_get::<_, i64>(0)?)
            .map_err(|_| PgError::Corrupt("outbox seq"))?,
        event: NewEvent {
            order_id: row.try_get(1)?,
            recipient: row.try_get(2)?,
            version: version
                .parse()
                .map_err(|_| PgError::Corrupt("outbox version"))?,
            event_type: row.try_get(4)?,
            payload: row.try_get(5)?,
        },
        created_at: from_us(row.try_get(6)?)?,
        attempts: u32::try_from(row.try_get::<_, i32>(7)?).unwrap_or(0),
        next_attempt_at: from_us(row.try_get(8)?)?,
        last_error: row.try_get(9)?,
    })
}

/// Enqueues `event` (due `now`) inside `tx`, the transaction of the writes it belongs to; its
/// sequence number.
pub(crate) async fn insert_event(
    tx: &Transaction<'_>,
    event: &NewEvent,
    now: OffsetDateTime,
) -> Result<u64, PgError> {
    let row = tx
        .query_one(
            "INSERT INTO acp_outbox (order_id, recipient, version, event_type, payload, \
             created_us, next_attempt_us) VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING seq",
            &[
                &event.order_id,
                &event.recipient,
                &event.version.as_str(),
                &event.event_type,
                &event.payload,
                &to_us(now),
            ],
        )
        .await?;
    u64::try_from(row.try_get::<_, i64>(0)?).map_err(|_| PgError::Corrupt("outbox seq"))
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl PgStore {
    async fn record_inner(
        &self,
        write: Write,
        event: Option<NewEvent>,
        now: OffsetDateTime,
    ) -> Result<Recorded, PgError> {
        let mut conn = self.pool().get().await?;
        let (client, st) = conn.prepared().await?;
        let tx = client.transaction().await?;
        if !write_document(&tx, st, &write, now).await? {
            tx.rollback().await?;
            return Ok(Recorded::Conflict);
        }
        let seq = match event {
            None => None,
            Some(event) => Some(insert_event(&tx, &event, now).await?),
        };
        tx.commit().await?;
        Ok(Recorded::Committed(seq))
    }

    async fn claim_inner(
        &self,
        now: OffsetDateTime,
        limit: usize,
        lease: Duration,
        recipient: Option<&str>,
    ) -> Result<Vec<ClaimedEvent>, PgError> {
        let conn = self.pool().get().await?;
        let lease_until = now + lease;
        let rows = conn
            .query(
                &format!(
                    "WITH due AS (
                         SELECT e.seq FROM acp_outbox e
                          WHERE e.dead_us IS NULL AND e.next_attempt_us <= $1
                            AND (e.lease_until_us IS NULL OR e.lease_until_us <= $1)
                            AND ($4::TEXT IS NULL OR e.recipient = $4)
                            AND NOT EXISTS (
                                SELECT 1 FROM acp_outbox p
                                 WHERE p.order_id = e.order_id AND p.seq < e.seq
                                   AND p.dead_us IS NULL)
                          ORDER BY e.next_attempt_us, e.seq
                          LIMIT $2
                          FOR UPDATE OF e SKIP LOCKED
                     ), token AS (SELECT nextval('acp_idempotency_lease_seq') AS lease)
                     UPDATE acp_outbox o
                        SET lease = token.lease, lease_until_us = $3, attempts = o.attempts + 1
                       FROM due, token
                      WHERE o.seq = due.seq
                  RETURNING {CLAIM_COLUMNS}"
                ),
                &[
                    &to_us(now),
                    &i64::try_from(limit).unwrap_or(i64::MAX),
                    &to_us(lease_until),
                    &recipient,
                ],
            )
            .await?;
        let mut claimed = rows
            .iter()
            .map(|row| {
                Ok(ClaimedEvent {
                    event: decode(row)?,
                    lease: u64::try_from(row.try_get::<_, i64>(10)?)
                        .map_err(|_| PgError::Corrupt("outbox lease"))?,
                    lease_until,
                })
            })
            .collect::<Result<Vec<_>, PgError>>()?;
        claimed.sort_by_key(|c| (c.event.next_attempt_at, c.event.seq));
        Ok(claimed)
    }

    async fn settle_inner(
        &self,
        claim: &ClaimedEvent,
        settlement: Settlement,
        now: OffsetDateTime,
    ) -> Result<bool, PgError> {
        let conn = self.pool().get().await?;
        let (seq, lease) = (to_i64(claim.event.seq), to_i64(claim.lease));
        let changed = match settlement {
            Settlement::Delivered => {
                conn.execute(
                    "DELETE FROM acp_outbox WHERE seq = $1 AND lease = $2 AND dead_us IS NULL",
                    &[&seq, &lease],
                )
                .await?
            }
            Settlement::Retry { at, error } => {
                conn.execute(
                    "UPDATE acp_outbox SET lease = NULL, lease_until_us = NULL, \
                     next_attempt_us = $3, last_error = $4 \
                     WHERE seq = $1 AND lease = $2 AND dead_us IS NULL",
                    &[&seq, &lease, &to_us(at), &error],
                )
                .await?
            }
            Settlement::Dead { error } => {
                conn.execute(
                    "UPDATE acp_outbox SET lease = NULL, lease_until_us = NULL, \
                     dead_us = $3, last_error = $4 \
                     WHERE seq = $1 AND lease = $2 AND dead_us IS NULL",
                    &[&seq, &lease, &to_us(now), &error],
                )
                .await?
            }
            // A settlement this crate does not know yet changes nothing.
            _ => 0,
        };
        Ok(changed == 1)
    }

    /// Deletes the dead letters that died before `cutoff`; returns how many.
    ///
    /// # Errors
    ///
    /// Database or pool failures.
    pub async fn purge_dead_letters_before(&self, cutoff: OffsetDateTime) -> Result<u64, PgError> {
        let conn = self.pool().get().await?;
        Ok(conn
            .execute(
                "DELETE FROM acp_outbox WHERE dead_us IS NOT NULL AND dead_us < $1",
                &[&to_us(cutoff)],
            )
            .await?)
    }
}

impl OutboxStore for PgStore {
    async fn record(
        &self,
        write: Write,
        event: Option<NewEvent>,
        now: OffsetDateTime,
    ) -> Result<Recorded, PgError> {
        self.record_inner(write, event, now).await
    }

    async fn claim(
        &self,
        now: OffsetDateTime,
        limit: usize,
        lease: Duration,
        recipient: Option<&str>,
    ) -> Result<Vec<ClaimedEvent>, PgError> {
        self.claim_inner(now, limit, lease, recipient).await
    }

    async fn settle(
        &self,
        claim: &ClaimedEvent,
        settlement: Settlement,
        now: OffsetDateTime,
    ) -> Result<bool, PgError> {
        self.settle_inner(claim, settlement, now).await
    }

    async fn dead_letters(&self, limit: usize) -> Result<Vec<OutboxEvent>, PgError> {
        let conn = self.pool().get().await?;
        let rows = conn
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM acp_outbox WHERE dead_us IS NOT NULL \
                     ORDER BY seq LIMIT $1"
                ),
                &[&i64::try_from(limit).unwrap_or(i64::MAX)],
            )
            .await?;
        rows.iter().map(decode).collect()
    }

    async fn pending(&self) -> Result<u64, PgError> {
        let conn = self.pool().get().await?;
        let row = conn
            .query_one("SELECT count(*) FROM acp_outbox WHERE dead_us IS NULL", &[])
            .await?;
        Ok(u64::try_from(row.try_get::<_, i64>(0)?).unwrap_or(0))
    }
}
