//! How the processes that share a job divide it (DESIGN.md, "Scale beyond one machine").
//!
//! Each process joins the job as an owner (host, pid and a random part). Its workers take the
//! chunks in their own queue's order, but load one only under its lease; a unit that another
//! process holds waits in a list and is tried again (0.2 s doubling, up to a third of the
//! expiry; before the queue's next chunk once it is due), so that this process learns when it
//! is done (every process sees every chunk done, and so knows when a table's rows are all in),
//! or takes it over when its holder's lease expired or the holder left the job. A table's post steps and the job's end are units too: the process that takes
//! one runs it, once. A keeper renews every lease this process holds, three times per expiry;
//! a lease found lost makes its worker give the chunk up at its next batch, and a store that
//! cannot be reached for two thirds of the expiry stops the run before another process may
//! take its units.
//!
//! The lease divides the work and decides nothing of where a chunk stands: that is the
//! chunk's marker in the target, read under the target's claim (`Writer::claim`), which also
//! keeps a process that lost a lease without knowing it from writing beside the new holder.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::checkpoint::{CheckpointStore, ChunkProgress, ChunkRecord, Lease, TableStatus, Unit};
use crate::error::{CheckpointError, ImportError};
use crate::target::Target;

/// Work a worker may find another process holding.
pub(super) enum Work {
    /// A chunk, with the position this process last knew.
    Chunk(ChunkRecord, ChunkProgress),
    /// A table's post steps, by the table's id.
    Post(i64),
}

impl From<(ChunkRecord, ChunkProgress)> for Work {
    fn from((chunk, resume): (ChunkRecord, ChunkProgress)) -> Work {
        Work::Chunk(chunk, resume)
    }
}

impl Work {
    fn unit(&self) -> Unit {
        match self {
            Work::Chunk(c, _) => Unit::Chunk(c.id),
            Work::Post(id) => Unit::Post(*id),
        }
    }
}

/// Whose turn a unit is.
pub(super) enum Turn<'a> {
    /// This process's, until the guard drops; with the unit's table as the store has it now.
    Ours(Held<'a>, Option<TableStatus>),
    /// Another process's: the work waits to be tried again ([`Leases::next_waiting`]).
    Theirs,
}

/// What this process does about the job's end.
pub(super) enum EndTurn<'a> {
    Ours(Held<'a>),
    /// Another process finished the job meanwhile.
    FinishedElsewhere,
}

/// A lease this process holds; dropping it releases the unit.
pub(super) struct Held<'a> {
    leases: &'a Leases,
    unit: Unit,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.leases.let_go(self.unit);
    }
}

pub(super) struct Leases {
    store: Arc<dyn CheckpointStore>,
    /// The target and the job's fingerprint there: whether the job finished
    /// (`Target::finished`), when another process removed the checkpoint.
    target: Arc<dyn Target>,
    fingerprint: String,
    owner: String,
    expiry: Duration,
    stop: Arc<AtomicBool>,
    /// The units this process holds, and whether their lease was found lost.
    held: Mutex<HashMap<Unit, bool>>,
    /// Work another process held when it was tried, and when to try it again.
    waiting: Mutex<Vec<(Instant, Work)>>,
    /// Per unit waited for, the tries so far.
    tries: Mutex<HashMap<Unit, u32>>,
    /// Another owner was met in the job, holding a unit.
    met_others: AtomicBool,
    /// Another process finished the job: this one stops.
    finished_elsewhere: AtomicBool,
    /// Why the keeper stopped the run.
    failure: Mutex<Option<String>>,
    /// Releases under way ([`Leases::settle`]).
    releasing: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

/// This process's owner name: the host, the process id and a random part (a pid comes back).
pub(super) fn owner_name() -> String {
    let mut host = [0u8; 256];
    // SAFETY: gethostname writes at most `len` bytes into the buffer it is given.
    let rc = unsafe { libc::gethostname(host.as_mut_ptr().cast(), host.len()) };
    let host = match rc {
        0 => String::from_utf8_lossy(host.split(|&b| b == 0).next().unwrap_or_default()).into_owned(),
        _ => "localhost".into(),
    };
    format!("{host}:{}:{:08x}", std::process::id(), rand::random::<u32>())
}

/// Hold the job's setup (the plan, the tables) for `owner`, waiting for another process that
/// sets it up: the first to come makes the plan, the others then load it.
pub(super) async fn begin_setup(
    store: &dyn CheckpointStore,
    owner: &str,
    stop: &AtomicBool,
) -> Result<(), ImportError> {
    let mut said = false;
    while !store.begin_setup(owner, Duration::from_secs(2)).await? {
        if stop.load(Ordering::SeqCst) {
            return Err(ImportError::Interrupted);
        }
        if !said {
            tracing::info!(
                "another hoist process is planning this job or creating its tables ({}); waiting for it",
                store.location()
            );
            said = true;
        }
    }
    Ok(())
}

/// Who a process is in a job, and where it is.
pub(super) struct Member {
    pub store: Arc<dyn CheckpointStore>,
    pub target: Arc<dyn Target>,
    pub fingerprint: String,
    pub owner: String,
}

impl Leases {
    pub(super) fn new(member: Member, expiry: Duration, stop: Arc<AtomicBool>) -> Leases {
        let Member { store, target, fingerprint, owner } = member;
        Leases {
            store,
            target,
            fingerprint,
            owner,
            expiry,
            stop,
            held: Mutex::default(),
            waiting: Mutex::default(),
            tries: Mutex::default(),
            met_others: AtomicBool::new(false),
            finished_elsewhere: AtomicBool::new(false),
            failure: Mutex::default(),
            releasing: Mutex::default(),
        }
    }

