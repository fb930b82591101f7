//! [`OutboxStore`] for [`InMemoryStore`]: the events live under the store's one lock, so an
//! order document and its event are written in one step.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use super::{
    AsyncIdempotencyStore, Commit, CommitOutcome, InMemoryStore, ResourceKind, ResourceStore,
    StoreError, Versioned, Write,
};
use crate::engine::outbox::{
    ClaimedEvent, NewEvent, OutboxEvent, OutboxStore, Recorded, Settlement,
};
use crate::trust::idempotency::{
    Completion, Fingerprint, IdempotencyOutcome, IdempotencyScope, LeaseToken, StoredResponse,
};

#[derive(Debug)]
struct Entry {
    event: OutboxEvent,
    claim: Option<(u64, OffsetDateTime)>,
}

/// The outbox part of the in-memory state.
#[derive(Debug, Default)]
pub(super) struct Outbox {
    last_seq: u64,
    last_claim: u64,
    /// Live events (not delivered, not dead) by sequence number.
    live: BTreeMap<u64, Entry>,
    /// Live sequence numbers per order, oldest first.
    by_order: BTreeMap<String, BTreeSet<u64>>,
    /// Dead letters by sequence number.
    dead: BTreeMap<u64, OutboxEvent>,
}

impl Outbox {
    pub(super) fn len(&self) -> usize {
        self.live.len() + self.dead.len()
    }

    /// Enqueues `event`, due `now`; its sequence number. The caller checked the bound.
    pub(super) fn enqueue(&mut self, event: NewEvent, now: OffsetDateTime) -> u64 {
        self.last_seq += 1;
        let seq = self.last_seq;
        self.by_order
            .entry(event.order_id.clone())
            .or_default()
            .insert(seq);
        self.live.insert(
            seq,
            Entry {
                event: OutboxEvent {
                    seq,
                    event,
                    created_at: now,
                    attempts: 0,
                    next_attempt_at: now,
                    last_error: None,
                },
                claim: None,
            },
        );
        seq
    }

    fn remove_live(&mut self, seq: u64) -> Option<Entry> {
        let entry = self.live.remove(&seq)?;
        if let Some(seqs) = self.by_order.get_mut(&entry.event.event.order_id) {
            seqs.remove(&seq);
            if seqs.is_empty() {
                self.by_order.remove(&entry.event.event.order_id);
            }
        }
        Some(entry)
    }
}

impl InMemoryStore {
    fn record_sync(
        &self,
        write: Write,
        event: Option<NewEvent>,
        now: OffsetDateTime,
    ) -> Result<Recorded, StoreError> {
        let mut state = self.lock();
        let key = (write.kind, write.id);
        let current = state.documents.get(&key).map(|v| v.version);
        if current != write.expected_version {
            return Ok(Recorded::Conflict);
        }
        if current.is_none() && state.documents.len() >= self.max_entries {
            return Err(StoreError::Full(self.max_entries));
        }
        if event.is_some() && state.outbox.len() >= self.max_entries {
            return Err(StoreError::Full(self.max_entries));
        }
        let version = write.expected_version.map_or(1, |v| v + 1);
        state.documents.insert(
            key,
            Versioned {
                document: write.document,
                version,
            },
        );
        Ok(Recorded::Committed(
            event.map(|event| state.outbox.enqueue(event, now)),
        ))
    }

    fn claim_sync(
        &self,
        now: OffsetDateTime,
        limit: usize,
        lease: Duration,
        recipient: Option<&str>,
    ) -> Vec<ClaimedEvent> {
        let mut state = self.lock();
        let outbox = &mut state.outbox;
        // Only the head of each order's queue can be due: that is what keeps one order's
        // events in order.
        let mut due: Vec<(OffsetDateTime, u64)> = outbox
            .by_order
            .values()
            .filter_map(|seqs| seqs.first())
            .filter_map(|seq| outbox.live.get(seq))
            .filter(|e| recipient.is_none_or(|r| e.event.event.recipient == r))
            .filter(|e| {
                e.event.next_attempt_at <= now && e.claim.is_none_or(|(_, until)| until <= now)
            })
            .map(|e| (e.event.next_attempt_at, e.event.seq))
            .collect();
        due.sort_unstable();
        due.truncate(limit);
        let lease_until = now + lease;
        let mut claimed = Vec::with_capacity(due.len());
        for (_, seq) in due {
            outbox.last_claim += 1;
            let token = outbox.last_claim;
            if let Some(entry) = outbox.live.get_mut(&seq) {
                entry.claim = Some((token, lease_until));
                entry.event.attempts = entry.event.attempts.saturating_add(1);
                claimed.push(ClaimedEvent {
                    event: entry.event.clone(),
                    lease: token,
                    lease_until,
                });
            }
        }
        claimed
    }

