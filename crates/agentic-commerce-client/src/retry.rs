//! When and how long the client waits before trying a call again.

use std::time::Duration;

/// How a call is retried: exponential backoff with full jitter, `Retry-After` honoured, all
/// within a total deadline.
///
/// A call is retried (with the **same** `Idempotency-Key` and body, IDEM-08) only after:
///
/// - a transport failure: the connection could not be made, broke before the whole response
///   arrived, or the attempt ran past [`ClientBuilder::attempt_timeout`](crate::ClientBuilder::attempt_timeout);
/// - a `5xx` answer (the server stored nothing against the key, IDEM-13);
/// - a `409` whose ACP error code is `idempotency_in_flight` (the first attempt is still
///   running on the server, IDEM-12).
///
/// Every other answer is final; in particular no other `4xx` is retried (a `400`, `401`,
/// `404`, `422 idempotency_conflict` or `429` goes back to the caller at once).
///
/// Before retry `n` (1 for the first retry) the client sleeps a uniformly random duration in
/// `[0, min(max_backoff, initial_backoff × 2^(n−1))]` ("full jitter"), or the server's
/// `Retry-After` if that is longer. A `Retry-After` above [`max_retry_after`](Self::max_retry_after),
/// or a wait that would end past the [`deadline`](Self::deadline), ends the call instead.
///
/// The defaults ([`RetryPolicy::default`]):
///
/// | field | default |
/// |---|---|
/// | [`max_attempts`](Self::max_attempts) | 5 (the first attempt and 4 retries) |
/// | [`initial_backoff`](Self::initial_backoff) | 200 ms |
/// | [`max_backoff`](Self::max_backoff) | 5 s |
/// | [`max_retry_after`](Self::max_retry_after) | 30 s |
/// | [`deadline`](Self::deadline) | 60 s (all attempts and waits of one call) |
///
/// ```
/// use std::time::Duration;
/// use agentic_commerce_client::RetryPolicy;
///
/// let policy = RetryPolicy::default()
///     .with_max_attempts(3)
///     .with_deadline(Duration::from_secs(10));
/// assert_eq!(policy.max_attempts, 3);
/// assert_eq!(policy.initial_backoff, Duration::from_millis(200));
/// assert_eq!(RetryPolicy::none().max_attempts, 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// The most attempts one call makes, the first included (`1`: never retry; `0` is read
    /// as `1`).
    pub max_attempts: u32,
    /// The backoff ceiling before the first retry; it doubles for each further retry.
    pub initial_backoff: Duration,
    /// The largest backoff ceiling.
    pub max_backoff: Duration,
    /// The longest `Retry-After` the client waits for; a server asking for more ends the call
    /// with its answer.
    pub max_retry_after: Duration,
    /// The total time one call may take: every attempt, every wait. An attempt never runs past
    /// it; a retry that could not start before it is not made.
    pub deadline: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(30),
            deadline: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries (one attempt, the default deadline).
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// With [`max_attempts`](Self::max_attempts) set.
    #[must_use]
    pub fn with_max_attempts(self, max_attempts: u32) -> Self {
        Self {
            max_attempts,
            ..self
        }
    }

    /// With [`initial_backoff`](Self::initial_backoff) set.
    #[must_use]
    pub fn with_initial_backoff(self, initial_backoff: Duration) -> Self {
        Self {
            initial_backoff,
            ..self
        }
    }

    /// With [`max_backoff`](Self::max_backoff) set.
    #[must_use]
    pub fn with_max_backoff(self, max_backoff: Duration) -> Self {
        Self {
            max_backoff,
            ..self
        }
    }

    /// With [`max_retry_after`](Self::max_retry_after) set.
    #[must_use]
    pub fn with_max_retry_after(self, max_retry_after: Duration) -> Self {
        Self {
            max_retry_after,
            ..self
        }
    }

    /// With [`deadline`](Self::deadline) set.
    #[must_use]
    pub fn with_deadline(self, deadline: Duration) -> Self {
        Self { deadline, ..self }
    }

    /// The backoff ceiling before retry `retry` (1-based): `min(max_backoff,
    /// initial_backoff × 2^(retry−1))`.
    pub fn backoff_ceiling(&self, retry: u32) -> Duration {
        let exponent = retry.saturating_sub(1).min(31);
        self.initial_backoff
            .checked_mul(1u32 << exponent)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff)
    }

    /// A full-jitter backoff before retry `retry`: uniform in `[0, backoff_ceiling(retry)]`.
    pub(crate) fn jittered_backoff(&self, retry: u32) -> Duration {
        let ceiling = self.backoff_ceiling(retry);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        if nanos == 0 {
            return Duration::ZERO;
        }
        // Modulo bias is at most nanos / 2^64: irrelevant for a backoff.
        Duration::from_nanos(random_u64() % nanos.saturating_add(1).max(1))
    }

    /// The attempts actually allowed (`0` counts as `1`).
    pub(crate) fn attempts(&self) -> u32 {
        self.max_attempts.max(1)
    }
}

/// 64 random bits from the OS CSPRNG; on the (practically impossible) failure, a value from
/// the clock, which is still fine for jitter.
fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_ok() {
        u64::from_le_bytes(bytes)
    } else {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::from(d.subsec_nanos()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceiling_doubles_up_to_the_max() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff_ceiling(1), Duration::from_millis(200));
        assert_eq!(p.backoff_ceiling(2), Duration::from_millis(400));
        assert_eq!(p.backoff_ceiling(5), Duration::from_millis(3200));
        assert_eq!(p.backoff_ceiling(6), Duration::from_secs(5));
        assert_eq!(p.backoff_ceiling(200), Duration::from_secs(5));
    }

    #[test]
    fn jitter_stays_under_the_ceiling() {
        let p = RetryPolicy::default();
        for retry in 1..8 {
            for _ in 0..50 {
                assert!(p.jittered_backoff(retry) <= p.backoff_ceiling(retry));
            }
        }
        let zero = RetryPolicy {
            initial_backoff: Duration::ZERO,
            ..p
        };
        assert_eq!(zero.jittered_backoff(3), Duration::ZERO);
    }
}
