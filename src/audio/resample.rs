//! Whole-buffer, time-aligned sample-rate conversion of mono audio with
//! rubato's synchronous FFT resampler.

use std::path::Path;

use rubato::{Fft, FixedSync, Indexing, Resampler};

use super::error::{AudioError, IN_MEMORY};
use audioadapter_buffers::direct::InterleavedSlice;

/// Nominal chunk length handed to rubato; it rounds this to fit the ratio.
const CHUNK_FRAMES: usize = 1024;

/// Resamples mono `samples` from `from_hz` to `to_hz`.
///
/// Uses rubato's FFT resampler (band-limited, high quality). The whole buffer
/// is processed including the tail (the resampler is flushed with silence),
/// and the resampler's group delay is trimmed off, so the output is
/// time-aligned with the input and has exactly
/// `round(samples.len() * to_hz / from_hz)` samples.
/// Returns a copy of the input when the rates are equal.
pub fn resample(samples: &[f32], from_hz: u32, to_hz: u32) -> Result<Vec<f32>, AudioError> {
    resample_named(samples, from_hz, to_hz, Path::new(IN_MEMORY))
}

/// [`resample`], with errors naming `path`.
pub(crate) fn resample_named(
    samples: &[f32],
    from_hz: u32,
    to_hz: u32,
    path: &Path,
) -> Result<Vec<f32>, AudioError> {
    let fail = |detail: String| AudioError::Resample {
        path: path.to_path_buf(),
        from_hz,
        to_hz,
        detail,
    };
    if from_hz == 0 || to_hz == 0 {
        return Err(fail("sample rate must be positive".into()));
    }
    if from_hz == to_hz {
        return Ok(samples.to_vec());
    }
    if samples.is_empty() {
        return Ok(Vec::new());
    }

    let n = samples.len();
    let expected = expected_len(n, from_hz, to_hz);
    let mut resampler = Fft::<f32>::new(
        from_hz as usize,
        to_hz as usize,
        chunk_frames(from_hz, to_hz),
        1,
        1,
        FixedSync::Both,
    )
    .map_err(|e| fail(e.to_string()))?;

    let delay = resampler.output_delay();
    let wanted = delay + expected;
    let input = InterleavedSlice::new(samples, 1, n).map_err(|e| fail(e.to_string()))?;
    let mut out = vec![0.0; wanted + resampler.output_frames_max()];
    let out_frames = out.len();
    let mut output =
        InterleavedSlice::new_mut(&mut out, 1, out_frames).map_err(|e| fail(e.to_string()))?;
    let mut indexing = Indexing {
        input_offset: 0,
        output_offset: 0,
        partial_len: None,
        active_channels_mask: None,
    };
    while indexing.output_offset < wanted {
        let remaining = n - indexing.input_offset;
        // Past the end the resampler is fed silence to flush its tail.
        indexing.partial_len = (remaining < resampler.input_frames_next()).then_some(remaining);
        let (used_in, made_out) = resampler
            .process_into_buffer(&input, &mut output, Some(&indexing))
            .map_err(|e| fail(e.to_string()))?;
        indexing.input_offset += used_in.min(remaining);
        indexing.output_offset += made_out;
        if made_out == 0 {
            return Err(fail("resampler produced no output".into()));
        }
    }
    let _ = output; // release the mutable borrow of `out`
    out.truncate(wanted);
    out.drain(..delay);
    tracing::trace!(
        from_hz,
        to_hz,
        input = n,
        output = out.len(),
        delay,
        "resampled"
    );
    Ok(out)
}

/// A chunk length near [`CHUNK_FRAMES`] that rubato will use unchanged and
/// whose FFT sizes are both even. With an odd input FFT size the true delay
/// is half an input sample off the integer `output_delay()` rubato reports,
/// which would leave the output misaligned after trimming.
fn chunk_frames(from_hz: u32, to_hz: u32) -> usize {
    let min_in = (from_hz / gcd(from_hz, to_hz)) as usize;
    let units = CHUNK_FRAMES.div_ceil(min_in);
    (units + units % 2) * min_in
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// `round(n * to / from)` without overflow.
fn expected_len(n: usize, from_hz: u32, to_hz: u32) -> usize {
    let (n, from, to) = (n as u128, u128::from(from_hz), u128::from(to_hz));
    ((n * to + from / 2) / from) as usize
}
