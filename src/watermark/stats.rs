//! Detection statistics: the Gaussian tail used to turn the pilot
//! correlation peak into a p-value, corrected for the number of hypotheses
//! searched (offsets x orientations x lattices), and its combination with the
//! CRC check.

/// Complementary error function (Numerical Recipes' Chebyshev fit,
/// relative error below 1.2e-7 everywhere).
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// Upper tail of the standard normal: P(Z > z).
pub fn normal_sf(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// Probability that the best of `hypotheses` independent standard normal
/// statistics reaches `z` (a Sidak correction, exact for independent tests
/// and conservative via the union bound otherwise).
pub fn max_of_normals_sf(z: f64, hypotheses: f64) -> f64 {
    let p = normal_sf(z);
    if p * hypotheses < 1e-6 {
        (p * hypotheses).min(1.0)
    } else {
        1.0 - (1.0 - p).powf(hypotheses)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_values() {
        assert!((normal_sf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_sf(1.959_964) - 0.025).abs() < 1e-6);
        assert!((normal_sf(6.0) / 9.865_876e-10 - 1.0).abs() < 1e-4);
        assert!((max_of_normals_sf(6.0, 1000.0) / 9.865_876e-7 - 1.0).abs() < 1e-3);
        assert!(max_of_normals_sf(-3.0, 10.0) <= 1.0);
    }
}
