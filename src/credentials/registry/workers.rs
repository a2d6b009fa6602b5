//! A few worker threads, each owning one database connection, that run
//! jobs sent from any thread and hand back the results.
//!
//! Why threads rather than a lock around a connection: neither a SQLite
//! connection nor a PostgreSQL client may be used from two threads at once,
//! and the PostgreSQL client runs its own small Tokio runtime internally,
//! which must never be started, driven or dropped on a thread that belongs
//! to the caller's async runtime (an HTTP server calling from
//! `spawn_blocking`, or worse, from an async task). Here every connection
//! is created, used and dropped on a plain thread of ours; callers only
//! block on a standard channel. Dropping the pool closes the job channel,
//! each worker drops its connection on its own thread, and the drop waits
//! for them, closing the connections one at a time: the last SQLite
//! connection closed this way checkpoints its write-ahead log into the
//! registry file (a process that exits right
//! after would otherwise leave every recent record in the `-wal` file
//! only, so a copy of the registry file alone would lack them).

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};

/// A job gets the worker's connection, or the error met opening one.
type Job<C> = Box<dyn FnOnce(Result<&mut C>) + Send>;

/// Worker threads owning connections of type `C`.
pub(crate) struct Workers<C> {
    jobs: Mutex<Option<Sender<Job<C>>>>,
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
    what: String,
}

impl<C> std::fmt::Debug for Workers<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workers").field("what", &self.what).finish()
    }
}

/// How a pool makes and checks connections.
pub(crate) trait Connector<C>: Send + Sync + 'static {
    /// Open a new connection.
    fn connect(&self) -> Result<C>;
    /// Whether a connection can still be used (false: drop it and reconnect).
    fn alive(&self, conn: &mut C) -> bool;
}

impl<C: 'static> Workers<C> {
    /// Start `n` workers. `first` is an already open connection handed to
    /// the first worker (so that opening errors surface in the caller);
    /// the others connect on their first job.
    pub(crate) fn start(
        n: usize,
        first: C,
        connector: Arc<dyn Connector<C>>,
        what: String,
    ) -> Result<Workers<C>>
    where
        C: Send,
    {
        let (tx, rx) = mpsc::channel::<Job<C>>();
        let rx = Arc::new(Mutex::new(rx));
        let closing = Arc::new(Mutex::new(()));
        let mut first = Some(first);
        let mut threads = Vec::with_capacity(n.max(1));
        for i in 0..n.max(1) {
            let rx = Arc::clone(&rx);
            let connector = Arc::clone(&connector);
            let closing = Arc::clone(&closing);
            let conn = first.take();
            let spawned = std::thread::Builder::new()
                .name(format!("hallmark-registry-{i}"))
                .spawn(move || {
                    let conn = worker(conn, &rx, connector.as_ref());
                    // One connection closes at a time. A SQLite connection
                    // checkpoints the log and removes it only when it finds
                    // itself the last one open; closing all at once, each
                    // can see the others still open and none does it.
                    let _one_at_a_time = closing.lock();
                    drop(conn);
                });
            match spawned {
                Ok(t) => threads.push(t),
                Err(e) => {
                    // Closing the channel ends the workers already started.
                    drop(tx);
                    for t in threads {
                        let _ = t.join();
                    }
                    return Err(Error::Registry(format!(
                        "{what}: cannot start a worker thread: {e}"
                    )));
                }
            }
        }
        Ok(Workers {
            jobs: Mutex::new(Some(tx)),
            threads: Mutex::new(threads),
            what,
        })
    }

    /// Run `f` on some worker's connection and wait for its result.
    pub(crate) fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut C) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel();
        let job: Job<C> = Box::new(move |conn: Result<&mut C>| {
            let _ = tx.send(conn.and_then(f));
        });
        {
            let guard = self
                .jobs
                .lock()
                .map_err(|_| Error::Registry(format!("{}: worker pool poisoned", self.what)))?;
            let sender = guard
                .as_ref()
                .ok_or_else(|| Error::Registry(format!("{}: registry closed", self.what)))?;
            sender
                .send(job)
                .map_err(|_| Error::Registry(format!("{}: registry workers stopped", self.what)))?;
        }
        rx.recv()
            .map_err(|_| Error::Registry(format!("{}: a registry worker stopped", self.what)))?
    }
}

impl<C> Drop for Workers<C> {
    fn drop(&mut self) {
        // Closing the channel ends every worker after its current job;
        // waiting for them closes their connections before we return.
        if let Ok(mut g) = self.jobs.lock() {
            g.take();
        }
        if let Ok(mut threads) = self.threads.lock() {
            for t in threads.drain(..) {
                let _ = t.join();
            }
        }
    }
}

/// Run jobs until the pool is dropped; hands back the connection to close.
fn worker<C: 'static>(
    mut conn: Option<C>,
    rx: &Mutex<Receiver<Job<C>>>,
    connector: &dyn Connector<C>,
) -> Option<C> {
    loop {
        let job = {
            let Ok(guard) = rx.lock() else { return conn };
            match guard.recv() {
                Ok(job) => job,
                Err(_) => return conn, // pool dropped
            }
        };
        if let Some(c) = conn.as_mut() {
            if !connector.alive(c) {
                conn = None;
            }
        }
        if conn.is_none() {
            match connector.connect() {
                Ok(c) => conn = Some(c),
                Err(e) => {
                    job(Err(e));
                    continue;
                }
            }
        }
        match conn.as_mut() {
            Some(c) => job(Ok(c)),
            None => job(Err(Error::Registry("no connection".into()))),
        }
    }
}
