//! The sound-card side of recording and playback (cpal): finding devices by name, opening an input
//! stream at the device's native rate and format whose callback only mixes to mono and pushes
//! into a lock-free ring, listing devices, and keeping the C audio libraries' stderr chatter off
//! the terminal. With no sound card every path returns a "no input device" error, never panics.

use std::fs::OpenOptions;
use std::os::fd::OwnedFd;
use std::path::Path;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{Device, FromSample, Sample, SampleFormat, SizedSample};

use super::AudioError;
use super::ring::{Consumer, Producer, ring};

/// Seconds of audio the capture ring holds before the recorder must have read it.
const RING_SECONDS: u32 = 5;

/// Why a device could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("no input device: {detail}")]
    NoInputDevice { detail: String },
    #[error("no output device: {detail}")]
    NoOutputDevice { detail: String },
    #[error("no {what} device matches {name:?} (see `attune devices`)")]
    NoSuchDevice { name: String, what: &'static str },
    #[error("{device}: {detail}")]
    Device { device: String, detail: String },
    #[error(transparent)]
    Audio(#[from] AudioError),
}

/// Input or output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Input,
    Output,
}

impl Direction {
    fn word(self) -> &'static str {
        match self {
            Direction::Input => "input",
            Direction::Output => "output",
        }
    }
    fn supported(self, d: &Device) -> bool {
        match self {
            Direction::Input => d.supports_input(),
            Direction::Output => d.supports_output(),
        }
    }
    fn none(self, detail: String) -> CaptureError {
        match self {
            Direction::Input => CaptureError::NoInputDevice { detail },
            Direction::Output => CaptureError::NoOutputDevice { detail },
        }
    }
}

/// One audio device as `attune devices` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeviceInfo {
    pub host: String,
    /// Stable id within the host (what `--device` matches first).
    pub id: String,
    pub name: String,
    pub input: bool,
    pub output: bool,
    pub default_input: bool,
    pub default_output: bool,
    /// Native input format, e.g. `48000 Hz, 2 ch, f32`.
    pub input_format: Option<String>,
}

/// A device's id within its host (`vsink.monitor`, `default`, `hw:CARD=…`).
pub fn device_id(d: &Device) -> String {
    d.id()
        .map_or_else(|_| String::new(), |id| id.id().to_string())
}

/// A device's display name.
pub fn device_name(d: &Device) -> String {
    d.description()
        .map_or_else(|_| device_id(d), |desc| desc.name().to_string())
}

fn hosts() -> Vec<cpal::Host> {
    cpal::available_hosts()
        .into_iter()
        .filter_map(|id| cpal::host_from_id(id).ok())
        .collect()
}

/// Every device of every available host, plus one line per host that could not be listed.
pub fn list_devices() -> (Vec<DeviceInfo>, Vec<String>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for host in hosts() {
        let hname = host.id().name().to_string();
        let def_in = host.default_input_device().map(|d| device_id(&d));
        let def_out = host.default_output_device().map(|d| device_id(&d));
        let devices = match host.devices() {
            Ok(d) => d,
            Err(e) => {
                problems.push(format!("{hname}: {e}"));
                continue;
            }
        };
        for d in devices {
            let id = device_id(&d);
            let input_format = d.default_input_config().ok().map(|c| {
                format!(
                    "{} Hz, {} ch, {}",
                    c.sample_rate(),
                    c.channels(),
                    c.sample_format()
                )
            });
            out.push(DeviceInfo {
                host: hname.clone(),
                name: device_name(&d),
                input: Direction::Input.supported(&d),
                output: Direction::Output.supported(&d),
                default_input: def_in.as_deref() == Some(id.as_str()),
                default_output: def_out.as_deref() == Some(id.as_str()),
                input_format,
                id,
            });
        }
    }
    (out, problems)
}

/// Finds a device: `name` matches a device id exactly, then a display name exactly, then either
/// case-insensitively as a substring; `None` is the default host's default device.
pub fn find_device(name: Option<&str>, dir: Direction) -> Result<Device, CaptureError> {
    let Some(name) = name else {
        let host = cpal::default_host();
        let found = match dir {
            Direction::Input => host.default_input_device(),
            Direction::Output => host.default_output_device(),
        };
        return found.ok_or_else(|| {
            dir.none(format!(
                "the {} audio host has no default {} device (is a sound card or sound server present?)",
                host.id().name(),
                dir.word()
            ))
        });
    };
    let candidates: Vec<Device> = hosts()
        .iter()
        .filter_map(|h| h.devices().ok())
        .flatten()
        .filter(|d| dir.supported(d))
        .collect();
    let lower = name.to_lowercase();
    let tests: [&dyn Fn(&Device) -> bool; 3] = [
        &|d| device_id(d) == name,
        &|d| device_name(d) == name,
        &|d| {
            device_id(d).to_lowercase().contains(&lower)
                || device_name(d).to_lowercase().contains(&lower)
        },
    ];
    for test in tests {
        if let Some(d) = candidates.iter().find(|d| test(d)) {
            return Ok(d.clone());
        }
    }
    Err(CaptureError::NoSuchDevice {
        name: name.to_string(),
        what: dir.word(),
    })
}

