//! What the worker's job threads share: the workspace (home, base, samples), the channel back to the UI, the base
//! (loaded once, on first need), the last take's samples, and which kinds of job are running.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::mpsc::UnboundedSender;

use super::msg::Msg;
use crate::recognizer::Recognizer;
use crate::workflow::Workspace;

/// Shared by the worker's threads.
pub struct Shared {
    pub ws: Workspace,
    pub tx: UnboundedSender<Msg>,
    recognizer: OnceLock<Result<Arc<Recognizer>, String>>,
    /// The last take's 16 kHz samples.
    pub take: Mutex<Option<Vec<f32>>>,
    /// Kinds of job running now (one of a kind at a time).
    pub(super) busy: Mutex<HashSet<&'static str>>,
}

impl Shared {
    pub fn new(ws: Workspace, tx: UnboundedSender<Msg>) -> Self {
        Self {
            ws,
            tx,
            recognizer: OnceLock::new(),
            take: Mutex::new(None),
            busy: Mutex::new(HashSet::new()),
        }
    }

    /// Sends a message; a closed channel means the UI is gone, and the job's result with it.
    pub fn send(&self, m: Msg) {
        let _ = self.tx.send(m);
    }

    /// The base, loading it on first use (other callers wait for that load).
    pub fn recognizer(&self) -> Result<Arc<Recognizer>, String> {
        self.recognizer
            .get_or_init(|| {
                self.ws
                    .recognizer(false)
                    .map(Arc::new)
                    .map_err(|e| e.to_string())
            })
            .clone()
    }
}
