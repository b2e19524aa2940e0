//! CPU runtime settings that candle and mimalloc read only from the environment, given to the
//! `attune` process by re-executing it once with them set (safe code cannot change its own
//! environment once threads may exist). A variable the user already set is never overridden.
//!
//! Why each one (measured with `strace -c -f` and `perf`; README, "Speed"):
//! - `RAYON_NUM_THREADS`: without it candle re-reads `/proc/cpuinfo` on **every** f32 matmul
//!   to count physical cores (≈ 8,000 opens in a 5-step training run).
//! - `MIMALLOC_PURGE_DELAY=-1`: mimalloc returns freed pages to the kernel after 10 ms by
//!   default, so the next tensor of the same size faults in fresh pages that the kernel zeroes
//!   (2 MiB at a time under transparent huge pages): 14 % of training CPU time was
//!   `clear_page_erms`. Kept, the pages are reused: 5 training steps of `tremor` fell from
//!   129,437 to 2,007 minor faults and from 10.0 s to 5.3 s `sys`.
//!
//! [`join_pool`] is the one setting made in-process: the thread layout of headless commands.

use std::ffi::OsString;
use std::os::unix::process::CommandExt as _;
use std::process::Command;

/// Set by the re-executed process so that it never loops.
const MARK: &str = "ATTUNE_RUNTIME_ENV";

/// The settings attune runs with, as (variable, value) pairs.
pub fn settings() -> Vec<(&'static str, String)> {
    vec![
        (
            "RAYON_NUM_THREADS",
            num_cpus::get_physical().max(1).to_string(),
        ),
        ("MIMALLOC_PURGE_DELAY", "-1".to_string()),
    ]
}

/// The settings not already present in the environment `has` describes.
fn missing(has: impl Fn(&str) -> bool) -> Vec<(&'static str, String)> {
    settings().into_iter().filter(|(k, _)| !has(k)).collect()
}

/// Re-executes the running binary with the missing settings. Returns only when nothing is
/// missing, this is already the re-executed process, or `exec` failed (the error, for the
/// caller to ignore: the settings are a speed-up, never needed for correct results).
pub fn reexec_with_settings() -> Option<std::io::Error> {
    if std::env::var_os(MARK).is_some() {
        return None;
    }
    let add = missing(|k| std::env::var_os(k).is_some());
    if add.is_empty() {
        return None;
    }
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return Some(e),
    };
    let mut args = std::env::args_os();
    let arg0 = args.next().unwrap_or_else(|| OsString::from("attune"));
    let err = Command::new(exe)
        .arg0(arg0)
        .args(args)
        .envs(add)
        .env(MARK, "1")
        .exec();
    Some(err)
}

/// Makes the calling thread worker 0 of rayon's global pool (`RAYON_NUM_THREADS` workers in all,
/// so one fewer is spawned). A headless command runs its model work on the main thread; outside
/// the pool, each parallel GEMM or kernel would be handed to the workers while the main thread
/// sleeps on a latch, one more runnable thread than cores, and the spinning workers were
/// preempted ~10,000 times a second. Inside it, the caller takes its share directly: a training
/// step of `tremor` on a 2-core Xeon went from 0.82 to 0.71 s and involuntary context switches
/// from 390,000 to 3,400 in 16 steps (README, "Speed"). The workbench does not call it: its
/// jobs run on threads of their own, and a pool worker that never yields to rayon would leave
/// their parallel work to the others. Returns false when the pool already existed (rayon was
/// used first); nothing changes then.
pub fn join_pool() -> bool {
    rayon::ThreadPoolBuilder::new()
        .use_current_thread()
        .build_global()
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_settings_win_and_thread_count_is_positive() {
        let all = missing(|_| false);
        assert!(all.iter().any(|(k, _)| *k == "RAYON_NUM_THREADS"));
        let threads: usize = all[0].1.parse().unwrap();
        assert!(threads >= 1);
        assert!(
            missing(|k| k == "RAYON_NUM_THREADS")
                .iter()
                .all(|(k, _)| *k != "RAYON_NUM_THREADS")
        );
        assert!(missing(|_| true).is_empty());
    }
}
