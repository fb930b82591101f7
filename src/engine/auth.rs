//! Authentication shared by the role engines: an [`Authenticator`] names the caller's
//! [`Identity`] from its bearer token (HDR-01); [`BearerKeys`] is a fixed set of API keys.
//!
//! The merchant engine re-exports these from [`crate::engine::merchant`]; the PSP engine
//! ([`crate::engine::psp`]) uses one for agents and one for merchants.

use crate::protocol::headers::BearerToken;

/// The caller, as the [`Authenticator`] names it: the scope of its idempotency keys and the
/// owner of the resources it creates (sessions, carts, delegated tokens, authentication
/// sessions). For a merchant calling a PSP, its `merchant_id` (DP-10).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Identity(String);

impl Identity {
    /// An identity (an agent platform's account id, for example).
    pub fn new(name: impl Into<String>) -> Self {
        Self(name.into())
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Identity({:?})", self.0)
    }
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Authenticates a request from its bearer token (HDR-01).
pub trait Authenticator: Send + Sync {
    /// The caller's identity, or `None` to answer `401`.
    fn authenticate(&self, token: Option<&BearerToken>) -> Option<Identity>;
}

/// An [`Authenticator`] over a fixed set of API keys, each naming an identity. Every key is
/// compared in constant time ([`BearerToken::matches`]), all of them on every request.
#[derive(Clone, Default)]
pub struct BearerKeys {
    keys: Vec<(String, Identity)>,
}

impl std::fmt::Debug for BearerKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BearerKeys")
            .field(
                "identities",
                &self.keys.iter().map(|(_, i)| i).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl BearerKeys {
    /// No keys (every request is `401`).
    pub fn new() -> Self {
        Self::default()
    }

    /// Accepts `key` as `identity`.
    #[must_use]
    pub fn key(mut self, key: impl Into<String>, identity: Identity) -> Self {
        self.keys.push((key.into(), identity));
        self
    }
}

impl Authenticator for BearerKeys {
    fn authenticate(&self, token: Option<&BearerToken>) -> Option<Identity> {
        let token = token?;
        // No early exit: the time taken does not tell which key (if any) matched.
        let mut found = None;
        for (key, identity) in &self.keys {
            if token.matches(key) && found.is_none() {
                found = Some(identity.clone());
            }
        }
        found
    }
}

/// A shared authenticator authenticates like the authenticator itself.
impl<T: Authenticator + ?Sized> Authenticator for std::sync::Arc<T> {
    fn authenticate(&self, token: Option<&BearerToken>) -> Option<Identity> {
        (**self).authenticate(token)
    }
}

/// A boxed authenticator authenticates like the authenticator itself.
impl<T: Authenticator + ?Sized> Authenticator for Box<T> {
    fn authenticate(&self, token: Option<&BearerToken>) -> Option<Identity> {
        (**self).authenticate(token)
    }
}
