//! The detector's first stage: a cheap test, on a luma plane at a quarter
//! of the working area or less, that turns away images showing no sign of a
//! tiled mark before the full lattice search runs. A tiled mark is periodic
//! whatever geometry it went through (turn, mirror, scale, aspect change,
//! shear, crop), so its autocorrelation has peaks on a two-dimensional
//! lattice; the screen scores the strongest such lattice against the
//! autocorrelation's own noise. Unmarked images, most of them, stop here;
//! the threshold is set on marked, attacked images (see `wm_robustness
//! --screen`), and `DetectOptions::screen` turns the stage off.

use image::DynamicImage;

use super::autocorr::{whitened_power, LAG_MAX, LAG_MIN};
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
/// [`super::working_factor`]) halved when its short side is 520 pixels or
/// more, then whitened; and the working pixels per sample.
fn plane(img: &DynamicImage) -> (Plane, f64) {
    let (ww, wh) = working_size(img.width() as usize, img.height() as usize);
    let d = if ww.min(wh) >= 520 { 2 } else { 1 };
    (whiten(&luma_downsampled(img, ww / d, wh / d)), d as f64)
}

/// Score `img` for the mark of `key` (see the module documentation): both
/// statistics in full, for measuring the screen. `None` for an image too
/// small to screen (under two tile periods at the smallest scale
/// searched): those get the full search.
pub fn score(img: &DynamicImage, key: u64) -> Option<Score> {
    evaluate(img, key, false)
}

/// Whether `img` goes on to the full search for the mark of `key`: the
/// decision of [`score`], reached with less work (the pilot first, and
/// the comb search stops at the first hypothesis over the threshold).
pub fn passes(img: &DynamicImage, key: u64) -> bool {
    evaluate(img, key, true).is_none_or(|s| s.passes())
}

/// The statistics; with `early`, stop as soon as the image passes (the
/// statistics not computed are then left at 0).
fn evaluate(img: &DynamicImage, key: u64, early: bool) -> Option<Score> {
    let (p, df) = plane(img);
    let lag_max = (LAG_MAX / df).min(0.7 * p.w.min(p.h) as f64);
    let lag_min = LAG_MIN / df;
    if lag_max <= lag_min + 2.0 {
        return None;
    }
    let layout = Layout::new(key);
    let fft = Fft2::new(TILE, TILE);
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
        score.pilot = score.pilot.max(pilot_z(&t, &layout, &fft));
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
