//! The role engines' storage: asynchronous traits (usable from async database drivers without
//! `spawn_blocking`; the crate depends on no runtime) and bounded in-memory implementations.
//!
//! - [`AsyncIdempotencyStore`]: idempotency records with fenced leases (IDEM-03..13), the
//!   asynchronous form of [`trust::idempotency::IdempotencyStore`](crate::trust::idempotency::IdempotencyStore),
//!   with the same pure decision functions inside.
//! - [`ResourceStore`]: versioned JSON documents (checkout sessions, carts, delegated tokens,
//!   authentication sessions) with optimistic
//!   concurrency, committed **together with** the idempotency record of the request that wrote
//!   them (IDEM-17): a request either leaves its effect and its stored response, or neither.
//! - [`AsyncTokenLedger`]: single use of delegated payment tokens (DP-11).
//!
//! Implement them over your database (the `agentic-commerce-postgres` crate does for
//! PostgreSQL), or use [`InMemoryStore`] and [`InMemoryTokenLedger`] for one process.

mod memory_outbox;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Mutex, MutexGuard, PoisonError};

use time::OffsetDateTime;

use crate::engine::outbox::NewEvent;
use crate::trust::allowance::LedgerError;
use crate::trust::idempotency::{
    self, CompleteError, Completion, Fingerprint, IdempotencyOutcome, IdempotencyPolicy,
    IdempotencyRecord, IdempotencyScope, LeaseToken, StoredResponse,
};

/// What kind of resource a document is; part of its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ResourceKind {
    /// A checkout session (`cs_…`).
    CheckoutSession,
    /// A cart.
    Cart,
    /// A delegated payment token (`vt_…`) of the PSP engine: its allowance and display data,
    /// never the card (which the PSP's [`Vault`](crate::engine::psp::Vault) keeps).
    PaymentToken,
    /// A delegated 3-D Secure authentication session of the PSP engine.
    AuthenticationSession,
    /// An order's timeline kept by the agent's webhook receiver
    /// ([`WebhookReceiver`](crate::engine::webhooks::WebhookReceiver)).
    OrderTimeline,
    /// A merchant's order (`ord_…`) after the purchase, with its recipient and version
    /// ([`orders`](crate::engine::merchant::orders)).
    Order,
}

impl ResourceKind {
    /// Every kind.
    pub const ALL: &'static [Self] = &[
        Self::CheckoutSession,
        Self::Cart,
        Self::PaymentToken,
        Self::AuthenticationSession,
        Self::OrderTimeline,
        Self::Order,
    ];

    /// A stable name for storage: `checkout_session`, `cart`, `payment_token`,
    /// `authentication_session`, `order_timeline` or `order`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::CheckoutSession => "checkout_session",
            Self::Cart => "cart",
            Self::PaymentToken => "payment_token",
            Self::AuthenticationSession => "authentication_session",
            Self::OrderTimeline => "order_timeline",
            Self::Order => "order",
        }
    }

    /// The kind named by [`as_str`](Self::as_str).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.as_str() == name)
    }
}

/// A stored document and its version (starts at 1, +1 per write).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned {
    /// The document: JSON text, stored and returned byte for byte (no re-serialization, so
    /// nothing is normalized or lost, and no JSON tree is built to store it).
    pub document: String,
    /// Its version, for the guard of the next write.
    pub version: u64,
}

/// One document write of a [`Commit`], guarded by the version it was computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    /// The kind.
    pub kind: ResourceKind,
    /// The id.
    pub id: String,
    /// The new document (JSON text).
    pub document: String,
    /// `None`: the document must not exist yet (a create). `Some(v)`: it must still be at
    /// version `v` (nobody wrote it since it was read).
    pub expected_version: Option<u64>,
}

/// What a request leaves behind, applied atomically by [`ResourceStore::commit`]. Build it with
/// [`Commit::new`] (and [`Commit::with_events`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Commit {
    /// The request's idempotency reservation.
    pub scope: IdempotencyScope,
    /// The lease that owns it.
    pub lease: LeaseToken,
    /// The response to record for replay (a 5xx releases the reservation instead, IDEM-13).
    /// `None`: only the writes are applied and the reservation stays in flight (a step inside
    /// a request, such as claiming a session before charging it).
    pub response: Option<StoredResponse>,
    /// The document writes (possibly none).
    pub writes: Vec<Write>,
    /// Outbox events enqueued (due now) in the same commit, in this order (WH-09: an order and
    /// its `order_create` event are stored with the completed session that created them). Only
    /// a store that is also an [`OutboxStore`](crate::engine::outbox::OutboxStore) is given
    /// any: the merchant engine produces them only when
    /// [`order_webhooks`](crate::engine::merchant::EngineBuilder::order_webhooks) is set, which
    /// requires one.
    pub events: Vec<NewEvent>,
}

