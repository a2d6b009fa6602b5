//! The detector's first stage: a cheap test, on a luma plane of at most the
//! working area (a quarter of it for larger images), that turns away images
//! showing no sign of the mark before the full lattice search runs. Two
//! statistics: the mark's spectral comb, summed over the whitened power
//! spectrum for every period and rotation the full search covers (power
//! spectra ignore crops, and the comb is symmetric under turns and
//! mirrors), and the pilot, correlated with the plane folded at the
//! embedded period (the matched filter when the geometry is unchanged).
//! Unmarked images, most of them, stop here; the thresholds are set on
//! marked, attacked images (see `wm_robustness --screen`), and
//! `DetectOptions::screen` turns the stage off.

use image::DynamicImage;

use super::autocorr::{halving, lag_range, whitened_power};
use super::detect::pilot_z;
use super::fft2::Fft2;
use super::fold::fold;
use super::pattern::{Layout, TILE};
use super::plane::{luma_downsampled, whiten, Plane};
use super::sync::Lattice;
use super::template;
use super::working_size;

/// Coarse comb hypotheses refined.
const SEEDS: usize = 8;

/// Comb z-score below which an image is turned away without the full
/// search (unless its pilot passes).
pub const THRESHOLD: f64 = 4.5;
/// Pilot z-score at the embedded geometry at or above which an image goes on
/// to the full search.
pub const PILOT_THRESHOLD: f64 = 6.0;

/// The screen's statistics for one image.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Score {
    /// The comb's best z-score (see [`template::best_z`]).
    pub comb: f64,
    /// The pilot's best z-score on tiles folded at the embedded lattice,
    /// twice and half its period.
    pub pilot: f64,
}

impl Score {
    /// Whether the image goes on to the full search.
    pub fn passes(&self) -> bool {
        self.comb >= THRESHOLD || self.pilot >= PILOT_THRESHOLD
    }
}

/// The plane the screen examines: the working resolution (see
/// [`super::working_factor`]) halved as the lattice search halves it
/// ([`halving`]), read from the image at that size and whitened; and the
/// working pixels per sample.
fn plane(img: &DynamicImage) -> (Plane, f64) {
    let (ww, wh) = working_size(img.width() as usize, img.height() as usize);
    let d = halving(ww, wh);
    (whiten(&luma_downsampled(img, ww / d, wh / d)), d as f64)
}

/// Score `img` for the mark of `key` (see the module documentation): both
/// statistics in full, for measuring the screen. `None` for an image too
/// small to screen (under two tile periods at the smallest scale
/// searched): those get the full search.
pub fn score(img: &DynamicImage, key: u64) -> Option<Score> {
    let fft = Fft2::new(TILE, TILE);
    evaluate(img, &Layout::new(key), &fft, false)
}

/// Whether `img` goes on to the full search for the mark laid out by
/// `layout` (`fft`: TILE x TILE transforms, shared with the full search):
/// the decision of [`score`], reached with less work (the pilot first, and
/// the comb search stops at the first hypothesis over the threshold).
pub fn passes(img: &DynamicImage, layout: &Layout, fft: &Fft2) -> bool {
    evaluate(img, layout, fft, true).is_none_or(|s| s.passes())
}

/// The statistics; with `early`, stop as soon as the image passes (the
/// statistics not computed are then left at 0).
fn evaluate(img: &DynamicImage, layout: &Layout, fft: &Fft2, early: bool) -> Option<Score> {
    let (p, df) = plane(img);
    let (lag_min, lag_max) = lag_range(p.w, p.h, df)?;
    let id = Lattice::identity().scaled(1.0 / df);
    // Half the period puts the comb past the Nyquist limit of a halved
    // plane.
    let periods: &[f64] = if df > 1.0 {
        &[1.0, 2.0]
    } else {
        &[1.0, 2.0, 0.5]
    };
    let mut score = Score::default();
    for t in periods.iter().filter_map(|&k| fold(&p, &id.scaled(k))) {
        score.pilot = score.pilot.max(pilot_z(&t, layout, fft));
        if early && score.passes() {
            return Some(score);
        }
    }
    let (power, fw, fh) = whitened_power(&p, df, lag_max.ceil() as usize + 2);
    let spec = template::spectrum(power, fw, fh);
    let enough = if early { THRESHOLD } else { f64::INFINITY };
    score.comb = template::best_z(&spec, lag_min, lag_max, SEEDS, enough).max(0.0);
    Some(score)
}
