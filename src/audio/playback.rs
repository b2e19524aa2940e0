//! Listen-back: plays a 16 kHz mono take through an output device at its native rate and format,
//! and returns once it has been heard (or the device failed).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cpal::traits::{DeviceTrait, StreamTrait};
use cpal::{FromSample, SampleFormat, SizedSample};

use super::capture::{CaptureError, Direction, device_id, device_name, find_device};
use super::{SAMPLE_RATE, resample};

/// Plays `samples` (16 kHz mono) on the output device `name` (`None`: the default one).
pub fn play(samples: &[f32], name: Option<&str>) -> Result<(), CaptureError> {
    let device = find_device(name, Direction::Output)?;
    let label = format!("{} ({})", device_name(&device), device_id(&device));
    let fail = |e: cpal::Error| CaptureError::NoOutputDevice {
        detail: format!("{label}: {e}"),
    };
    let config = device.default_output_config().map_err(fail)?;
    let audio: Arc<[f32]> = resample(samples, SAMPLE_RATE, config.sample_rate())?.into();
    let done = Arc::new(AtomicBool::new(false));
    let stream = match config.sample_format() {
        SampleFormat::F32 => build::<f32>(&device, &config, audio.clone(), done.clone()),
        SampleFormat::I16 => build::<i16>(&device, &config, audio.clone(), done.clone()),
        SampleFormat::I32 => build::<i32>(&device, &config, audio.clone(), done.clone()),
        SampleFormat::U8 => build::<u8>(&device, &config, audio.clone(), done.clone()),
        SampleFormat::U16 => build::<u16>(&device, &config, audio.clone(), done.clone()),
        other => {
            return Err(CaptureError::Device {
                device: label,
                detail: format!("sample format {other} is not supported"),
            });
        }
    }
    .map_err(fail)?;
    let started = Instant::now();
    stream.play().map_err(fail)?;
    // The callback may hand everything to a deep server buffer long before it is heard: wait
    // for the audio's own duration and the stream's latency too.
    let rate = f64::from(config.sample_rate());
    let seconds = audio.len() as f64 / rate;
    let latency = stream
        .buffer_size()
        .map_or(0.2, |frames| f64::from(frames) / rate);
    let heard = Duration::from_secs_f64(seconds + latency.min(2.0) + 0.1);
    let deadline = Duration::from_secs_f64(seconds + 4.0);
    while started.elapsed() < deadline
        && !(done.load(Ordering::Acquire) && started.elapsed() >= heard)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

fn build<T: SizedSample + FromSample<f32> + Send + 'static>(
    device: &cpal::Device,
    config: &cpal::SupportedStreamConfig,
    audio: Arc<[f32]>,
    done: Arc<AtomicBool>,
) -> Result<cpal::Stream, cpal::Error> {
    let channels = usize::from(config.channels()).max(1);
    let pos = AtomicUsize::new(0);
    let failed = done.clone();
    device.build_output_stream::<T, _, _>(
        config.config(),
        move |out: &mut [T], _| {
            let mut p = pos.load(Ordering::Relaxed);
            for frame in out.chunks_mut(channels) {
                let s = audio.get(p).copied().unwrap_or(0.0);
                frame.fill(T::from_sample(s));
                p += 1;
            }
            pos.store(p, Ordering::Relaxed);
            if p >= audio.len() {
                done.store(true, Ordering::Release);
            }
        },
        move |e| {
            tracing::warn!("output stream failed: {e}");
            failed.store(true, Ordering::Release);
        },
        None,
    )
}