    /// Whether another process was met in the job (it shares it, or did).
    pub(super) fn met_others(&self) -> bool {
        self.met_others.load(Ordering::SeqCst)
    }

    /// Whether another process finished the job: found when the checkpoint went from under
    /// this one ([`Self::finished_meanwhile`]).
    pub(super) fn finished_elsewhere(&self) -> bool {
        self.finished_elsewhere.load(Ordering::SeqCst)
    }

    /// After the store failed: whether that is because another process sharing the job finished
    /// it and removed the checkpoint (the target records the job finished). Then this run stops.
    pub(super) async fn finished_meanwhile(&self) -> bool {
        if !self.met_others() {
            return false;
        }
        if !matches!(self.target.finished(&self.fingerprint).await, Ok(Some(_))) {
            return false;
        }
        tracing::debug!("another process finished the job and removed the checkpoint");
        self.finished_elsewhere.store(true, Ordering::SeqCst);
        self.stop.store(true, Ordering::SeqCst);
        true
    }

    /// Why the keeper stopped the run, if it did.
    pub(super) fn failure(&self) -> Option<String> {
        self.failure.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// How long a unit another process holds waits before its try number `tries` (from 1):
    /// 0.2 s doubling, since its holder releases it when done (a few tries see a small chunk
    /// through), but never past its lease's end nor longer than a third of the expiry (the
    /// traffic at the job's end, when every process waits for the others' last chunks).
    fn retry_in(&self, tries: u32, expires_in: Duration) -> Duration {
        let backoff = Duration::from_millis(200) * (1 << tries.saturating_sub(1).min(6));
        backoff.min(expires_in).min(self.expiry / 3).max(Duration::from_millis(100))
    }

    /// Leave `work` waiting, to be tried again after [`Self::retry_in`].
    fn wait(&self, work: Work, expires_in: Duration) {
        let mut tries = self.tries.lock().unwrap_or_else(|p| p.into_inner());
        let n = tries.entry(work.unit()).or_default();
        *n += 1;
        let again = Instant::now() + self.retry_in(*n, expires_in);
        self.waiting.lock().unwrap_or_else(|p| p.into_inner()).push((again, work));
    }

    /// Take `work`'s unit, or leave the work waiting when another process holds it.
    pub(super) async fn take(&self, work: Work) -> Result<Turn<'_>, CheckpointError> {
        let unit = work.unit();
        let lease = match self.store.lease(unit, &self.owner, self.expiry).await {
            Err(_) if self.finished_meanwhile().await => return Ok(Turn::Theirs),
            other => other?,
        };
        match lease {
            Lease::Taken { table, previous } => Ok(Turn::Ours(self.hold(unit, previous), table)),
            Lease::Held { owner, expires_in } => {
                self.met_others.store(true, Ordering::SeqCst);
                tracing::debug!("{unit} is {owner}'s (for {expires_in:?} unless renewed); trying it again later");
                self.wait(work, expires_in);
                Ok(Turn::Theirs)
            }
        }
    }

    fn hold(&self, unit: Unit, previous: Option<String>) -> Held<'_> {
        if let Some(previous) = previous {
            tracing::info!("took {unit} over from {previous} (its lease had expired, or it left the job)");
        }
        self.tries.lock().unwrap_or_else(|p| p.into_inner()).remove(&unit);
        self.held.lock().unwrap_or_else(|p| p.into_inner()).insert(unit, false);
        Held { leases: self, unit }
    }

    /// Whether the lease on `unit` was found lost: another process took it over.
    pub(super) fn lost(&self, unit: Unit) -> bool {
        self.held.lock().unwrap_or_else(|p| p.into_inner()).get(&unit).copied().unwrap_or(false)
    }

    /// A chunk given up because its lease was lost waits like one another process holds: this
    /// process still has to learn when it is done.
    pub(super) fn wait_if_lost(&self, chunk: &ChunkRecord, resume: ChunkProgress) {
        if self.lost(Unit::Chunk(chunk.id)) {
            self.wait(Work::Chunk(chunk.clone(), resume), self.expiry);
        }
    }

    /// Whether work waits to be tried again.
    pub(super) fn waiting(&self) -> bool {
        !self.waiting.lock().unwrap_or_else(|p| p.into_inner()).is_empty()
    }

    /// The waiting work whose time to be tried again has come, if any.
    pub(super) fn due(&self) -> Option<Work> {
        self.earliest().ok()
    }

