//! A small bounded connection pool over `tokio-postgres`.
//!
//! - A [`Semaphore`] with `max_connections` permits: a connection is used only while its
//!   holder has a permit, and a new one is opened only when no idle one is left, so at most
//!   `max_connections` connections are ever open.
//! - Idle connections wait in a `Mutex<Vec<Client>>` (locked for a push or a pop only, never
//!   across an `.await`); a closed one (server restart, network failure, session killed by a
//!   timeout) is dropped when found and replaced by a new connection.
//! - Every acquire (waiting for a permit plus opening a connection) runs under one deadline:
//!   past it the caller gets [`PgError::PoolTimeout`], never an unbounded wait.
//! - Every new connection gets `statement_timeout` and `idle_in_transaction_session_timeout`
//!   (and the configured `search_path`) before first use.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};
use tokio_postgres::{Client, NoTls};

use crate::store::Statements;
use crate::{PgConfig, PgError};

pub(crate) struct Pool {
    config: tokio_postgres::Config,
    /// `SET …` run on every new connection.
    session_setup: String,
    permits: Semaphore,
    idle: Mutex<Vec<Session>>,
    max_connections: usize,
    acquire_timeout: Duration,
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the config: it may carry a password.
        f.debug_struct("Pool")
            .field("max_connections", &self.max_connections)
            .field("idle", &self.idle_count())
            .field("in_use", &self.in_use())
            .finish_non_exhaustive()
    }
}

impl Pool {
    pub(crate) fn new(url: &str, config: &PgConfig) -> Result<Self, PgError> {
        let mut pg: tokio_postgres::Config = url
            .parse()
            .map_err(|e| PgError::Config(format!("database URL: {e}")))?;
        if pg.get_connect_timeout().is_none() {
            pg.connect_timeout(config.acquire_timeout());
        }
        let ms = config.statement_timeout().as_millis().max(1);
        // The schema is validated by PgConfig::with_schema ([a-z_][a-z0-9_]*): no quoting.
        let search_path = config
            .schema()
            .map(|schema| format!(" SET search_path = {schema};"))
            .unwrap_or_default();
        let session_setup = format!(
            "SET statement_timeout = {ms}; SET idle_in_transaction_session_timeout = {ms};{search_path}"
        );
        Ok(Self {
            config: pg,
            session_setup,
            permits: Semaphore::new(config.max_connections()),
            idle: Mutex::new(Vec::new()),
            max_connections: config.max_connections(),
            acquire_timeout: config.acquire_timeout(),
        })
    }

    fn idle_list(&self) -> std::sync::MutexGuard<'_, Vec<Session>> {
        // Every mutation is a single push, pop or retain: the list is consistent even if a
        // thread panicked while holding the lock.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn idle_count(&self) -> usize {
        self.idle_list().len()
    }

    pub(crate) fn in_use(&self) -> usize {
        self.max_connections - self.permits.available_permits()
    }

    pub(crate) fn max_connections(&self) -> usize {
        self.max_connections
    }

    /// A connection, within the acquire deadline.
    pub(crate) async fn get(&self) -> Result<Conn<'_>, PgError> {
        tokio::time::timeout(self.acquire_timeout, self.get_unbounded())
            .await
            .map_err(|_| PgError::PoolTimeout(self.acquire_timeout))?
    }

    async fn get_unbounded(&self) -> Result<Conn<'_>, PgError> {
        let permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| PgError::Config("the pool is closed".to_owned()))?;
        loop {
            let session = self.idle_list().pop();
            match session {
                Some(session) if session.client.is_closed() => {}
                Some(session) => {
                    return Ok(Conn {
                        session: Some(session),
                        pool: self,
                        _permit: permit,
                    });
                }
                None => break,
            }
        }
        let (client, connection) = self.config.connect(NoTls).await?;
        // The connection task ends when the client is dropped or the socket closes.
        tokio::spawn(async move {
            let _ = connection.await;
        });
        client.batch_execute(&self.session_setup).await?;
        Ok(Conn {
            session: Some(Session {
                client,
                statements: None,
            }),
            pool: self,
            _permit: permit,
        })
    }
}

/// An open connection and the store's statements prepared on it (on first use: the
/// migrations run before the tables they name exist).
pub(crate) struct Session {
    client: Client,
    statements: Option<Statements>,
}

/// A pooled connection; goes back to the idle list on drop unless it is closed.
pub(crate) struct Conn<'a> {
    session: Option<Session>,
    pool: &'a Pool,
    _permit: SemaphorePermit<'a>,
}

impl Conn<'_> {
    fn session(&mut self) -> &mut Session {
        self.session
            .as_mut()
            .unwrap_or_else(|| unreachable!("taken only in drop"))
    }

    /// The client and its prepared statements (prepared now if this is their first use on
    /// the connection: one round trip each, once per connection).
    pub(crate) async fn prepared(&mut self) -> Result<(&mut Client, &Statements), PgError> {
        let session = self.session();
        if session.statements.is_none() {
            session.statements = Some(Statements::prepare(&session.client).await?);
        }
        match session {
            Session {
                client,
                statements: Some(statements),
            } => Ok((client, statements)),
            Session { .. } => unreachable!("prepared above"),
        }
    }
}

impl Deref for Conn<'_> {
    type Target = Client;

    fn deref(&self) -> &Client {
        &self
            .session
            .as_ref()
            .unwrap_or_else(|| unreachable!("taken only in drop"))
            .client
    }
}

impl DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.session().client
    }
}

impl Drop for Conn<'_> {
    fn drop(&mut self) {
        // A transaction dropped unfinished (a cancelled task) has queued its ROLLBACK on the
        // connection, ahead of anything the next user sends.
        if let Some(session) = self.session.take() {
            if !session.client.is_closed() {
                self.pool.idle_list().push(session);
            }
        }
        // The permit is released after the push (fields drop after this body).
    }
}
