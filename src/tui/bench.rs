//! Key-to-frame latency while a real training job runs: the real event loop, worker and App
//! drawing into a `TestBackend`, keys injected through the same event stream the terminal feeds.
