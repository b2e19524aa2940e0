//! What the worker's job threads share: where things are, the channel back to the UI, the base
//! (loaded once, on first need), the last take's samples, and which kinds of job are running.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::mpsc::UnboundedSender;

use super::msg::Msg;
use crate::model::decode::DecodeOptions;
use crate::recognizer::Recognizer;
use crate::store::Home;

/// Where the worker finds things.
#[derive(Debug, Clone)]
pub struct Paths {
    pub home: Home,
    pub base: PathBuf,
    pub samples: PathBuf,
}

/// Shared by the worker's threads.
pub struct Shared {
    pub paths: Paths,
    pub tx: UnboundedSender<Msg>,
    recognizer: OnceLock<Result<Arc<Recognizer>, String>>,
    /// The last take's 16 kHz samples.
    pub take: Mutex<Option<Vec<f32>>>,
    /// Kinds of job running now (one of a kind at a time).
    pub(super) busy: Mutex<HashSet<&'static str>>,
}

impl Shared {
    pub fn new(paths: Paths, tx: UnboundedSender<Msg>) -> Self {
        Self {
            paths,
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
                Recognizer::load(&self.paths.base, DecodeOptions::default())
                    .map(Arc::new)
                    .map_err(|e| format!("{}: {e}", self.paths.base.display()))
            })
            .clone()
    }
}
