//! The key-seeded watermark tile: which DFT coefficients of the 128x128 tile
//! carry the pilot (a payload-independent pattern used for synchronisation)
//! and which carry each coded payload bit, their pseudo-random phases, and
//! the synthesis of the spatial tile from the coded chips.
//!
//! All coefficients lie in a mid-frequency annulus (5 to 28 cycles per tile,
//! i.e. 0.04 to 0.22 cycles per pixel at the working resolution): low enough
//! to survive JPEG q50, blur and 50% downscaling, high enough to stay away
//! from the image's strongest content.

use rustfft::num_complex::Complex32;

use super::coding::CODED_BITS;
use super::fft2::Fft2;
use super::prng::Prng;

/// Tile side at the working resolution, in pixels.
pub const TILE: usize = 128;
/// Inner radius of the coefficient annulus, in cycles per tile.
pub const R_LO: f32 = 5.0;
/// Outer radius of the annulus.
pub const R_HI: f32 = 28.0;
/// DFT coefficients per coded bit.
pub const COEFS_PER_CHIP: usize = 3;
const LAYOUT_DOMAIN: u64 = 0x4C41_594F_5554_0001;

/// Every coefficient of the annulus in the half plane (`ky > 0`, or
/// `ky == 0` and `kx > 0`), in raster order: the layout shuffles these, and
/// the comb matcher ([`super::template`]) looks for their energy.
pub fn annulus() -> Vec<(i32, i32)> {
    let mut all = Vec::new();
    let half = (TILE / 2) as i32;
    for ky in 0..half {
        for kx in -half + 1..half {
            if ky == 0 && kx <= 0 {
                continue;
            }
            let r = ((kx * kx + ky * ky) as f32).sqrt();
            if (R_LO..=R_HI).contains(&r) {
                all.push((kx, ky));
            }
        }
    }
    all
}

/// One tile DFT coefficient (and, implicitly, its Hermitian mirror).
#[derive(Debug, Clone, Copy)]
pub struct Coef {
    /// Horizontal frequency, cycles per tile (signed).
    pub kx: i32,
    /// Vertical frequency, cycles per tile (signed).
    pub ky: i32,
    /// Its key-seeded phase, as a unit complex number.
    pub rot: Complex32,
}

impl Coef {
    /// Index of the coefficient in a row-major TILE x TILE spectrum.
    pub fn index(&self) -> usize {
        spectrum_index(self.kx, self.ky)
    }

    /// Index of its Hermitian mirror.
    pub fn mirror_index(&self) -> usize {
        spectrum_index(-self.kx, -self.ky)
    }
}

fn spectrum_index(kx: i32, ky: i32) -> usize {
    let n = TILE as i32;
    (ky.rem_euclid(n) * n + kx.rem_euclid(n)) as usize
}

/// The key's coefficient layout.
pub struct Layout {
    /// Pilot coefficients (payload independent).
    pub pilot: Vec<Coef>,
    /// Payload coefficients: coded bit `j` uses `payload[j*COEFS_PER_CHIP..][..COEFS_PER_CHIP]`.
    pub payload: Vec<Coef>,
    /// The pilot's full (Hermitian) spectrum, for cross-correlation.
    pub pilot_spectrum: Vec<Complex32>,
}

impl Layout {
    /// The layout for `key`.
    pub fn new(key: u64) -> Self {
        let mut all = annulus();
        let mut rng = Prng::new(key, LAYOUT_DOMAIN);
        rng.shuffle(&mut all);
        let coefs: Vec<Coef> = all
            .into_iter()
            .map(|(kx, ky)| {
                let ph = (rng.next_f64() * std::f64::consts::TAU) as f32;
                Coef {
                    kx,
                    ky,
                    rot: Complex32::new(ph.cos(), ph.sin()),
                }
            })
            .collect();
        let n_pay = (CODED_BITS * COEFS_PER_CHIP).min(coefs.len());
        let payload = coefs[..n_pay].to_vec();
        let pilot = coefs[n_pay..].to_vec();
        let mut pilot_spectrum = vec![Complex32::new(0.0, 0.0); TILE * TILE];
        for c in &pilot {
            pilot_spectrum[c.index()] = c.rot;
            pilot_spectrum[c.mirror_index()] = c.rot.conj();
        }
        Layout {
            pilot,
            payload,
            pilot_spectrum,
        }
    }

    /// The spatial tile (TILE x TILE, row-major, unit RMS) carrying `chips`
    /// (+-1, [`CODED_BITS`] of them) plus the pilot.
    pub fn tile(&self, chips: &[f32]) -> Vec<f32> {
        let mut spec = self.pilot_spectrum.clone();
        for (i, c) in self.payload.iter().enumerate() {
            let chip = chips.get(i / COEFS_PER_CHIP).copied().unwrap_or(0.0);
            spec[c.index()] = c.rot * chip;
            spec[c.mirror_index()] = c.rot.conj() * chip;
        }
        Fft2::new(TILE, TILE).inverse(&mut spec);
        let mut t: Vec<f32> = spec.iter().map(|c| c.re).collect();
        let rms = (t.iter().map(|v| v * v).sum::<f32>() / t.len() as f32).sqrt();
        if rms > 0.0 {
            t.iter_mut().for_each(|v| *v /= rms);
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_has_room_for_the_code_and_a_pilot() {
        let l = Layout::new(1);
        assert_eq!(l.payload.len(), CODED_BITS * COEFS_PER_CHIP);
        assert!(l.pilot.len() > 250, "{}", l.pilot.len());
        let t = l.tile(&vec![1.0; CODED_BITS]);
        let rms = (t.iter().map(|v| v * v).sum::<f32>() / t.len() as f32).sqrt();
        assert!((rms - 1.0).abs() < 1e-3);
    }
}
