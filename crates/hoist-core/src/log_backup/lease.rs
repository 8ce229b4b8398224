//! One writer per log in object storage: a lease object, `hoist-log.lock`, put with a
//! conditional put and renewed while the writer runs.
//!
//! A local directory has `flock`; an object store has no lock, only conditional puts. The
//! lease object names its holder (host, pid, start). A `log start` takes it when it is absent
//! (`If-None-Match: *`), or when its holder is gone: on the same host a pid that no longer
//! exists (a `kill -9`'s restart goes on at once), elsewhere a lease not renewed for [`TTL`]. The
//! take-over is a put conditional on the version read (`If-Match`), so of two starts racing for a
//! stale lease one wins. The holder renews it every [`RENEW`], conditionally too: a writer that
//! finds its lease taken (it hung past the TTL) stops. The segments (`If-None-Match`) and the
//! index (`If-Match` on the version read at start) are conditional as well, so even a writer
//! that wrongly thinks it holds the lease cannot overwrite another's objects.

use std::time::{Duration, Instant};

use object_store::UpdateVersion;
use serde::{Deserialize, Serialize};

use super::LogError;
use crate::storage::Storage;

pub const LEASE_FILE: &str = "hoist-log.lock";
/// A lease not renewed for this long (by the store's clock) is taken over from another host.
pub const TTL: Duration = Duration::from_secs(60);
pub const RENEW: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Holder {
    host: String,
    pid: u32,
    /// When it started, UTC.
    started: String,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pid {} on {}, started {} UTC", self.pid, self.host, self.started)
    }
}

pub struct Lease {
    dir: Storage,
    version: UpdateVersion,
    renewed: Instant,
    me: Holder,
}

impl Lease {
    /// Take the lease of the log at `dir`, or refuse naming the writer that holds it.
    pub fn claim(dir: &Storage) -> Result<Lease, LogError> {
        let now = crate::utc::utc_text(super::now_secs() as i64);
        let me = Holder { host: host_name(), pid: std::process::id(), started: now };
        let body = serde_json::to_vec_pretty(&me).expect("a holder serialises");
        // Twice at most: a lost race for an absent or stale lease is read again once.
        for _ in 0..2 {
            let found = dir.read_versioned(LEASE_FILE).map_err(|e| storage(dir, e))?;
            let put = match &found {
                None => dir.put_if(LEASE_FILE, body.clone(), None),
                Some(held) => {
                    let holder: Option<Holder> = serde_json::from_slice(&held.bytes).ok();
                    let gone = match &holder {
                        Some(h) if h.host == me.host => !pid_alive(h.pid),
                        _ => held.age_ms >= TTL.as_millis() as u64,
                    };
                    if !gone {
                        let who = holder.map_or_else(|| "an unreadable lease".to_string(), |h| h.to_string());
                        return Err(LogError::Refused(format!(
                            "{} is in use by another hoist log start ({who}; its lease {LEASE_FILE} was renewed {} s \
                             ago): one log takes one writer; stop the other one, or give --storage another prefix \
                             (a writer on another host that died lets go {} s after its last renewal)",
                            dir.location(),
                            held.age_ms / 1000,
                            TTL.as_secs()
                        )));
                    }
                    dir.put_if(LEASE_FILE, body.clone(), Some(&held.version))
                }
            };
            if let Some(version) = put.map_err(|e| storage(dir, e))? {
                return Ok(Lease { dir: dir.clone(), version, renewed: Instant::now(), me });
            }
        }
        Err(taken(dir, "while this one was starting"))
    }

    /// Renew the lease when it is due; a lease another writer took stops this one.
    pub fn renew_if_due(&mut self) -> Result<(), LogError> {
        if self.renewed.elapsed() < RENEW {
            return Ok(());
        }
        self.renew()
    }

    /// Renew now: also the check, before a segment object is replaced, that the log is still ours.
    pub fn renew(&mut self) -> Result<(), LogError> {
        let body = serde_json::to_vec_pretty(&self.me).expect("a holder serialises");
        match self.dir.put_if(LEASE_FILE, body, Some(&self.version)).map_err(|e| storage(&self.dir, e))? {
            Some(v) => {
                self.version = v;
                self.renewed = Instant::now();
                Ok(())
            }
            None => Err(taken(&self.dir, "while this one was writing")),
        }
    }

    /// A clean stop lets go at once.
    pub fn release(self) -> Result<(), LogError> {
        self.dir.remove(LEASE_FILE).map_err(|e| storage(&self.dir, e))
    }
}

/// The refusal when another writer holds the log: it names the prefix and that writer.
pub fn taken(dir: &Storage, when: &str) -> LogError {
    let who = match dir.read_versioned(LEASE_FILE) {
        Ok(Some(v)) => serde_json::from_slice::<Holder>(&v.bytes).map_or("an unknown writer".into(), |h| h.to_string()),
        _ => "a writer that has since stopped".into(),
    };
    LogError::Refused(format!(
        "{}: another hoist log start ({who}) took over the log {when}; this one stops without overwriting its \
         objects. One log takes one writer: stop the other one, or give --storage another prefix",
        dir.location()
    ))
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "unknown-host".into())
}

fn pid_alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    let rc = unsafe { libc::kill(pid as libc::pid_t, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

fn storage(dir: &Storage, e: std::io::Error) -> LogError {
    LogError::Storage { location: dir.location(), message: e.to_string() }
}
