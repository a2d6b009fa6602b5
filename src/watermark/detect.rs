//! Detection: fold the whitened working-resolution luma for each candidate
//! lattice, find the tile orientation and cyclic offset by a phase-only
//! FFT cross-correlation with the pilot, read the soft payload chips at that
//! offset, decode them, and turn the pilot peak and the CRC into a p-value.

use image::DynamicImage;
use rustfft::num_complex::Complex32;

use super::coding::{self, CODED_BITS};
use super::fft2::Fft2;
use super::fold::fold;
use super::pattern::{Coef, Layout, COEFS_PER_CHIP, R_HI, R_LO, TILE};
use super::plane::{luma_downsampled, whiten};
use super::screen;
use super::stats::max_of_normals_sf;
use super::sync::{self, Lattice};
use super::{working_size, DetectOptions, Detection};
use crate::error::Result;

/// Candidate lattices from the autocorrelation and from the comb matcher,
/// tried after the identity.
const AUTOCORR_CANDIDATES: usize = 5;
/// Above this working area (24 tiles) only the best two autocorrelation
/// lattices are folded (each fold is a pass over the whole plane, and
/// unmarked images try them all); the comb matcher finds the rest.
const AUTOCORR_FULL_AREA: usize = 24 * TILE * TILE;
const AUTOCORR_LARGE: usize = 2;
const COMB_CANDIDATES: usize = 4;
/// Smallest image side examined at all.
const MIN_DETECT_SIDE: usize = 64;

/// Orientations of the folded tile tried against the pilot: the four
/// quarter turns, then the same after a horizontal mirror (the dihedral
/// group of the square tile). A mirrored image, or a lattice whose vectors
/// came out in the opposite handedness, folds into a mirrored tile.
const ORIENTATIONS: usize = 8;

/// The outcome of correlating one folded tile with the pilot.
struct Sync {
    z: f64,
    peak: f64,
    /// Index into the [`ORIENTATIONS`]: quarter turns `o % 4`, mirrored
    /// when `o >= 4`.
    orientation: usize,
    offset: [f64; 2],
    soft: Vec<f32>,
}

/// The best orientation so far: z, peak, quarter turns, peak index,
/// normalised spectrum, correlation surface.
type Candidate = (f64, f64, usize, usize, Vec<Complex32>, Vec<f32>);

/// The spectrum of the tile oriented by `o` (mirrored horizontally when
/// `o >= 4`, then turned `o % 4` quarter turns), read from the spectrum of
/// the tile itself. Orienting by an orthogonal integer map `A` about the
/// tile origin (`t'(x) = t(A x)`, indices mod TILE) permutes the DFT the
/// same way (`T'(k) = T(A k)`), so one forward transform serves all eight
/// orientations; rotating about the centre instead would only move the
/// correlation peak, which the offset search absorbs.
fn oriented(spec: &[Complex32], o: usize) -> Vec<Complex32> {
    let n = TILE as i64;
    let mut out = vec![Complex32::new(0.0, 0.0); spec.len()];
    for ky in 0..n {
        for kx in 0..n {
            let (mut x, mut y) = (kx, ky);
            for _ in 0..o % 4 {
                (x, y) = (y, -x);
            }
            if o >= 4 {
                x = -x;
            }
            let src = (y.rem_euclid(n) * n + x.rem_euclid(n)) as usize;
            out[(ky * n + kx) as usize] = spec[src];
        }
    }
    out
}

/// The spectrum of a real TILE x TILE array.
fn spectrum(t: &[f32], fft: &Fft2) -> Vec<Complex32> {
    let mut spec: Vec<Complex32> = t.iter().map(|&v| Complex32::new(v, 0.0)).collect();
    fft.forward(&mut spec);
    spec
}

fn parabolic(l: f32, c: f32, r: f32) -> f64 {
    let den = l - 2.0 * c + r;
    if den < 0.0 {
        (0.5 * (l - r) / den).clamp(-0.5, 0.5) as f64
    } else {
        0.0
    }
}

/// Frequency bands of the channel estimate (equal widths in radius).
const BANDS: usize = 6;