    /// The earliest waiting work if it is due, else when it will be (None: nothing waits).
    fn earliest(&self) -> Result<Work, Option<Instant>> {
        let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        let Some((i, at)) = waiting.iter().enumerate().map(|(i, (at, _))| (i, *at)).min_by_key(|(_, at)| *at) else {
            return Err(None);
        };
        match at <= Instant::now() {
            true => Ok(waiting.swap_remove(i).1),
            false => Err(Some(at)),
        }
    }

    /// The next waiting work, once it is due (None: nothing waits, or the run stops).
    pub(super) async fn next_waiting(&self) -> Option<Work> {
        loop {
            if self.stop.load(Ordering::SeqCst) {
                return None;
            }
            let at = match self.earliest() {
                Ok(work) => return Some(work),
                Err(at) => at?,
            };
            // Not all at once: the run may be stopped meanwhile.
            tokio::time::sleep_until(at.min(Instant::now() + Duration::from_millis(500)).into()).await;
        }
    }

    /// The job's end: this process's turn once no other process holds it. A process that waited
    /// for another one's end, and finds it released, asks the target whether the job finished
    /// (then there is nothing left to do), else runs the end itself.
    pub(super) async fn take_end(&self) -> Result<EndTurn<'_>, ImportError> {
        let mut waited = 0;
        loop {
            if self.stop.load(Ordering::SeqCst) {
                return Err(ImportError::Interrupted);
            }
            match self.store.lease(Unit::End, &self.owner, self.expiry).await {
                Ok(Lease::Taken { previous, .. }) => {
                    let held = self.hold(Unit::End, previous.clone());
                    if waited > 0 && previous.is_none() && self.target.finished(&self.fingerprint).await?.is_some() {
                        return Ok(EndTurn::FinishedElsewhere);
                    }
                    return Ok(EndTurn::Ours(held));
                }
                Ok(Lease::Held { owner, expires_in }) => {
                    self.met_others.store(true, Ordering::SeqCst);
                    if waited == 0 {
                        tracing::info!(
                            "every table is done; {owner} runs the job's end (views, triggers, routines, finishing \
                             the task): waiting for it"
                        );
                    }
                    waited += 1;
                    tokio::time::sleep(self.retry_in(waited, expires_in)).await;
                }
                Err(_) if self.finished_meanwhile().await => return Ok(EndTurn::FinishedElsewhere),
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Forget the lease on `unit` and release it in the store, in the background (a release
    /// that fails only leaves the unit to expire).
    fn let_go(&self, unit: Unit) {
        self.held.lock().unwrap_or_else(|p| p.into_inner()).remove(&unit);
        let (store, owner) = (self.store.clone(), self.owner.clone());
        let release = tokio::spawn(async move {
            if let Err(e) = store.release(unit, &owner).await {
                tracing::debug!("releasing {unit}: {e}");
            }
        });
        let mut releasing = self.releasing.lock().unwrap_or_else(|p| p.into_inner());
        releasing.retain(|r| !r.is_finished());
        releasing.push(release);
    }

    /// Wait for the releases under way: before the checkpoint is removed.
    pub(super) async fn settle(&self) {
        let releases: Vec<_> = self.releasing.lock().unwrap_or_else(|p| p.into_inner()).drain(..).collect();
        for r in releases {
            let _ = r.await;
        }
    }

    /// Renew this process's leases until dropped.
    pub(super) fn keep(self: &Arc<Self>) -> Keeper {
        Keeper(tokio::spawn(self.clone().keep_renewed()))
    }

    async fn keep_renewed(self: Arc<Self>) {
        let every = self.expiry / 3;
        let mut renewed = Instant::now();
        loop {
            tokio::time::sleep(every).await;
            let units: Vec<Unit> = self.held.lock().unwrap_or_else(|p| p.into_inner()).keys().copied().collect();
            if units.is_empty() {
                renewed = Instant::now();
                continue;
            }
            match self.store.renew(&units, &self.owner, self.expiry).await {
                Ok(lost) => {
                    renewed = Instant::now();
                    let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
                    for unit in lost {
                        if let Some(lost) = held.get_mut(&unit) {
                            tracing::warn!(
                                "{unit}: another process took it over (this one's lease ran out); leaving it"
                            );
                            *lost = true;
                        }
                    }
                }
                Err(e) if renewed.elapsed() < self.expiry * 2 / 3 => {
                    tracing::warn!("renewing this process's leases failed (tried again in {every:?}): {e}");
                }
                Err(e) => {
                    let why = format!(
                        "this process could not renew its leases in the checkpoint store for {:.0} s ({e}); the other \
                         processes sharing the job may take its work over, so it stops",
                        renewed.elapsed().as_secs_f64()
                    );
                    *self.failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(why);
                    self.stop.store(true, Ordering::SeqCst);
                    return;
                }
            }
        }
    }

    /// Leave the job: the store frees this process's units for the others.
    pub(super) async fn leave(&self) {
        self.settle().await;
        self.store.leave(&self.owner).await;
    }
}

/// The task that renews the leases; it stops when dropped.
pub(super) struct Keeper(tokio::task::JoinHandle<()>);

impl Drop for Keeper {
    fn drop(&mut self) {
        self.0.abort();
    }
}
