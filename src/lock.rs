//! One run at a time per output: a lock object `<output>/_lock.json`, created with a
//! conditional put (create-if-absent, atomic on every store that supports it: local files,
//! S3, GCS, Azure, memory). It records who holds it; a lock older than the stale timeout, or
//! held by a process on this host that no longer exists, is taken over.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use object_store::path::Path;
use object_store::{ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::storage::Location;

pub const LOCK_FILE: &str = "_lock.json";

/// Who holds the lock.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Holder {
    pub host: String,
    pub pid: u32,
    pub started_at: String,
    pub run_date: String,
    pub run_id: String,
}

impl Holder {
    /// This process, about to run `run_date`.
    pub fn me(run_date: &str, run_id: &str) -> Holder {
        Holder {
            host: hostname(),
            pid: std::process::id(),
            started_at: Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
            run_date: run_date.into(),
            run_id: run_id.into(),
        }
    }
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pid {} on {} (run {} for {}, since {})",
            self.pid, self.host, self.run_id, self.run_date, self.started_at
        )
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown-host".into())
}

/// A held lock; release it when the run is over.
#[derive(Debug)]
pub struct Lock {
    output: Location,
    path: Path,
    /// Set when a stale lock was taken over: the holder it replaced.
    pub took_over: Option<Holder>,
}

impl Lock {
    pub async fn acquire(output: &Location, me: &Holder, stale_after: Duration) -> Result<Lock> {
        let path = output.path(LOCK_FILE);
        let body =
            serde_json::to_vec_pretty(me).map_err(|e| Error::output(output.url_of(&path), e))?;
        let lock = |took_over| Lock {
            output: output.clone(),
            path: path.clone(),
            took_over,
        };
        // The stale holder removed on a store without conditional update, if any.
        let mut replaced = None;
        // Two attempts: the second after removing a stale lock on stores without conditional update.
        for _ in 0..2 {
            match put(output, &path, &body, PutMode::Create).await {
                Ok(()) => return Ok(lock(replaced)),
                Err(object_store::Error::AlreadyExists { .. }) => {}
                Err(e) => {
                    return Err(Error::output(
                        output.url_of(&path),
                        format!("cannot create the lock: {e}"),
                    ));
                }
            }
            let current = match output.store().get(&path).await {
                Ok(current) => current,
                // Released between our put and get: try again.
                Err(object_store::Error::NotFound { .. }) => continue,
                Err(e) => return Err(Error::output(output.url_of(&path), e)),
            };
            let meta = current.meta.clone();
            let bytes = current
                .bytes()
                .await
                .map_err(|e| Error::output(output.url_of(&path), e))?;
            let holder: Option<Holder> = serde_json::from_slice(&bytes).ok();
            let shown = holder
                .as_ref()
                .map_or_else(|| "an unreadable lock".to_string(), Holder::to_string);
            if !is_stale(holder.as_ref(), meta.last_modified, stale_after) {
                return Err(Error::Locked {
                    lock: output.url_of(&path),
                    holder: shown,
                });
            }
            let version = UpdateVersion {
                e_tag: meta.e_tag.clone(),
                version: meta.version.clone(),
            };
            match put(output, &path, &body, PutMode::Update(version)).await {
                Ok(()) => return Ok(lock(holder)),
                // Someone else took it over first.
                Err(object_store::Error::Precondition { .. }) => {
                    return Err(Error::Locked {
                        lock: output.url_of(&path),
                        holder: "another run that took over a stale lock".into(),
                    });
                }
                // Local files have no conditional update: remove, then create-if-absent again.
                Err(object_store::Error::NotImplemented { .. }) => {
                    match output.store().delete(&path).await {
                        Ok(()) | Err(object_store::Error::NotFound { .. }) => {
                            replaced = holder;
                            continue;
                        }
                        Err(e) => return Err(Error::output(output.url_of(&path), e)),
                    }
                }
                Err(e) => return Err(Error::output(output.url_of(&path), e)),
            }
        }
        Err(Error::Locked {
            lock: output.url_of(&path),
            holder: "another run (the lock changed while being taken over)".into(),
        })
    }

    pub async fn release(self) -> Result<()> {
        match self.output.store().delete(&self.path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(Error::output(self.output.url_of(&self.path), e)),
        }
    }
}

async fn put(
    output: &Location,
    path: &Path,
    body: &[u8],
    mode: PutMode,
) -> object_store::Result<()> {
    let options = PutOptions {
        mode,
        ..PutOptions::default()
    };
    output
        .store()
        .put_opts(path, PutPayload::from(body.to_vec()), options)
        .await
        .map(|_| ())
}

/// Stale: older than the timeout, or held by a process of this host that has exited.
fn is_stale(holder: Option<&Holder>, written: DateTime<Utc>, stale_after: Duration) -> bool {
    let age = Utc::now().signed_duration_since(written);
    if age.to_std().is_ok_and(|age| age > stale_after) {
        return true;
    }
    holder.is_some_and(|h| {
        h.host == hostname()
            && h.pid != std::process::id()
            && !std::path::Path::new(&format!("/proc/{}", h.pid)).exists()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_of_a_live_process_is_not_stale() {
        let me = Holder::me("2026-01-01", "r1");
        let other_live = Holder {
            pid: 1,
            ..me.clone()
        };
        assert!(!is_stale(
            Some(&other_live),
            Utc::now(),
            Duration::from_secs(3600)
        ));
        let dead = Holder {
            pid: u32::MAX - 1,
            ..me
        };
        assert!(is_stale(Some(&dead), Utc::now(), Duration::from_secs(3600)));
        let old = Utc::now() - chrono::Duration::hours(2);
        assert!(is_stale(None, old, Duration::from_secs(3600)));
    }
}
