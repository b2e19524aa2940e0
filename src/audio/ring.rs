//! A bounded single-producer / single-consumer ring of `f32` samples built from atomics only
//! (no locks, no allocation after creation, no `unsafe`): the audio callback pushes, the
//! recording thread pops.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

struct Shared {
    slots: Box<[AtomicU32]>,
    /// Samples ever written / read; `written - read` are pending.
    written: AtomicU64,
    read: AtomicU64,
    dropped: AtomicU64,
    closed: AtomicBool,
}

/// The writing end (audio callback or file feeder).
pub struct Producer(Arc<Shared>);

/// The reading end (recording thread).
#[derive(Clone)]
pub struct Consumer(Arc<Shared>);

/// A ring holding up to `capacity` samples.
pub fn ring(capacity: usize) -> (Producer, Consumer) {
    let shared = Arc::new(Shared {
        slots: (0..capacity.max(1)).map(|_| AtomicU32::new(0)).collect(),
        written: AtomicU64::new(0),
        read: AtomicU64::new(0),
        dropped: AtomicU64::new(0),
        closed: AtomicBool::new(false),
    });
    (Producer(shared.clone()), Consumer(shared))
}

impl Producer {
    /// Room left, in samples.
    pub fn free(&self) -> usize {
        let s = &self.0;
        let pending = s.written.load(Ordering::Relaxed) - s.read.load(Ordering::Acquire);
        s.slots.len() - pending as usize
    }

    /// Appends `samples`; what does not fit is dropped (and counted), never waited for.
    pub fn push(&self, samples: impl IntoIterator<Item = f32>) {
        let s = &self.0;
        let mut w = s.written.load(Ordering::Relaxed);
        let mut room = self.free();
        let cap = s.slots.len() as u64;
        for x in samples {
            if room == 0 {
                s.dropped.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            s.slots[(w % cap) as usize].store(x.to_bits(), Ordering::Relaxed);
            w += 1;
            room -= 1;
        }
        s.written.store(w, Ordering::Release);
    }

    /// Marks the end of the input (file finished, stream failed).
    pub fn close(&self) {
        self.0.closed.store(true, Ordering::Release);
    }

    /// A handle that can only end the input (for a stream's error callback).
    pub fn closer(&self) -> Closer {
        Closer(self.0.clone())
    }
}

/// Ends the input from elsewhere than the producer.
pub struct Closer(Arc<Shared>);

impl Closer {
    pub fn close(&self) {
        self.0.closed.store(true, Ordering::Release);
    }
}

impl Drop for Producer {
    fn drop(&mut self) {
        self.close();
    }
}

impl Consumer {
    /// Moves every pending sample to the end of `out`; returns how many.
    pub fn pop_into(&self, out: &mut Vec<f32>) -> usize {
        let s = &self.0;
        let w = s.written.load(Ordering::Acquire);
        let r = s.read.load(Ordering::Relaxed);
        let cap = s.slots.len() as u64;
        out.extend(
            (r..w).map(|i| f32::from_bits(s.slots[(i % cap) as usize].load(Ordering::Relaxed))),
        );
        s.read.store(w, Ordering::Release);
        (w - r) as usize
    }

    /// Throws away what is pending (audio captured while no take was running).
    pub fn discard(&self) {
        let s = &self.0;
        s.read
            .store(s.written.load(Ordering::Acquire), Ordering::Release);
    }

    /// True once the producer closed and everything was read.
    pub fn finished(&self) -> bool {
        let s = &self.0;
        s.closed.load(Ordering::Acquire)
            && s.read.load(Ordering::Relaxed) == s.written.load(Ordering::Acquire)
    }

    /// Samples dropped because the reader fell behind.
    pub fn dropped(&self) -> u64 {
        self.0.dropped.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::ring;

    #[test]
    fn wraps_around_and_drops_overflow() {
        let (p, c) = ring(4);
        let mut out = Vec::new();
        p.push([1.0, 2.0, 3.0]);
        c.pop_into(&mut out);
        p.push([4.0, 5.0, 6.0, 7.0, 8.0]);
        c.pop_into(&mut out);
        assert_eq!(out, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
        assert_eq!(c.dropped(), 1);
        assert!(!c.finished());
        drop(p);
        assert!(c.finished());
    }

    #[test]
    fn threads_see_every_sample_in_order() {
        let (p, c) = ring(64);
        let t = std::thread::spawn(move || {
            let mut i = 0u32;
            while i < 10_000 {
                let n = p.free().min(7).min(10_000 - i as usize);
                p.push((i..i + n as u32).map(|x| x as f32));
                i += n as u32;
            }
        });
        let mut out = Vec::new();
        while !c.finished() {
            c.pop_into(&mut out);
        }
        t.join().unwrap();
        assert_eq!(out.len(), 10_000);
        assert!(out.iter().enumerate().all(|(i, &x)| x == i as f32));
        assert_eq!(c.dropped(), 0);
    }
}