fn band(c: &Coef) -> usize {
    let r = f64::from(c.kx).hypot(f64::from(c.ky));
    let width = f64::from(R_HI - R_LO) / BANDS as f64;
    (((r - f64::from(R_LO)) / width).floor().max(0.0) as usize).min(BANDS - 1)
}

/// The pilot's correlation peak over the orientations and cyclic offsets
/// of a folded tile, in standard deviations of the correlation surface.
pub(crate) fn pilot_z(tile: &[f32], layout: &Layout, fft: &Fft2) -> f64 {
    best_orientation(tile, layout, fft).map_or(0.0, |c| c.0)
}

/// The orientation whose pilot correlation peaks highest.
fn best_orientation(tile: &[f32], layout: &Layout, fft: &Fft2) -> Option<Candidate> {
    let mut best: Option<Candidate> = None;
    let mut base = spectrum(tile, fft);
    phase_only(&mut base);
    for q in 0..ORIENTATIONS {
        let spec = oriented(&base, q);
        let mut corr: Vec<Complex32> = spec
            .iter()
            .zip(&layout.pilot_spectrum)
            .map(|(a, b)| a * b.conj())
            .collect();
        fft.inverse(&mut corr);
        let re: Vec<f32> = corr.iter().map(|c| c.re).collect();
        let mean = re.iter().map(|v| f64::from(*v)).sum::<f64>() / re.len() as f64;
        let var = re
            .iter()
            .map(|v| (f64::from(*v) - mean).powi(2))
            .sum::<f64>()
            / re.len() as f64;
        let (imax, vmax) =
            re.iter().enumerate().fold(
                (0, f32::NEG_INFINITY),
                |b, (i, v)| if *v > b.1 { (i, *v) } else { b },
            );
        let z = (f64::from(vmax) - mean) / var.sqrt().max(1e-12);
        if best.as_ref().is_none_or(|b| z > b.0) {
            best = Some((z, f64::from(vmax), q, imax, spec, re));
        }
    }
    best
}

/// Orientation, offset and soft chips for one folded tile.
fn synchronise(tile: &[f32], layout: &Layout, fft: &Fft2) -> Option<Sync> {
    let n = TILE;
    let (z, vmax, q, imax, spec, re) = best_orientation(tile, layout, fft)?;
    let (px, py) = (imax % n, imax / n);
    let at = |x: usize, y: usize| re[(y % n) * n + (x % n)];
    let ox = px as f64 + parabolic(at(px + n - 1, py), at(px, py), at(px + 1, py));
    let oy = py as f64 + parabolic(at(px, py + n - 1), at(px, py), at(px, py + 1));
    let value = |c: &Coef| projection(&spec, c, [ox, oy]);
    // Channel estimate: the pilot's mean value per frequency band says how
    // much of the mark each band still holds (JPEG, blur and resampling
    // take the high bands first); each payload coefficient is weighted by
    // its band's log-likelihood scale before decoding.
    let mut sums = [(0f32, 0usize); BANDS];
    for c in &layout.pilot {
        let b = band(c);
        sums[b].0 += value(c);
        sums[b].1 += 1;
    }
    let weights: Vec<f32> = sums
        .iter()
        .map(|&(t, k)| {
            let m = (t / k.max(1) as f32).clamp(0.0, 0.95);
            m / (0.5 * (1.0 - m * m)).max(0.05)
        })
        .collect();
    let mut soft = vec![0f32; CODED_BITS];
    for (i, c) in layout.payload.iter().enumerate() {
        if let Some(s) = soft.get_mut(i / COEFS_PER_CHIP) {
            *s += weights[band(c)] * value(c);
        }
    }
    Some(Sync {
        z,
        peak: vmax / (2.0 * layout.pilot.len() as f64),
        orientation: q,
        offset: [ox, oy],
        soft,
    })
}

/// The soft chips of a folded tile whose geometry is known (no rotation,
/// zero offset), read as [`synchronise`] reads them but without its channel
/// weights: the embedder's view of what the detector will see.
pub(crate) fn chips_at_origin(tile: &[f32], layout: &Layout, fft: &Fft2) -> Vec<f32> {
    let mut spec = spectrum(tile, fft);
    phase_only(&mut spec);
    let mut soft = vec![0f32; CODED_BITS];
    for (i, c) in layout.payload.iter().enumerate() {
        if let Some(s) = soft.get_mut(i / COEFS_PER_CHIP) {
            *s += projection(&spec, c, [0.0, 0.0]);
        }
    }
    soft
}

