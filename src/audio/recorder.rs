//! The consumer side of recording, shared by the TUI and the CLI: reads the capture ring (from a
//! sound card or a file-backed source that feeds the same ring through the same mixing code),
//! meters levels, endpoints the take and returns it trimmed and resampled to 16 kHz.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use super::capture::{CaptureError, LiveInput, open_input, push_interleaved};
use super::endpoint::{End, EndpointConfig, Endpointer, Levels, State, TakeQuality};
use super::ring::{Consumer, ring};
use super::{SAMPLE_RATE, read_wav, resample};

/// How often the recorder looks at the ring when it is empty.
const POLL: Duration = Duration::from_millis(10);

/// One recorded take.
#[derive(Debug, Clone)]
pub struct Take {
    /// Trimmed, 16 kHz mono.
    pub samples: Vec<f32>,
    pub end: End,
    pub quality: TakeQuality,
    /// Samples lost because the recorder fell behind the device (should be 0).
    pub dropped: u64,
}

impl Take {
    pub fn seconds(&self) -> f32 {
        self.samples.len() as f32 / SAMPLE_RATE as f32
    }
}

enum Source {
    /// Holds the stream open while the input lives.
    Live {
        _stream: LiveInput,
    },
    File(Option<JoinHandle<()>>),
}

/// Where takes come from: a sound card, or a WAV file played into the capture ring.
pub struct Input {
    consumer: Consumer,
    rate: u32,
    name: String,
    source: Source,
}

impl Input {
    /// Opens a capture device (`None`: the default one).
    pub fn device(name: Option<&str>) -> Result<Self, CaptureError> {
        let live = open_input(name)?;
        Ok(Self {
            consumer: live.consumer.clone(),
            rate: live.rate,
            name: live.name.clone(),
            source: Source::Live { _stream: live },
        })
    }

    /// A file-backed source, as if a device at `rate` Hz with `channels` channels played the
    /// file: its audio is converted to that format, then fed through the device path in 10 ms
    /// blocks (in real time when `realtime`, else as fast as the recorder reads).
    pub fn file(
        path: &Path,
        rate: u32,
        channels: u16,
        realtime: bool,
    ) -> Result<Self, CaptureError> {
        let mono = resample(&read_wav(path)?, SAMPLE_RATE, rate)?;
        let ch = usize::from(channels.max(1));
        let interleaved: Vec<f32> = mono
            .iter()
            .flat_map(|&s| std::iter::repeat_n(s, ch))
            .collect();
        let (producer, consumer) = ring(rate as usize);
        let block = (rate as usize / 100).max(1) * ch;
        let feeder = std::thread::spawn(move || {
            for chunk in interleaved.chunks(block) {
                while producer.free() < chunk.len() / ch {
                    std::thread::sleep(Duration::from_millis(1));
                }
                push_interleaved(&producer, chunk, ch);
                if realtime {
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        });
        Ok(Self {
            consumer,
            rate,
            name: path.display().to_string(),
            source: Source::File(Some(feeder)),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// True once the source can give no more audio (file played out, device gone).
    pub fn ended(&self) -> bool {
        self.consumer.finished()
    }

    /// The native rate takes are captured at.
    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// Records one take: waits for speech, stops after the trailing silence (or at the limits,
    /// when the input ends, or when `stop` is set), and reports levels as it goes.
    pub fn record_take(
        &self,
        cfg: &EndpointConfig,
        stop: &AtomicBool,
        mut on_level: impl FnMut(Levels, State),
    ) -> Result<Take, CaptureError> {
        if matches!(self.source, Source::Live { .. }) {
            // What was captured while nobody was recording is not part of the take.
            self.consumer.discard();
        }
        let dropped_before = self.consumer.dropped();
        let mut ep = Endpointer::new(cfg.clone(), self.rate);
        let mut chunk = Vec::with_capacity(self.rate as usize);
        let end = loop {
            if stop.load(Ordering::Relaxed) {
                break ep.finish();
            }
            chunk.clear();
            if self.consumer.pop_into(&mut chunk) == 0 {
                if self.consumer.finished() {
                    break ep.finish();
                }
                std::thread::sleep(POLL);
                continue;
            }
            let state = ep.push(&chunk);
            on_level(ep.take_meter(), state);
            if let State::Done(_) = state {
                break state;
            }
        };
        let State::Done(end) = end else {
            unreachable!("the loop ends only when done")
        };
        let samples = resample(ep.trimmed(), self.rate, SAMPLE_RATE)?;
        Ok(Take {
            quality: TakeQuality::of(&samples),
            samples,
            end,
            dropped: self.consumer.dropped() - dropped_before,
        })
    }
}

impl Drop for Input {
    fn drop(&mut self) {
        if let Source::File(handle) = &mut self.source {
            // Unblock a feeder waiting for room, then wait for it.
            while !self.consumer.finished() {
                self.consumer.discard();
                std::thread::sleep(Duration::from_millis(1));
            }
            if let Some(h) = handle.take() {
                let _ = h.join();
            }
        }
    }
}