    fn settle_sync(&self, claim: &ClaimedEvent, settlement: Settlement) -> bool {
        let mut state = self.lock();
        let outbox = &mut state.outbox;
        let seq = claim.event.seq;
        let owned = outbox
            .live
            .get(&seq)
            .is_some_and(|e| e.claim.is_some_and(|(token, _)| token == claim.lease));
        if !owned {
            return false;
        }
        match settlement {
            Settlement::Delivered => {
                outbox.remove_live(seq);
            }
            Settlement::Retry { at, error } => {
                if let Some(entry) = outbox.live.get_mut(&seq) {
                    entry.claim = None;
                    entry.event.next_attempt_at = at;
                    entry.event.last_error = Some(error);
                }
            }
            Settlement::Dead { error } => {
                if let Some(mut entry) = outbox.remove_live(seq) {
                    entry.event.last_error = Some(error);
                    outbox.dead.insert(seq, entry.event);
                }
            }
        }
        true
    }

    /// The number of outbox events held (waiting and dead).
    pub fn outbox_events(&self) -> usize {
        self.lock().outbox.len()
    }
}

impl OutboxStore for InMemoryStore {
    fn record(
        &self,
        write: Write,
        event: Option<NewEvent>,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Recorded, Self::Error>> + Send {
        let result = self.record_sync(write, event, now);
        async move { result }
    }

    fn claim(
        &self,
        now: OffsetDateTime,
        limit: usize,
        lease: Duration,
        recipient: Option<&str>,
    ) -> impl Future<Output = Result<Vec<ClaimedEvent>, Self::Error>> + Send {
        let result = self.claim_sync(now, limit, lease, recipient);
        async move { Ok(result) }
    }

    fn settle(
        &self,
        claim: &ClaimedEvent,
        settlement: Settlement,
        _now: OffsetDateTime,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send {
        let result = self.settle_sync(claim, settlement);
        async move { Ok(result) }
    }

    fn dead_letters(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<OutboxEvent>, Self::Error>> + Send {
        let result: Vec<OutboxEvent> = self
            .lock()
            .outbox
            .dead
            .values()
            .take(limit)
            .cloned()
            .collect();
        async move { Ok(result) }
    }

    fn pending(&self) -> impl Future<Output = Result<u64, Self::Error>> + Send {
        let count = u64::try_from(self.lock().outbox.live.len()).unwrap_or(u64::MAX);
        async move { Ok(count) }
    }
}

// A store shared by the engine and the merchant's own code (which records order changes and
// runs the delivery worker) is an `Arc`.

impl<S: AsyncIdempotencyStore + ?Sized> AsyncIdempotencyStore for Arc<S> {
    type Error = S::Error;

    fn begin(
        &self,
        scope: &IdempotencyScope,
        fingerprint: &Fingerprint,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<IdempotencyOutcome, Self::Error>> + Send {
        (**self).begin(scope, fingerprint, now)
    }

    fn complete(
        &self,
        scope: &IdempotencyScope,
        lease: LeaseToken,
        response: StoredResponse,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Completion, Self::Error>> + Send {
        (**self).complete(scope, lease, response, now)
    }

    fn release(
        &self,
        scope: &IdempotencyScope,
        lease: LeaseToken,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send {
        (**self).release(scope, lease)
    }
}

impl<S: ResourceStore + ?Sized> ResourceStore for Arc<S> {
    fn load(
        &self,
        kind: ResourceKind,
        id: &str,
    ) -> impl Future<Output = Result<Option<Versioned>, Self::Error>> + Send {
        (**self).load(kind, id)
    }

    fn commit(
        &self,
        commit: Commit,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<CommitOutcome, Self::Error>> + Send {
        (**self).commit(commit, now)
    }
}

impl<S: OutboxStore + ?Sized> OutboxStore for Arc<S> {
    fn record(
        &self,
        write: Write,
        event: Option<NewEvent>,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Recorded, Self::Error>> + Send {
        (**self).record(write, event, now)
    }

    fn claim(
        &self,
        now: OffsetDateTime,
        limit: usize,
        lease: Duration,
        recipient: Option<&str>,
    ) -> impl Future<Output = Result<Vec<ClaimedEvent>, Self::Error>> + Send {
        (**self).claim(now, limit, lease, recipient)
    }

    fn settle(
        &self,
        claim: &ClaimedEvent,
        settlement: Settlement,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send {
        (**self).settle(claim, settlement, now)
    }

    fn dead_letters(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<OutboxEvent>, Self::Error>> + Send {
        (**self).dead_letters(limit)
    }

    fn pending(&self) -> impl Future<Output = Result<u64, Self::Error>> + Send {
        (**self).pending()
    }
}
