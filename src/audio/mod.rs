//! Audio input/output for speaker recordings: decoding arbitrary WAV files to
//! the crate's canonical 16 kHz mono `f32` format, resampling, silence
//! detection, and private atomic WAV writing; recording: devices (`capture`), the
//! capture ring (`ring`), levels and endpointing (`endpoint`), takes (`recorder`) and
//! listen-back (`playback`).

pub mod capture;
pub mod endpoint;
mod error;
pub mod playback;
pub mod recorder;
pub mod resample;
pub mod ring;
pub mod wav;

#[cfg(test)]
mod tests;

pub use error::{AudioError, IN_MEMORY};
pub use resample::resample;
pub use wav::{
    SAMPLE_RATE, SILENCE_PEAK_DBFS, SILENCE_RMS_DBFS, decode_wav_bytes, is_silent, read_wav,
    write_wav_16k,
};
