//! WCAG 2.x contrast: the relative luminance of an sRGB colour and the
//! contrast ratio of two colours, (L1 + 0.05) / (L2 + 0.05), from 1:1 to
//! 21:1. WCAG asks 4.5:1 for normal text; the visible label's plate is
//! chosen so that its text meets that over any background.

/// Relative luminance of an 8-bit sRGB colour (0 black .. 1 white).
pub fn luminance(rgb: [u8; 3]) -> f64 {
    let lin = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(rgb[0]) + 0.7152 * lin(rgb[1]) + 0.0722 * lin(rgb[2])
}

/// Contrast ratio of two colours (order does not matter).
pub fn ratio(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wcag_reference_values() {
        assert!((ratio([255; 3], [0; 3]) - 21.0).abs() < 1e-9);
        assert!((ratio([10, 20, 30], [10, 20, 30]) - 1.0).abs() < 1e-9);
        // #777777 on white is the classic just-under-4.5 grey.
        let r = ratio([0x77; 3], [255; 3]);
        assert!(r > 4.4 && r < 4.5, "{r}");
    }
}
