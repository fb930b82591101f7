//! Session and cart expiry: when `expires_at` is set, what an expired resource looks like, and
//! which stored documents may be purged.
//!
//! ACP 2026-04-17 gives a checkout session an `expires_at` and an `expired` status but no
//! normative text for either (the checkout RFC is silent); carts have `expires_at`, and an
//! expired cart is `404` (CART-02). The engine's rules, in one place:
//!
//! - **Set.** A created session or cart without `expires_at` gets `now + ttl`
//!   ([`EngineBuilder::session_ttl`](super::EngineBuilder::session_ttl), default
//!   [`DEFAULT_SESSION_TTL`]; [`EngineBuilder::cart_ttl`](super::EngineBuilder::cart_ttl),
//!   default [`DEFAULT_CART_TTL`]). A merchant may set its own.
//! - **Refreshed.** A successful update whose business method left `expires_at` as stored moves
//!   it to `now + ttl` (never earlier): an agent still working on a session or cart does not
//!   lose it (CART-06 for carts; the same choice for sessions). A merchant that changed it keeps
//!   its value.
//! - **Expired.** A session is expired at and after its `expires_at` (the instant itself is
//!   expired, as for allowances, DP-04) when the state machine lets it expire
//!   ([`Event::Expire`]): never while a payment is being processed (`complete_in_progress`), and
//!   a terminal session stays what it is. Expiry is decided from the request's time, on every
//!   load: a retrieve shows `expired`; an update, complete or cancel is refused (`405`, code
//!   `expired`, see
//!   [`AcpError::session_expired`](crate::AcpError::session_expired)). A complete checks it on the document its
//!   claim (`complete_in_progress`, a compare-and-swap on the version read) replaces, at the
//!   same time, so an expired session is never charged. An expired cart is `404` (CART-02).
//! - **Purged.** Expired sessions and carts are deleted once expired for a retention period
//!   ([`DEFAULT_EXPIRED_RETENTION`], the idempotency retention: within it, a retry of a request
//!   on the session sees `expired` rather than `404`); see
//!   [`InMemoryStore::purge_expired_resources`](crate::engine::store::InMemoryStore::purge_expired_resources)
//!   and the PostgreSQL store's equivalent. Completed and canceled sessions are not purged here.

use time::{Duration, OffsetDateTime};

use crate::checkout::{Event, transition};
use crate::engine::store::ResourceKind;
use crate::primitives::Timestamp;
use crate::spec::latest::agentic_checkout::{CheckoutSession, CheckoutStatus};
use crate::spec::latest::cart::Cart;

/// The default lifetime of a checkout session: 24 hours. The spec names none; 24 hours is the
/// default of widely used hosted checkouts, long enough for a buyer who returns to the
/// conversation later in the day. Shorten it when a session holds scarce stock.
pub const DEFAULT_SESSION_TTL: Duration = Duration::hours(24);

/// The default lifetime of a cart: 7 days (carts hold no stock and no payment; the cart RFC
/// leaves the lifetime to the seller).
pub const DEFAULT_CART_TTL: Duration = Duration::days(7);

/// How long an expired session or cart is kept before it may be purged: 24 hours, the
/// minimum idempotency retention (IDEM-14).
pub const DEFAULT_EXPIRED_RETENTION: Duration = Duration::hours(24);

fn add_saturating(at: OffsetDateTime, d: Duration) -> OffsetDateTime {
    at.checked_add(d).unwrap_or(at)
}

/// Whether `status` becomes `expired` when its session's `expires_at` has passed (the state
/// machine's `Expire` event; `expired` itself counts, so a stored `expired` session is purged
/// too).
pub fn status_expires(status: &CheckoutStatus) -> bool {
    *status == CheckoutStatus::Expired
        || transition(status, Event::Expire).is_ok_and(|next| next == CheckoutStatus::Expired)
}

/// The statuses (wire names) of [`status_expires`], for stores that select in their own query
/// language.
pub fn expiring_statuses() -> Vec<&'static str> {
    use CheckoutStatus as S;
    [
        S::Incomplete,
        S::NotReadyForPayment,
        S::RequiresEscalation,
        S::AuthenticationRequired,
        S::ReadyForPayment,
        S::PendingApproval,
        S::CompleteInProgress,
        S::InProgress,
        S::Completed,
        S::Canceled,
        S::Expired,
    ]
    .iter()
    .filter(|s| status_expires(s))
    .map(CheckoutStatus::as_str)
    .collect()
}

/// Whether `session` is past its `expires_at` at `now` in a status that expires.
pub fn session_is_due(session: &CheckoutSession, now: OffsetDateTime) -> bool {
    session
        .expires_at
        .is_some_and(|at| at.get() <= now && status_expires(&session.status))
}

/// The session as of `now`: `expired` when [`session_is_due`]; whether it changed.
pub(super) fn expire_session(session: &mut CheckoutSession, now: OffsetDateTime) -> bool {
    if session_is_due(session, now) && session.status != CheckoutStatus::Expired {
        session.status = CheckoutStatus::Expired;
        return true;
    }
    false
}

/// Whether `cart` is past its `expires_at` at `now` (then it is `404`, CART-02).
pub fn cart_is_due(cart: &Cart, now: OffsetDateTime) -> bool {
    cart.expires_at.is_some_and(|at| at.get() <= now)
}