/// Mixes interleaved frames to mono `f32` and pushes them: all the audio callback does (no
/// allocation, no lock). The file-backed source uses it too, so tests run the same path.
pub fn push_interleaved<T: Sample>(producer: &Producer, data: &[T], channels: usize)
where
    f32: FromSample<T>,
{
    let ch = channels.max(1);
    let inv = 1.0 / ch as f32;
    producer.push(
        data.chunks_exact(ch)
            .map(|frame| frame.iter().map(|s| s.to_sample::<f32>()).sum::<f32>() * inv),
    );
}

/// A running input stream; dropping it stops capture.
pub struct LiveInput {
    pub stream: cpal::Stream,
    pub consumer: Consumer,
    pub rate: u32,
    pub name: String,
}

/// Opens an input device at its native rate and format and starts capturing into a ring.
pub fn open_input(name: Option<&str>) -> Result<LiveInput, CaptureError> {
    let device = find_device(name, Direction::Input)?;
    let label = format!("{} ({})", device_name(&device), device_id(&device));
    let fail = |e: cpal::Error| CaptureError::NoInputDevice {
        detail: format!("{label}: {e}"),
    };
    let config = device.default_input_config().map_err(fail)?;
    let rate = config.sample_rate();
    let (producer, consumer) = ring((rate * RING_SECONDS) as usize);
    let stream = match config.sample_format() {
        SampleFormat::F32 => build::<f32>(&device, &config, producer),
        SampleFormat::I16 => build::<i16>(&device, &config, producer),
        SampleFormat::I32 => build::<i32>(&device, &config, producer),
        SampleFormat::I24 => build::<cpal::I24>(&device, &config, producer),
        SampleFormat::U8 => build::<u8>(&device, &config, producer),
        SampleFormat::U16 => build::<u16>(&device, &config, producer),
        SampleFormat::F64 => build::<f64>(&device, &config, producer),
        other => {
            return Err(CaptureError::Device {
                device: label,
                detail: format!("sample format {other} is not supported"),
            });
        }
    }
    .map_err(fail)?;
    stream.play().map_err(fail)?;
    Ok(LiveInput {
        stream,
        consumer,
        rate,
        name: label,
    })
}

fn build<T: SizedSample + Send + 'static>(
    device: &Device,
    config: &cpal::SupportedStreamConfig,
    producer: Producer,
) -> Result<cpal::Stream, cpal::Error>
where
    f32: FromSample<T>,
{
    let channels = usize::from(config.channels());
    let closer = producer.closer();
    device.build_input_stream::<T, _, _>(
        config.config(),
        move |data: &[T], _| push_interleaved(&producer, data, channels),
        move |e: cpal::Error| {
            use cpal::ErrorKind::{DeviceChanged, RealtimeDenied, Xrun};
            if !matches!(e.kind(), Xrun | DeviceChanged | RealtimeDenied) {
                tracing::warn!("input stream failed: {e}");
                closer.close();
            }
        },
        None,
    )
}

/// While alive, file descriptor 2 points at a log file (so that ALSA/JACK messages printed by C
/// libraries do not garble a full-screen terminal UI); dropping it restores the old stderr.
pub struct StderrRedirect {
    saved: OwnedFd,
}

/// Sends everything written to stderr (by Rust or C code) to `log` (appended, mode 0600).
pub fn redirect_stderr(log: &Path) -> std::io::Result<StderrRedirect> {
    if let Some(dir) = log.parent() {
        crate::util::atomic::create_private_dir_all(dir)?;
    }
    let mut opts = OpenOptions::new();
    opts.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, crate::util::atomic::PRIVATE_FILE_MODE);
    let file = opts.open(log)?;
    let saved = rustix::io::dup(std::io::stderr())?;
    rustix::stdio::dup2_stderr(&file)?;
    Ok(StderrRedirect { saved })
}

impl Drop for StderrRedirect {
    fn drop(&mut self) {
        let _ = rustix::stdio::dup2_stderr(&self.saved);
    }
}