/// Normalise every coefficient to unit magnitude (phase-only correlation:
/// each coefficient votes with the same weight).
fn phase_only(spec: &mut [Complex32]) {
    for c in spec.iter_mut() {
        let m = c.norm();
        *c = if m > 1e-12 {
            *c / m
        } else {
            Complex32::new(0.0, 0.0)
        };
    }
}

/// Coefficient `c` of a tile spectrum, shifted back by the tile `offset`
/// and projected on its key phase: positive when it carries +1.
fn projection(spec: &[Complex32], c: &Coef, offset: [f64; 2]) -> f32 {
    let step = std::f64::consts::TAU / TILE as f64;
    let ph = step * (f64::from(c.kx) * offset[0] + f64::from(c.ky) * offset[1]);
    let ramp = Complex32::new(ph.cos() as f32, ph.sin() as f32);
    (spec[c.index()] * ramp * c.rot.conj()).re
}

fn wrap_degrees(d: f64) -> f64 {
    let r = d.rem_euclid(360.0);
    if r > 180.0 {
        r - 360.0
    } else {
        r
    }
}

/// Detect (see [`super::detect()`]).
pub fn detect(img: &DynamicImage, opts: &DetectOptions) -> Result<Detection> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut result = Detection::absent();
    if w.min(h) < MIN_DETECT_SIDE {
        return Ok(result);
    }
    let layout = Layout::new(opts.key);
    let fft = Fft2::new(TILE, TILE);
    if opts.screen && !screen::passes(img, &layout, &fft) {
        return Ok(result);
    }
    let (ww, wh) = working_size(w, h);
    let white = whiten(&luma_downsampled(img, ww, wh));
    let id = Lattice::identity();
    let mut lattices = vec![id, id.scaled(2.0), id.scaled(0.5)];
    let mut searched = false;
    let n_auto = if ww * wh <= AUTOCORR_FULL_AREA {
        AUTOCORR_CANDIDATES
    } else {
        AUTOCORR_LARGE
    };
    let n_comb = COMB_CANDIDATES;
    let planned = lattices.len() + n_auto + n_comb;
    let hypotheses = (planned * ORIENTATIONS * TILE * TILE) as f64;
    let mut i = 0;
    while i < lattices.len() {
        let lat = lattices[i];
        i += 1;
        if let Some(s) = fold(&white, &lat).and_then(|t| synchronise(&t, &layout, &fft)) {
            let p_pilot = max_of_normals_sf(s.z, hypotheses);
            let dec = coding::decode(&s.soft, opts.key);
            let p = if dec.crc_ok {
                p_pilot * planned as f64 * (-(coding::CRC_BITS as f64)).exp2()
            } else {
                p_pilot
            };
            let better = (dec.crc_ok && !result.crc_ok)
                || (dec.crc_ok == result.crc_ok && p < result.p_value);
            if better {
                result = Detection {
                    detected: dec.crc_ok && p <= opts.threshold,
                    payload: if dec.crc_ok && p <= opts.threshold {
                        Some(dec.payload)
                    } else {
                        None
                    },
                    p_value: p,
                    correlation: s.peak,
                    z_score: s.z,
                    scale: lat.scale(),
                    rotation_deg: wrap_degrees(
                        lat.rotation_deg() + 90.0 * (s.orientation % 4) as f64,
                    ),
                    mirrored: (s.orientation >= 4) != lat.mirrored(),
                    offset: s.offset,
                    bits_corrected: dec.crc_ok.then_some(dec.bits_corrected),
                    crc_ok: dec.crc_ok,
                    lattices_tried: i,
                };
            }
            if result.detected {
                break;
            }
        }
        if !searched && i == lattices.len() {
            searched = true;
            for l in sync::candidates(&white, n_auto, n_comb) {
                if !lattices.contains(&l) {
                    lattices.push(l);
                }
            }
        }
    }
    result.lattices_tried = i;
    Ok(result)
}
