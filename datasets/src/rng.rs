//! A tiny counter-based pseudo-random number generator.
//!
//! Every stream is seeded by hashing `(seed, dataset tag, file index)`, so the random numbers
//! of file `k` never depend on how many numbers other files consumed: files can be generated
//! in any order, in parallel, or one at a time, and always come out identical.

/// The golden-ratio increment of SplitMix64.
pub(crate) const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 output function: a bijective, well-avalanching 64-bit mixer.
#[inline]
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hashes `(seed, stream tag, index)` into a 64-bit key.
#[inline]
pub(crate) fn key(seed: u64, stream: u64, index: u64) -> u64 {
    let base = mix64(seed ^ mix64(stream.wrapping_mul(GOLDEN)));
    mix64(base.wrapping_add(index.wrapping_add(1).wrapping_mul(GOLDEN)))
}

/// Converts 64 random bits into a uniform `f64` in `[0, 1)` (53 bits of precision).
#[inline]
pub(crate) fn unit_f64(bits: u64) -> f64 {
    (bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Stream tags, one per dataset, so that the same seed gives unrelated data in each dataset.
pub(crate) mod stream {
    pub const EVENTS: u64 = 1;
    pub const USERS: u64 = 2;
    pub const JSON: u64 = 3;
    pub const NPY: u64 = 4;
    pub const LETTERS: u64 = 5;
}

/// SplitMix64: a 64-bit counter passed through [`mix64`], plus a cached spare normal deviate.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix64 {
    state: u64,
    spare_normal: Option<f64>,
}

impl SplitMix64 {
    /// A generator for file (or row) `index` of the dataset identified by `stream`.
    pub(crate) fn for_stream(seed: u64, stream: u64, index: u64) -> Self {
        SplitMix64 {
            state: key(seed, stream, index),
            spare_normal: None,
        }
    }

    /// The next 64 random bits.
    #[inline]
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN);
        mix64(self.state)
    }

    /// A uniform `f64` in `[0, 1)`.
    #[inline]
    pub(crate) fn next_f64(&mut self) -> f64 {
        unit_f64(self.next_u64())
    }

    /// A uniform integer in `0..n` (multiply-shift; the bias is below 2^-32 for any `n` used
    /// here). Returns 0 when `n == 0`.
    #[inline]
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A uniform integer in `lo..=hi`.
    #[inline]
    pub(crate) fn range_inclusive(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// `true` with probability `p`.
    #[inline]
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.next_f64() < p
    }

    /// A fair coin.
    #[inline]
    pub(crate) fn coin(&mut self) -> bool {
        self.next_u64() >> 63 == 1
    }

    /// A normal deviate with the given mean and standard deviation (Box–Muller; the second
    /// deviate of each pair is cached for the next call).
    #[inline]
    pub(crate) fn normal(&mut self, mean: f64, sd: f64) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return mean + sd * z;
        }
        // 1 - u lies in (0, 1], so the logarithm is finite.
        let u1 = 1.0 - self.next_f64();
        let u2 = self.next_f64();
        let r = (-2.0 * u1.ln()).sqrt();
        let theta = std::f64::consts::TAU * u2;
        self.spare_normal = Some(r * theta.sin());
        mean + sd * r * theta.cos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = {
            let mut r = SplitMix64::for_stream(42, stream::EVENTS, 3);
            (0..8).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = SplitMix64::for_stream(42, stream::EVENTS, 3);
            (0..8).map(|_| r.next_u64()).collect()
        };
        let c: Vec<u64> = {
            let mut r = SplitMix64::for_stream(42, stream::EVENTS, 4);
            (0..8).map(|_| r.next_u64()).collect()
        };
        let d: Vec<u64> = {
            let mut r = SplitMix64::for_stream(42, stream::JSON, 3);
            (0..8).map(|_| r.next_u64()).collect()
        };
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }

    #[test]
    fn uniform_and_normal_moments() {
        let mut r = SplitMix64::for_stream(7, 99, 0);
        let n = 200_000;
        let mut sum = 0.0;
        let mut counts = [0u32; 10];
        for _ in 0..n {
            let x = r.next_f64();
            assert!((0.0..1.0).contains(&x));
            sum += x;
            counts[r.below(10) as usize] += 1;
        }
        assert!((sum / n as f64 - 0.5).abs() < 0.01);
        for c in counts {
            assert!(
                (c as f64 - n as f64 / 10.0).abs() < n as f64 * 0.01,
                "{counts:?}"
            );
        }
        let (mut s, mut s2) = (0.0, 0.0);
        for _ in 0..n {
            let x = r.normal(100.0, 25.0);
            s += x;
            s2 += x * x;
        }
        let mean = s / n as f64;
        let sd = (s2 / n as f64 - mean * mean).sqrt();
        assert!((mean - 100.0).abs() < 0.5, "mean {mean}");
        assert!((sd - 25.0).abs() < 0.5, "sd {sd}");
    }

    #[test]
    fn range_inclusive_hits_both_ends() {
        let mut r = SplitMix64::for_stream(1, 2, 3);
        let mut seen = [false; 5];
        for _ in 0..1000 {
            let v = r.range_inclusive(10, 14);
            assert!((10..=14).contains(&v));
            seen[(v - 10) as usize] = true;
        }
        assert!(seen.iter().all(|&s| s));
    }
}
