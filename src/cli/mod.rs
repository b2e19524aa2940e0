//! Headless commands behind the `attune` binary (anyhow at this edge): each parses its arguments,
//! calls the use-case layer (`crate::workflow`) or an engine, and formats the result.

pub mod base;
pub mod bench;
pub mod bench_personalize;
pub mod bench_serve;
pub mod bench_train;
pub mod devices;
pub mod enroll;
pub mod eval;
pub mod library;
pub mod speaker;
pub mod train;
pub mod transcribe;

use std::path::PathBuf;

/// Logs warnings (or `RUST_LOG`) to stderr for headless commands.
pub fn init_stderr_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Ends a headless command quietly when its stdout is closed early (`attune library list | head
/// -1`), as SIGPIPE ends C tools: exit status 141 (128 + SIGPIPE) instead of a panic report (Rust
/// ignores SIGPIPE, so `println!` panics on the broken pipe). Only EPIPE (os error 32) on stdout
/// is quiet; any other write failure (a full disk under `>`) and every other panic are reported
/// as before. Job state needs no unwinding: locks are flocks the kernel drops, files are written
/// through temp + rename.
pub fn exit_quietly_on_closed_stdout() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map_or("", String::as_str);
        if message.starts_with("failed printing to stdout") && message.ends_with("(os error 32)") {
            std::process::exit(141);
        }
        previous(info);
    }));
}

/// Reads each file, printing a one-line error for each that fails; returns the good ones
/// (index into `paths`, samples).
pub fn read_audio_files(paths: &[PathBuf]) -> (Vec<(usize, Vec<f32>)>, usize) {
    let mut good = Vec::new();
    let mut failed = 0;
    for (i, p) in paths.iter().enumerate() {
        match crate::audio::read_wav(p) {
            Ok(s) => good.push((i, s)),
            Err(e) => {
                eprintln!("error: {e}");
                failed += 1;
            }
        }
    }
    (good, failed)
}

/// An error and its causes on one line, `a: b: c`, skipping a cause whose text the line already
/// holds (library errors name their file and repeat the I/O error they wrap).
pub fn report(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

#[cfg(test)]
mod report_tests {
    #[test]
    fn causes_already_in_the_message_are_not_repeated() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file");
        let e = anyhow::Error::new(crate::library::LibraryError::Io {
            path: "/x/y".into(),
            source: io,
        })
        .context("exporting y");
        assert_eq!(super::report(&e), "exporting y: /x/y: No such file");
    }
}