impl Commit {
    /// The writes and the response of the request holding `scope` under `lease`, without
    /// outbox events.
    pub fn new(
        scope: IdempotencyScope,
        lease: LeaseToken,
        response: Option<StoredResponse>,
        writes: Vec<Write>,
    ) -> Self {
        Self {
            scope,
            lease,
            response,
            writes,
            events: Vec::new(),
        }
    }

    /// With `events` enqueued in the same commit.
    #[must_use]
    pub fn with_events(mut self, events: Vec<NewEvent>) -> Self {
        self.events = events;
        self
    }
}

/// The result of [`ResourceStore::commit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommitOutcome {
    /// The writes and the response were stored.
    Committed,
    /// A write's guard failed (a concurrent request changed or created the document): nothing
    /// was written and the reservation is still held.
    Conflict,
    /// The reservation is no longer this lease's (it ran out and a retry took the key over, or
    /// retention ended): nothing was written.
    LeaseLost,
}

/// Why an in-memory store refused an operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store holds its maximum number of documents or records.
    #[error("the store is full ({0} entries)")]
    Full(usize),
    /// The reservation is not in flight under this lease.
    #[error(transparent)]
    Lease(#[from] CompleteError),
}

/// Asynchronous idempotency records with fenced leases. Same contract as the synchronous
/// [`IdempotencyStore`](crate::trust::idempotency::IdempotencyStore): `begin` is atomic per
/// scope and issues a fresh [`LeaseToken`]; `release` by a non-owner changes nothing.
pub trait AsyncIdempotencyStore: Send + Sync {
    /// The store's error type.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Looks `scope` up and reserves a new one as in flight (IDEM-03..12).
    ///
    /// # Errors
    /// Storage failures.
    fn begin(
        &self,
        scope: &IdempotencyScope,
        fingerprint: &Fingerprint,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<IdempotencyOutcome, Self::Error>> + Send;

    /// Records `response` for the reservation owned by `lease` (a 5xx releases it, IDEM-13).
    ///
    /// # Errors
    /// Not in flight, owned by another lease (nothing changes), or storage failures.
    fn complete(
        &self,
        scope: &IdempotencyScope,
        lease: LeaseToken,
        response: StoredResponse,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Completion, Self::Error>> + Send;

    /// Drops the reservation owned by `lease` without a response, so a retry runs fresh.
    ///
    /// # Errors
    /// Not in flight, owned by another lease (nothing changes), or storage failures.
    fn release(
        &self,
        scope: &IdempotencyScope,
        lease: LeaseToken,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

/// Versioned documents committed together with idempotency records (IDEM-17).
pub trait ResourceStore: AsyncIdempotencyStore {
    /// The document `kind`/`id`, if stored.
    ///
    /// # Errors
    /// Storage failures.
    fn load(
        &self,
        kind: ResourceKind,
        id: &str,
    ) -> impl Future<Output = Result<Option<Versioned>, Self::Error>> + Send;

    /// Atomically: checks that `commit.lease` still owns `commit.scope` and that every write's
    /// guard holds; then applies the writes, enqueues the outbox events ([`Commit::events`])
    /// and records the response (when there is one). Either all of it happens or none.
    ///
    /// # Errors
    /// Storage failures (then nothing was applied, or the outcome is unknown for a remote
    /// database whose connection broke during the commit).
    fn commit(
        &self,
        commit: Commit,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<CommitOutcome, Self::Error>> + Send;
}

/// Single use of delegated payment tokens (DP-11), asynchronous form of
/// [`TokenLedger`](crate::trust::allowance::TokenLedger).
pub trait AsyncTokenLedger: Send + Sync {
    /// Marks `token_id` as used, atomically: of concurrent calls with one id exactly one wins.
    ///
    /// # Errors
    /// [`LedgerError::AlreadyUsed`], or [`LedgerError::Unavailable`] (do not charge).
    fn consume(
        &self,
        token_id: &str,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<(), LedgerError>> + Send;
}

/// The default bound of [`InMemoryStore`]: documents and idempotency records, each.
pub const DEFAULT_MAX_ENTRIES: usize = 100_000;

#[derive(Debug, Default)]
struct State {
    records: BTreeMap<IdempotencyScope, IdempotencyRecord>,
    documents: BTreeMap<(ResourceKind, String), Versioned>,
    last_lease: u64,
    outbox: memory_outbox::Outbox,
}

/// In-memory [`ResourceStore`] for one process: bounded (documents and records each at most
/// `max_entries`; expired idempotency records, and expired checkout sessions and carts, are
/// purged when the bound is reached), every
/// operation under one lock, never held across an `.await`.
#[derive(Debug)]
pub struct InMemoryStore {
    policy: IdempotencyPolicy,
    max_entries: usize,
    state: Mutex<State>,
}

impl Default for InMemoryStore {
    fn default() -> Self {
        Self::new(IdempotencyPolicy::default())
    }
}

impl InMemoryStore {
    /// A store with `policy` and [`DEFAULT_MAX_ENTRIES`].
    pub fn new(policy: IdempotencyPolicy) -> Self {
        Self::with_max_entries(policy, DEFAULT_MAX_ENTRIES)
    }

    /// A store holding at most `max_entries` documents and as many idempotency records.
    pub fn with_max_entries(policy: IdempotencyPolicy, max_entries: usize) -> Self {
        Self {
            policy,
            max_entries: max_entries.max(1),
            state: Mutex::new(State::default()),
        }
    }

    /// The idempotency policy.
    pub fn policy(&self) -> &IdempotencyPolicy {
        &self.policy
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic under the lock cannot leave a half-applied commit: every mutation below is
        // prepared first and applied in one step.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The number of stored documents.
    pub fn documents(&self) -> usize {
        self.lock().documents.len()
    }

    /// The number of idempotency records.
    pub fn records(&self) -> usize {
        self.lock().records.len()
    }

    /// Deletes every checkout session and cart that expired more than `retention` before
    /// `now` (see [`expiry`](crate::engine::merchant::expiry): completed, canceled and
    /// processing sessions are kept); returns how many. Call it periodically with
    /// [`DEFAULT_EXPIRED_RETENTION`](crate::engine::merchant::expiry::DEFAULT_EXPIRED_RETENTION);
    /// the store also drops every expired one by itself when its document bound is reached. A
    /// request that loaded a purged document and writes it afterwards gets
    /// [`CommitOutcome::Conflict`]; a replay of a stored response still replays.
    pub fn purge_expired_resources(&self, now: OffsetDateTime, retention: time::Duration) -> usize {
        let cutoff = crate::engine::merchant::expiry::purge_cutoff(now, retention);
        let mut state = self.lock();
        Self::purge_locked(&mut state, cutoff)
    }

    fn purge_locked(state: &mut State, cutoff: OffsetDateTime) -> usize {
        let before = state.documents.len();
        state.documents.retain(|(kind, _), v| {
            !crate::engine::merchant::expiry::purgeable(*kind, &v.document, cutoff)
        });
        before - state.documents.len()
    }

    /// The document `kind`/`id`, synchronously.
    pub fn get(&self, kind: ResourceKind, id: &str) -> Option<Versioned> {
        self.lock().documents.get(&(kind, id.to_owned())).cloned()
    }

    fn begin_sync(
        &self,
        scope: &IdempotencyScope,
        fingerprint: &Fingerprint,
        now: OffsetDateTime,
    ) -> Result<IdempotencyOutcome, StoreError> {
        let mut state = self.lock();
        if state.records.len() >= self.max_entries && !state.records.contains_key(scope) {
            state.records.retain(|_, r| !r.is_stale(now));
            if state.records.len() >= self.max_entries {
                return Err(StoreError::Full(self.max_entries));
            }
        }
        state.last_lease += 1;
        let lease = LeaseToken::new(state.last_lease);
        let decision = idempotency::begin(
            state.records.get(scope),
            fingerprint,
            lease,
            now,
            &self.policy,
        );
        if let Some(record) = decision.write {
            state.records.insert(scope.clone(), record);
        }
        Ok(decision.outcome)
    }

    fn complete_locked(
        &self,
        state: &mut State,
        scope: &IdempotencyScope,
        lease: LeaseToken,
        response: StoredResponse,
        now: OffsetDateTime,
    ) -> Result<Completion, CompleteError> {
        let completion =
            idempotency::complete(state.records.get(scope), lease, response, now, &self.policy)?;
        match &completion {
            Completion::Store(record) => {
                state.records.insert(scope.clone(), record.clone());
            }
            Completion::Release => {
                state.records.remove(scope);
            }
        }
        Ok(completion)
    }
}

impl AsyncIdempotencyStore for InMemoryStore {
    type Error = StoreError;

    fn begin(
        &self,
        scope: &IdempotencyScope,
        fingerprint: &Fingerprint,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<IdempotencyOutcome, Self::Error>> + Send {
        let result = self.begin_sync(scope, fingerprint, now);
        async move { result }
    }

    fn complete(
        &self,
        scope: &IdempotencyScope,
        lease: LeaseToken,
        response: StoredResponse,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<Completion, Self::Error>> + Send {
        let mut state = self.lock();
        let result = self
            .complete_locked(&mut state, scope, lease, response, now)
            .map_err(StoreError::from);
        drop(state);
        async move { result }
    }

    fn release(
        &self,
        scope: &IdempotencyScope,
        lease: LeaseToken,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send {
        let mut state = self.lock();
        let result = idempotency::release(state.records.get(scope), lease)
            .map(|()| {
                state.records.remove(scope);
            })
            .map_err(StoreError::from);
        drop(state);
        async move { result }
    }
}

impl ResourceStore for InMemoryStore {
    fn load(
        &self,
        kind: ResourceKind,
        id: &str,
    ) -> impl Future<Output = Result<Option<Versioned>, Self::Error>> + Send {
        let found = self.get(kind, id);
        async move { Ok(found) }
    }

    fn commit(
        &self,
        commit: Commit,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<CommitOutcome, Self::Error>> + Send {
        let result = self.commit_sync(commit, now);
        async move { result }
    }
}

impl InMemoryStore {
    fn commit_sync(
        &self,
        commit: Commit,
        now: OffsetDateTime,
    ) -> Result<CommitOutcome, StoreError> {
        let mut state = self.lock();
        // Fencing first: a worker whose lease was taken over must not write anything.
        let owned = matches!(
            state.records.get(&commit.scope).map(|r| (r.state(), now < r.expires_at())),
            Some((idempotency::RecordState::InFlight { lease, .. }, true)) if *lease == commit.lease
        );
        if !owned {
            return Ok(CommitOutcome::LeaseLost);
        }
        let new_documents = commit
            .writes
            .iter()
            .filter(|w| w.expected_version.is_none())
            .count();
        for write in &commit.writes {
            let current = state
                .documents
                .get(&(write.kind, write.id.clone()))
                .map(|v| v.version);
            if current != write.expected_version {
                return Ok(CommitOutcome::Conflict);
            }
        }
        if new_documents > 0 && state.documents.len() + new_documents > self.max_entries {
            // Full: an expired session or cart is worth less than a new one (the documents
            // this commit writes, whose guards were checked above, stay).
            let cutoff = crate::engine::merchant::expiry::purge_cutoff(now, time::Duration::ZERO);
            state.documents.retain(|(kind, id), v| {
                commit.writes.iter().any(|w| w.kind == *kind && w.id == *id)
                    || !crate::engine::merchant::expiry::purgeable(*kind, &v.document, cutoff)
            });
            if state.documents.len() + new_documents > self.max_entries {
                return Err(StoreError::Full(self.max_entries));
            }
        }
        if !commit.events.is_empty()
            && state.outbox.len().saturating_add(commit.events.len()) > self.max_entries
        {
            return Err(StoreError::Full(self.max_entries));
        }
        if let Some(response) = commit.response {
            self.complete_locked(&mut state, &commit.scope, commit.lease, response, now)?;
        }
        for event in commit.events {
            state.outbox.enqueue(event, now);
        }
        for write in commit.writes {
            let version = write.expected_version.map_or(1, |v| v + 1);
            state.documents.insert(
                (write.kind, write.id),
                Versioned {
                    document: write.document,
                    version,
                },
            );
        }
        Ok(CommitOutcome::Committed)
    }
}

/// In-memory [`AsyncTokenLedger`], bounded: at most `max_tokens` used tokens are remembered;
/// beyond that new tokens are refused as [`LedgerError::Unavailable`] (never forgotten, which
/// would allow a second use).
#[derive(Debug)]
pub struct InMemoryTokenLedger {
    used: Mutex<BTreeMap<String, OffsetDateTime>>,
    max_tokens: usize,
}

impl Default for InMemoryTokenLedger {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_ENTRIES)
    }
}

impl InMemoryTokenLedger {
    /// A ledger remembering at most `max_tokens` used tokens.
    pub fn new(max_tokens: usize) -> Self {
        Self {
            used: Mutex::new(BTreeMap::new()),
            max_tokens,
        }
    }
}

impl AsyncTokenLedger for InMemoryTokenLedger {
    fn consume(
        &self,
        token_id: &str,
        now: OffsetDateTime,
    ) -> impl Future<Output = Result<(), LedgerError>> + Send {
        let mut used = self.used.lock().unwrap_or_else(PoisonError::into_inner);
        let result = if used.contains_key(token_id) {
            Err(LedgerError::AlreadyUsed)
        } else if used.len() >= self.max_tokens {
            Err(LedgerError::Unavailable)
        } else {
            used.insert(token_id.to_owned(), now);
            Ok(())
        };
        drop(used);
        async move { result }
    }
}
