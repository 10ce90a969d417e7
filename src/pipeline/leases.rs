//! Many workers on one shared index: a run claims each intake file just before reading it,
//! and a heartbeat renews the run's lease and claims every third of the lease. A worker that
//! dies stops renewing: once its lease runs out, its files pass to the others.

use std::sync::mpsc::{self, Sender};
use std::thread::{Scope, ScopedJoinHandle};
use std::time::Duration;

use super::events::{Event, WorkItem};
use super::observer::{Notice, Observer};
use super::RunError;
use crate::index::claims::Claim;
use crate::index::{Index, IndexError, Location};

/// A run's claims on a shared index, with their own connection (the producer's).
pub(super) struct Claimer {
    pub index: Index,
    pub run_id: String,
    pub lease_ms: u64,
}

pub(super) enum Claimed {
    /// This run reads the file (its latest archived content refreshed).
    Go(WorkItem),
    /// Another live worker has it; try again later.
    Held(WorkItem),
    /// Another worker archived it since this run listed the intake.
    DoneElsewhere(usize),
}

impl Claimer {
    pub fn try_claim(
        &self,
        mut item: WorkItem,
        events: &Sender<Event>,
    ) -> Result<Claimed, IndexError> {
        let path = &item.candidate.rel_path;
        let taken_over = match self.index.claim(path, &self.run_id, self.lease_ms)? {
            Claim::Held => return Ok(Claimed::Held(item)),
            Claim::Mine { taken_over } => taken_over,
        };
        // The claim is ours: whoever had the file before either committed it (then the stat
        // cache shows it) or died without committing (then it is ours to read).
        if let Some(k) = self.index.known_file(path)? {
            if k.bytes == item.candidate.bytes && k.mtime_ns == item.candidate.mtime_ns {
                self.index.release(path, &self.run_id)?;
                return Ok(Claimed::DoneElsewhere(item.seq));
            }
        }
        item.previous_sha256 = self.index.latest_sha256(path)?;
        if taken_over {
            let _ = events.send(Event::TakenOver);
        }
        Ok(Claimed::Go(item))
    }
}

/// Renews a run's lease and claims every third of the lease, on its own connection, until
/// dropped.
pub(super) struct Heartbeat<'scope> {
    stop: Option<Sender<()>>,
    thread: Option<ScopedJoinHandle<'scope, ()>>,
}

impl<'scope> Heartbeat<'scope> {
    pub fn start<'env>(
        scope: &'scope Scope<'scope, 'env>,
        location: &Location,
        run_id: &str,
        lease: Duration,
        observer: &'env dyn Observer,
    ) -> Result<Heartbeat<'scope>, RunError> {
        let index = Index::open(location, true)?;
        let run_id = run_id.to_owned();
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = scope.spawn(move || {
            let lease_ms = lease.as_millis() as u64;
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(lease / 3) {
                if let Err(e) = index.renew(&run_id, lease_ms) {
                    observer.notice(&Notice::Warning(format!(
                        "cannot renew this run's lease: {e}"
                    )));
                }
            }
        });
        Ok(Heartbeat {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Heartbeat<'_> {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
