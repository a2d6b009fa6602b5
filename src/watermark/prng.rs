//! Key-seeded pseudo-random numbers (SplitMix64) for the watermark layout,
//! the payload scrambler and the noise attack. Deterministic on every
//! platform: the same key always gives the same pattern.

/// A SplitMix64 generator.
#[derive(Debug, Clone)]
pub struct Prng(u64);

impl Prng {
    /// A generator for `key`, separated by `domain` so that different uses of
    /// one key draw independent sequences.
    pub fn new(key: u64, domain: u64) -> Self {
        let mut p = Prng(key ^ domain.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        p.next_u64();
        p
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform integer in [0, n) for n < 2^32.
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }

    /// Standard normal deviate (Box-Muller).
    pub fn gaussian(&mut self) -> f64 {
        let u1 = self.next_f64().max(1e-300);
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Fisher-Yates shuffle.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_domain_separated() {
        let a: Vec<u64> = (0..4)
            .map({
                let mut p = Prng::new(7, 1);
                move |_| p.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..4)
            .map({
                let mut p = Prng::new(7, 1);
                move |_| p.next_u64()
            })
            .collect();
        let c = Prng::new(7, 2).next_u64();
        assert_eq!(a, b);
        assert_ne!(a[0], c);
    }
}
