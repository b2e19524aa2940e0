//! Job slots in the home's jobs folder: each running job's request, checkpoint and lock, so that
//! a killed job can be found and resumed, and identical jobs never share a checkpoint.

use super::personalize::Request;
use super::{Result, WorkflowError, Workspace};
use crate::util::atomic::{create_private_dir_all, open_private};

/// The files of one job slot: its request, its checkpoint and its lock. Identical requests get
/// separate slots (`<key>-<n>`), so two processes running the same job never share a checkpoint.
pub(super) struct JobFiles {
    pub request: std::path::PathBuf,
    pub checkpoint: std::path::PathBuf,
    lock: std::path::PathBuf,
}

/// More identical jobs at once than this is refused.
const MAX_SLOTS: usize = 16;

impl JobFiles {
    fn of(ws: &Workspace, key: &str, slot: usize) -> Self {
        let dir = ws.home.jobs_dir();
        Self {
            request: dir.join(format!("{key}-{slot}.json")),
            checkpoint: dir.join(format!("{key}-{slot}.ckpt")),
            lock: dir.join(format!("{key}-{slot}.lock")),
        }
    }

    /// The slot's lock, if no process holds it (the caller then owns the slot).
    fn try_lock(&self) -> Option<std::fs::File> {
        let f = open_private(&self.lock).ok()?;
        rustix::fs::flock(&f, rustix::fs::FlockOperation::NonBlockingLockExclusive).ok()?;
        Some(f)
    }

    pub fn remove(&self) {
        for p in [&self.request, &self.checkpoint, &self.lock] {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Claims a slot for `key`: with `resume`, a free slot holding a checkpoint if there is one;
/// otherwise the first free slot, whose leftovers are cleared.
pub(super) fn claim(ws: &Workspace, key: &str, resume: bool) -> Result<(JobFiles, std::fs::File)> {
    let dir = ws.home.jobs_dir();
    create_private_dir_all(&dir).map_err(WorkflowError::io(&dir))?;
    let mut first_free = None;
    for slot in 0..MAX_SLOTS {
        let files = JobFiles::of(ws, key, slot);
        let Some(lock) = files.try_lock() else {
            continue;
        };
        if resume && files.checkpoint.is_file() {
            return Ok((files, lock));
        }
        if first_free.is_none() {
            first_free = Some((files, lock));
            if !resume {
                break;
            }
        }
    }
    let (files, lock) = first_free.ok_or_else(|| {
        WorkflowError::Invalid(format!("{MAX_SLOTS} identical jobs are already running"))
    })?;
    let _ = std::fs::remove_file(&files.checkpoint);
    Ok((files, lock))
}

/// The slots of jobs that were interrupted (process killed, or the workbench quit mid-job) and
/// are not running now.
fn interrupted(ws: &Workspace) -> Vec<(Request, JobFiles)> {
    let Ok(entries) = std::fs::read_dir(ws.home.jobs_dir()) else {
        return Vec::new();
    };
    let mut out: Vec<(Request, JobFiles)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let path = e.path();
            let stem = path.file_stem()?.to_str()?.to_string();
            if path.extension()? != "json" {
                return None;
            }
            let (key, slot) = stem.rsplit_once('-')?;
            let files = JobFiles::of(ws, key, slot.parse().ok()?);
            files.try_lock()?;
            let req = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
            Some((req, files))
        })
        .collect();
    out.sort_by_key(|(r, _)| r.describe());
    out
}

/// Jobs that were interrupted and can resume.
pub fn unfinished(ws: &Workspace) -> Vec<Request> {
    interrupted(ws).into_iter().map(|(r, _)| r).collect()
}

/// Forgets an interrupted job (its checkpoints are deleted).
pub fn discard(ws: &Workspace, req: &Request) {
    for (r, files) in interrupted(ws) {
        if r == *req {
            files.remove();
        }
    }
}
