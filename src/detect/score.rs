//! From crop logits to a verdict: aggregation, Platt calibration and the
//! two thresholds that leave room for "inconclusive".

use serde::Serialize;

use super::card::{Aggregation, Calibration, Thresholds};

/// The classifier's label for an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    /// Calibrated P(AI) at or above the card's `ai` threshold.
    Ai,
    /// Calibrated P(AI) at or below the card's `real` threshold.
    Real,
    /// In between, or the image could not be scored (too small).
    Inconclusive,
}

impl Label {
    /// The label as printed (`ai`, `real`, `inconclusive`).
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Ai => "ai",
            Label::Real => "real",
            Label::Inconclusive => "inconclusive",
        }
    }
}

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Combine the crop logits of one image; `None` for no logits or a NaN.
pub fn aggregate(logits: &[f32], how: Aggregation) -> Option<f64> {
    if logits.is_empty() || logits.iter().any(|l| l.is_nan()) {
        return None;
    }
    let v: Vec<f64> = logits.iter().map(|&l| f64::from(l)).collect();
    Some(match how {
        Aggregation::MeanLogit => v.iter().sum::<f64>() / v.len() as f64,
        Aggregation::MaxLogit => v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        Aggregation::MedianLogit => {
            let mut s = v;
            s.sort_by(f64::total_cmp);
            let n = s.len();
            if n % 2 == 1 {
                s[n / 2]
            } else {
                (s[n / 2 - 1] + s[n / 2]) / 2.0
            }
        }
    })
}

/// Platt scaling: `sigmoid(a * logit + b)`, computed without overflow.
pub fn calibrate(logit: f64, cal: &Calibration) -> f64 {
    let z = cal.a * logit + cal.b;
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// `p >= ai` -> ai; `p <= real` -> real; otherwise inconclusive.
pub fn label(p: f64, t: &Thresholds) -> Label {
    if p >= t.ai {
        Label::Ai
    } else if p <= t.real {
        Label::Real
    } else {
        Label::Inconclusive
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregations_follow_numpy() {
        let l = [1.0f32, -2.0, 4.0, 3.0];
        assert_eq!(aggregate(&l, Aggregation::MeanLogit), Some(1.5));
        assert_eq!(aggregate(&l, Aggregation::MaxLogit), Some(4.0));
        assert_eq!(aggregate(&l, Aggregation::MedianLogit), Some(2.0));
        assert_eq!(aggregate(&l[..3], Aggregation::MedianLogit), Some(1.0));
        assert_eq!(aggregate(&[], Aggregation::MeanLogit), None);
        assert_eq!(aggregate(&[f32::NAN], Aggregation::MaxLogit), None);
    }

    #[test]
    fn calibration_is_a_stable_sigmoid() {
        let cal = Calibration {
            method: "platt".into(),
            a: 2.0,
            b: -1.0,
        };
        assert!((calibrate(0.5, &cal) - 0.5).abs() < 1e-12);
        assert!((calibrate(1.0, &cal) - 1.0 / (1.0 + (-1f64).exp())).abs() < 1e-12);
        assert_eq!(calibrate(1e6, &cal), 1.0);
        assert_eq!(calibrate(-1e6, &cal), 0.0);
    }

    #[test]
    fn thresholds_are_inclusive_and_leave_a_gap() {
        let t = Thresholds { ai: 0.8, real: 0.2 };
        assert_eq!(label(0.8, &t), Label::Ai);
        assert_eq!(label(0.79, &t), Label::Inconclusive);
        assert_eq!(label(0.2, &t), Label::Real);
        assert_eq!(label(0.21, &t), Label::Inconclusive);
    }
}