/// `expires_at` for a created resource: the merchant's, else `now + ttl`.
pub(super) fn on_create(
    current: Option<Timestamp>,
    now: OffsetDateTime,
    ttl: Duration,
) -> Timestamp {
    current.unwrap_or_else(|| Timestamp(add_saturating(now, ttl)))
}

/// `expires_at` after an update: refreshed to `now + ttl` (never earlier) when the business
/// method left the stored value; the merchant's otherwise (`now + ttl` if it removed it).
pub(super) fn on_update(
    stored: Option<Timestamp>,
    returned: Option<Timestamp>,
    now: OffsetDateTime,
    ttl: Duration,
) -> Timestamp {
    let fresh = Timestamp(add_saturating(now, ttl));
    match returned {
        Some(at) if returned == stored => at.max(fresh),
        Some(at) => at,
        None => fresh,
    }
}

/// Whether a stored document (the engine's envelope JSON text) is an expired session or cart
/// whose `expires_at` is before `cutoff` (`now` minus the retention). Documents of other kinds,
/// documents that do not parse and gone resources are never purged here.
pub fn purgeable(kind: ResourceKind, document: &str, cutoff: OffsetDateTime) -> bool {
    #[derive(serde::Deserialize)]
    struct Envelope {
        resource: Option<Expiring>,
    }
    #[derive(serde::Deserialize)]
    struct Expiring {
        status: Option<String>,
        expires_at: Option<Timestamp>,
    }
    if !matches!(kind, ResourceKind::CheckoutSession | ResourceKind::Cart) {
        return false;
    }
    let Ok(Envelope {
        resource: Some(resource),
    }) = serde_json::from_str::<Envelope>(document)
    else {
        return false;
    };
    let Some(at) = resource.expires_at else {
        return false;
    };
    let expires = match (kind, &resource.status) {
        (ResourceKind::Cart, _) => true,
        (_, Some(status)) => expiring_statuses().contains(&status.as_str()),
        (_, None) => false,
    };
    expires && at.get() < cutoff
}

/// The cutoff for a purge at `now` keeping expired resources for `retention`.
pub fn purge_cutoff(now: OffsetDateTime, retention: Duration) -> OffsetDateTime {
    now.checked_sub(retention).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn processing_and_terminal_sessions_do_not_expire() {
        let expiring = expiring_statuses();
        for s in [
            "ready_for_payment",
            "incomplete",
            "pending_approval",
            "expired",
        ] {
            assert!(expiring.contains(&s), "{s}");
        }
        for s in [
            "complete_in_progress",
            "in_progress",
            "completed",
            "canceled",
        ] {
            assert!(!expiring.contains(&s), "{s}");
        }
    }

    #[test]
    fn an_update_refreshes_only_an_unchanged_expiry_and_never_shortens_it() {
        let now = datetime!(2026-05-01 12:00 UTC);
        let ttl = Duration::hours(1);
        let stored = Some(Timestamp(datetime!(2026-05-01 12:30 UTC)));
        assert_eq!(
            on_update(stored, stored, now, ttl).get(),
            datetime!(2026-05-01 13:00 UTC)
        );
        let far = Timestamp(datetime!(2026-06-01 00:00 UTC));
        assert_eq!(on_update(Some(far), Some(far), now, ttl), far);
        let merchant = Timestamp(datetime!(2026-05-01 12:10 UTC));
        assert_eq!(on_update(stored, Some(merchant), now, ttl), merchant);
        assert_eq!(
            on_update(stored, None, now, ttl).get(),
            datetime!(2026-05-01 13:00 UTC)
        );
        assert_eq!(
            on_create(None, now, ttl).get(),
            datetime!(2026-05-01 13:00 UTC)
        );
        assert_eq!(on_create(Some(merchant), now, ttl), merchant);
    }

    #[test]
    fn only_expired_sessions_and_carts_past_the_cutoff_are_purgeable() {
        let cutoff = datetime!(2026-05-01 12:00 UTC);
        let doc = |status: &str, at: &str| {
            format!(
                r#"{{"owner":"a","resource":{{"id":"cs_1","status":"{status}","expires_at":"{at}"}}}}"#
            )
        };
        let s = ResourceKind::CheckoutSession;
        assert!(purgeable(
            s,
            &doc("ready_for_payment", "2026-05-01T11:59:59Z"),
            cutoff
        ));
        assert!(purgeable(
            s,
            &doc("expired", "2026-05-01T11:00:00Z"),
            cutoff
        ));
        assert!(!purgeable(
            s,
            &doc("ready_for_payment", "2026-05-01T12:00:00Z"),
            cutoff
        ));
        assert!(!purgeable(
            s,
            &doc("completed", "2026-05-01T11:00:00Z"),
            cutoff
        ));
        assert!(!purgeable(
            s,
            &doc("complete_in_progress", "2026-05-01T11:00:00Z"),
            cutoff
        ));
        assert!(!purgeable(s, r#"{"owner":"a","resource":null}"#, cutoff));
        assert!(!purgeable(s, "not json", cutoff));
        assert!(!purgeable(
            ResourceKind::PaymentToken,
            &doc("expired", "2026-05-01T11:00:00Z"),
            cutoff
        ));
        let cart = r#"{"owner":"a","resource":{"id":"c","expires_at":"2026-05-01T11:00:00Z"}}"#;
        assert!(purgeable(ResourceKind::Cart, cart, cutoff));
    }
}
