//! Live level metering and energy-based endpointing of one take: finds where speech starts and
//! ends (after an adjustable trailing silence, default 1.5 s, because atypical speakers pause),
//! flags takes that are too quiet or clipped, and trims the take with padding on both sides.
//! Works at any sample rate, on mono `f32` samples pushed in chunks of any size.
//!
//! The noise floor starts at the level of the first frame, falls at once to quieter frames and
//! rises slowly, so a take should begin with a moment of room sound (the recorder starts
//! listening when the prompt is shown, before the speaker starts).

/// Endpointing settings (seconds and dBFS).
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointConfig {
    /// Silence after speech that ends the take.
    pub silence_timeout: f32,
    /// Audio kept before the first and after the last speech frame.
    pub pad: f32,
    /// Speech this long (consecutive frames) starts a take; shorter bursts are clicks.
    pub min_speech: f32,
    /// A take is cut here.
    pub max_seconds: f32,
    /// Give up when nobody speaks for this long.
    pub no_speech_timeout: f32,
    /// Frames quieter than this never count as speech.
    pub min_speech_dbfs: f32,
    /// Speech must be this far above the tracked noise floor.
    pub margin_db: f32,
}

impl Default for EndpointConfig {
    fn default() -> Self {
        Self {
            silence_timeout: 1.5,
            pad: 0.25,
            min_speech: 0.1,
            max_seconds: 30.0,
            no_speech_timeout: 10.0,
            min_speech_dbfs: -50.0,
            margin_db: 12.0,
        }
    }
}

/// Analysis frame length.
const FRAME_SECONDS: f32 = 0.02;
/// How fast the noise floor may rise (dB per second); it falls at once.
const FLOOR_RISE_DB_PER_S: f32 = 1.0;
/// The quietest level reported (digital silence).
pub const FLOOR_DBFS: f32 = -120.0;
/// A take whose loudest sample is below this is too quiet.
pub const TOO_QUIET_PEAK_DBFS: f32 = -30.0;
/// Samples at or above this magnitude count as clipped.
pub const CLIP_LEVEL: f32 = 0.999;
/// A take with more clipped samples than this is flagged.
pub const CLIPPED_SAMPLES: usize = 10;

/// Converts an amplitude to dBFS (never below [`FLOOR_DBFS`]).
pub fn dbfs(amplitude: f32) -> f32 {
    if amplitude > 0.0 {
        (20.0 * amplitude.log10()).max(FLOOR_DBFS)
    } else {
        FLOOR_DBFS
    }
}

/// Levels of a stretch of audio, for a live meter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Levels {
    pub rms_dbfs: f32,
    pub peak_dbfs: f32,
}

impl Levels {
    pub const SILENT: Levels = Levels {
        rms_dbfs: FLOOR_DBFS,
        peak_dbfs: FLOOR_DBFS,
    };

    pub fn of(samples: &[f32]) -> Self {
        if samples.is_empty() {
            return Self::SILENT;
        }
        let (mut peak, mut sum) = (0.0f32, 0.0f64);
        for &s in samples {
            peak = peak.max(s.abs());
            sum += f64::from(s) * f64::from(s);
        }
        Self {
            rms_dbfs: dbfs((sum / samples.len() as f64).sqrt() as f32),
            peak_dbfs: dbfs(peak),
        }
    }

    /// The peak is at full scale.
    pub fn clipping(&self) -> bool {
        self.peak_dbfs >= dbfs(CLIP_LEVEL)
    }
}

/// Why a take ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Trailing silence reached the timeout.
    Silence,
    /// The take reached `max_seconds`.
    MaxLength,
    /// Nobody spoke within `no_speech_timeout`.
    NoSpeech,
    /// The input ended (file source finished, device gone, or stopped by the user).
    EndOfInput,
}

/// Where the endpointer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Waiting,
    Speaking,
    Done(End),
}

/// Endpoints one take.
#[derive(Debug)]
pub struct Endpointer {
    cfg: EndpointConfig,
    rate: u32,
    frame: usize,
    /// Audio kept so far; while waiting only the last pre-roll is kept.
    buf: Vec<f32>,
    /// Samples dropped from the front of `buf` while waiting.
    offset: usize,
    /// Samples of `buf` already analysed.
    analysed: usize,
    floor_db: Option<f32>,
    /// Start of the current run of speech frames (absolute sample index).
    run_start: Option<usize>,
    speech_start: Option<usize>,
    speech_end: usize,
    state: State,
    meter: Levels,
}

