//! Endpointing on synthetic signals with known boundaries.

use super::*;

const RATE: u32 = 16_000;

fn tone(secs: f32, amp: f32) -> Vec<f32> {
    (0..(secs * RATE as f32) as usize)
        .map(|i| amp * (i as f32 * 440.0 * std::f32::consts::TAU / RATE as f32).sin())
        .collect()
}

fn noise(secs: f32, amp: f32, seed: u32) -> Vec<f32> {
    let mut x = seed;
    (0..(secs * RATE as f32) as usize)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            amp * ((x >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0)
        })
        .collect()
}

fn run(signal: &[f32], chunk: usize, cfg: EndpointConfig) -> (Endpointer, usize) {
    let mut ep = Endpointer::new(cfg, RATE);
    let mut fed = 0;
    for c in signal.chunks(chunk) {
        fed += c.len();
        if let State::Done(_) = ep.push(c) {
            break;
        }
    }
    (ep, fed)
}

#[test]
fn trailing_silence_ends_the_take_and_trimming_keeps_padding() {
    let mut s = vec![0.0; RATE as usize];
    s.extend(tone(1.0, 0.25));
    s.extend(vec![0.0; 3 * RATE as usize]);
    for chunk in [1, 160, 333, 4800] {
        let (ep, fed) = run(&s, chunk, EndpointConfig::default());
        assert_eq!(ep.state(), State::Done(End::Silence), "chunk {chunk}");
        let stopped = fed as f32 / RATE as f32;
        let latest = 3.5 + chunk as f32 / RATE as f32 + 0.02;
        assert!((3.48..latest).contains(&stopped), "stopped at {stopped} s");
        let take = ep.trimmed().len() as f32 / RATE as f32;
        assert!(
            (take - 1.5).abs() < 0.03,
            "take {take} s with chunk {chunk}"
        );
    }
}

#[test]
fn the_silence_timeout_is_adjustable() {
    let mut s = vec![0.0; RATE as usize / 2];
    s.extend(tone(0.5, 0.25));
    s.extend(vec![0.0; RATE as usize]);
    s.extend(tone(0.5, 0.25));
    s.extend(vec![0.0; 4 * RATE as usize]);
    let short = EndpointConfig {
        silence_timeout: 0.6,
        ..Default::default()
    };
    let (ep, _) = run(&s, 160, short);
    assert!((ep.trimmed().len() as f32 / RATE as f32 - 1.0).abs() < 0.03);
    let (ep, _) = run(&s, 160, EndpointConfig::default());
    assert!((ep.trimmed().len() as f32 / RATE as f32 - 2.5).abs() < 0.03);
}

#[test]
fn speech_over_background_noise_is_found() {
    let mut s = noise(2.0, 0.01, 1);
    let speech: Vec<f32> = tone(1.0, 0.3)
        .iter()
        .zip(noise(1.0, 0.01, 2))
        .map(|(a, b)| a + b)
        .collect();
    s.extend(speech);
    s.extend(noise(2.0, 0.01, 3));
    let (ep, _) = run(&s, 512, EndpointConfig::default());
    assert_eq!(ep.state(), State::Done(End::Silence));
    let take = ep.trimmed().len() as f32 / RATE as f32;
    assert!((take - 1.5).abs() < 0.05, "take {take}");
}

#[test]
fn clicks_are_not_speech_and_silence_times_out() {
    let mut s = vec![0.0; RATE as usize];
    s.extend(tone(0.02, 0.9));
    s.extend(vec![0.0; 11 * RATE as usize]);
    let (ep, fed) = run(&s, 160, EndpointConfig::default());
    assert_eq!(ep.state(), State::Done(End::NoSpeech));
    assert!(ep.trimmed().is_empty());
    assert!((fed as f32 / RATE as f32 - 10.0).abs() < 0.05);
}

#[test]
fn long_speech_is_cut_at_the_maximum() {
    let mut s = vec![0.0; RATE as usize / 2];
    s.extend(tone(5.0, 0.25));
    let cfg = EndpointConfig {
        max_seconds: 2.0,
        ..Default::default()
    };
    let (ep, _) = run(&s, 1000, cfg);
    assert_eq!(ep.state(), State::Done(End::MaxLength));
    assert!(ep.trimmed().len() as f32 / RATE as f32 <= 2.3);
}

#[test]
fn end_of_input_keeps_what_was_said() {
    let mut ep = Endpointer::new(EndpointConfig::default(), RATE);
    ep.push(&[0.0; 8000]);
    ep.push(&tone(0.8, 0.25));
    assert_eq!(ep.finish(), State::Done(End::EndOfInput));
    assert!((ep.trimmed().len() as f32 / RATE as f32 - 1.05).abs() < 0.03);
}

#[test]
fn quality_flags() {
    assert!(TakeQuality::of(&tone(0.5, 0.01)).too_quiet);
    let loud = TakeQuality::of(
        &tone(0.5, 1.5)
            .iter()
            .map(|s| s.clamp(-1.0, 1.0))
            .collect::<Vec<_>>(),
    );
    assert!(loud.clipped && !loud.too_quiet);
    let ok = TakeQuality::of(&tone(0.5, 0.3));
    assert!(!ok.clipped && !ok.too_quiet);
    assert!((ok.levels.peak_dbfs - dbfs(0.3)).abs() < 0.1);
}