impl Endpointer {
    pub fn new(cfg: EndpointConfig, rate: u32) -> Self {
        let frame = ((rate as f32 * FRAME_SECONDS) as usize).max(1);
        Self {
            cfg,
            rate,
            frame,
            buf: Vec::new(),
            offset: 0,
            analysed: 0,
            floor_db: None,
            run_start: None,
            speech_start: None,
            speech_end: 0,
            state: State::Waiting,
            meter: Levels::SILENT,
        }
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn sample_rate(&self) -> u32 {
        self.rate
    }

    fn secs(&self, samples: usize) -> f32 {
        samples as f32 / self.rate as f32
    }

    fn samples(&self, secs: f32) -> usize {
        (secs * self.rate as f32).round() as usize
    }

    /// The loudest frame since the last call (for a live meter), then resets it.
    pub fn take_meter(&mut self) -> Levels {
        std::mem::replace(&mut self.meter, Levels::SILENT)
    }

    /// Adds samples and returns the new state; once done, further samples are ignored.
    pub fn push(&mut self, samples: &[f32]) -> State {
        if matches!(self.state, State::Done(_)) {
            return self.state;
        }
        self.buf.extend_from_slice(samples);
        while self.analysed + self.frame <= self.buf.len() {
            let at = self.analysed;
            self.analysed += self.frame;
            let levels = Levels::of(&self.buf[at..at + self.frame]);
            if levels.peak_dbfs > self.meter.peak_dbfs {
                self.meter = levels;
            }
            self.state = self.step(self.offset + at, levels.rms_dbfs);
            if matches!(self.state, State::Done(_)) {
                break;
            }
        }
        self.drop_old_silence();
        self.state
    }

    /// Ends the take because the input ended.
    pub fn finish(&mut self) -> State {
        if !matches!(self.state, State::Done(_)) {
            self.state = State::Done(if self.speech_start.is_some() {
                End::EndOfInput
            } else {
                End::NoSpeech
            });
        }
        self.state
    }

    /// One frame starting at absolute sample `at` with RMS `db`.
    fn step(&mut self, at: usize, db: f32) -> State {
        let floor = *self.floor_db.get_or_insert(db);
        let threshold = self.cfg.min_speech_dbfs.max(floor + self.cfg.margin_db);
        let speech = db > threshold;
        if speech {
            let start = *self.run_start.get_or_insert(at);
            let end = at + self.frame;
            let onset = self.samples(self.cfg.min_speech).max(1);
            if self.speech_start.is_none() && end - start >= onset {
                self.speech_start = Some(start);
            }
            if self.speech_start.is_some() {
                self.speech_end = end;
            }
        } else {
            self.run_start = None;
            let rise = FLOOR_RISE_DB_PER_S * FRAME_SECONDS;
            self.floor_db = Some(if db < floor { db } else { floor + rise });
        }
        let now = at + self.frame;
        match self.speech_start {
            None if self.secs(now) >= self.cfg.no_speech_timeout => State::Done(End::NoSpeech),
            None => State::Waiting,
            Some(s) if self.secs(now - s) >= self.cfg.max_seconds => {
                self.speech_end = now;
                State::Done(End::MaxLength)
            }
            Some(_) if self.secs(now - self.speech_end) >= self.cfg.silence_timeout => {
                State::Done(End::Silence)
            }
            Some(_) => State::Speaking,
        }
    }

    /// While waiting, keeps only the pre-roll that trimming can still use.
    fn drop_old_silence(&mut self) {
        if self.speech_start.is_some() {
            return;
        }
        let keep = self.samples(self.cfg.pad + self.cfg.min_speech) + 2 * self.frame;
        let keep_from = match self.run_start {
            Some(r) => (r - self.offset).saturating_sub(self.samples(self.cfg.pad)),
            None => self.analysed.saturating_sub(keep),
        };
        if keep_from > self.rate as usize {
            self.buf.drain(..keep_from);
            self.analysed -= keep_from;
            self.offset += keep_from;
        }
    }

    /// The take: from `pad` before the first speech frame to `pad` after the last (empty when
    /// no speech was found).
    pub fn trimmed(&self) -> &[f32] {
        let Some(start) = self.speech_start else {
            return &[];
        };
        let pad = self.samples(self.cfg.pad);
        let from = start.saturating_sub(pad).max(self.offset) - self.offset;
        let to = (self.speech_end + pad - self.offset).min(self.buf.len());
        &self.buf[from..to.max(from)]
    }
}

/// Quality flags of a finished take.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TakeQuality {
    pub levels: Levels,
    pub too_quiet: bool,
    pub clipped: bool,
}

impl TakeQuality {
    pub fn of(samples: &[f32]) -> Self {
        let levels = Levels::of(samples);
        let clipped = samples.iter().filter(|s| s.abs() >= CLIP_LEVEL).count() > CLIPPED_SAMPLES;
        Self {
            levels,
            too_quiet: levels.peak_dbfs < TOO_QUIET_PEAK_DBFS,
            clipped,
        }
    }
}

#[cfg(test)]
#[path = "endpoint_tests.rs"]
mod tests;
