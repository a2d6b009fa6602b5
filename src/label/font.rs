//! The bundled label font and text rasterising.
//!
//! The font is Noto Sans CJK SC Bold (SIL Open Font License 1.1; licence in
//! `assets/fonts/OFL.txt`), subset by `scripts/subset_font.sh` to printable
//! ASCII and the Chinese characters of the usual label texts
//! ([`LABEL_CHARS`]), about 15 KB. Text is laid out on one line with the
//! font's advances and kerning (no shaping: CJK and Latin need none) and
//! rasterised with `ab_glyph` into a coverage mask.

use ab_glyph::{point, Font, FontRef, PxScale, ScaleFont};

use crate::error::{Error, Result};

/// The subset font.
const FONT: &[u8] = include_bytes!("../../assets/fonts/NotoSansCJKsc-Bold-subset.otf");

/// The Chinese characters the bundled font covers (besides printable
/// ASCII); keep in step with `scripts/subset_font.sh`.
pub const LABEL_CHARS: &str =
    "AI生成人工智能合成内容由本图片视频音频文本疑似可能深度伪造标识使用技术，。：；！？（）「」、·";

/// A rasterised line of text: coverage 0..1, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Mask {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Coverage per pixel.
    pub coverage: Vec<f32>,
}

impl Mask {
    /// Coverage at `(x, y)` (0 outside).
    pub fn at(&self, x: u32, y: u32) -> f32 {
        if x >= self.width || y >= self.height {
            return 0.0;
        }
        self.coverage
            .get(y as usize * self.width as usize + x as usize)
            .copied()
            .unwrap_or(0.0)
    }

    /// Rows holding ink (coverage of at least one half somewhere): the
    /// text height as a reader measures it.
    pub fn ink_rows(&self) -> u32 {
        let w = self.width as usize;
        let mut first = None;
        let mut last = 0;
        for (y, row) in self.coverage.chunks(w.max(1)).enumerate() {
            if row.iter().any(|c| *c >= 0.5) {
                first.get_or_insert(y);
                last = y;
            }
        }
        first.map_or(0, |f| (last - f + 1) as u32)
    }
}

fn font() -> Result<FontRef<'static>> {
    FontRef::try_from_slice(FONT).map_err(|e| Error::InvalidInput(format!("label font: {e}")))
}

/// Characters of `text` the bundled font lacks.
pub fn missing_chars(text: &str) -> Result<Vec<char>> {
    let f = font()?;
    let mut out: Vec<char> = text
        .chars()
        .filter(|c| !c.is_whitespace() && f.glyph_id(*c).0 == 0)
        .collect();
    out.dedup();
    Ok(out)
}

/// Rasterise `text` at `px` pixels per em, cropped to its ink.
pub fn rasterise(text: &str, px: f32) -> Result<Mask> {
    let f = font()?;
    let scale = PxScale::from(px);
    let scaled = f.as_scaled(scale);
    let mut caret = 0.0f32;
    let mut prev = None;
    let mut outlined = Vec::new();
    for c in text.chars() {
        let id = f.glyph_id(c);
        if let Some(p) = prev {
            caret += scaled.kern(p, id);
        }
        let g = id.with_scale_and_position(scale, point(caret, scaled.ascent()));
        caret += scaled.h_advance(id);
        prev = Some(id);
        if let Some(o) = f.outline_glyph(g) {
            outlined.push(o);
        }
    }
    let Some(first) = outlined.first() else {
        return Err(Error::InvalidInput(format!(
            "the label text {text:?} has nothing to draw"
        )));
    };
    let mut bounds = first.px_bounds();
    for o in &outlined {
        let b = o.px_bounds();
        bounds.min.x = bounds.min.x.min(b.min.x);
        bounds.min.y = bounds.min.y.min(b.min.y);
        bounds.max.x = bounds.max.x.max(b.max.x);
        bounds.max.y = bounds.max.y.max(b.max.y);
    }
    let width = (bounds.max.x - bounds.min.x).ceil().max(1.0) as u32;
    let height = (bounds.max.y - bounds.min.y).ceil().max(1.0) as u32;
    let mut coverage = vec![0.0f32; width as usize * height as usize];
    for o in &outlined {
        let b = o.px_bounds();
        let dx = (b.min.x - bounds.min.x).round() as i64;
        let dy = (b.min.y - bounds.min.y).round() as i64;
        o.draw(|x, y, c| {
            let (x, y) = (i64::from(x) + dx, i64::from(y) + dy);
            if x >= 0 && y >= 0 && x < i64::from(width) && y < i64::from(height) {
                if let Some(slot) = coverage.get_mut(y as usize * width as usize + x as usize) {
                    *slot = slot.max(c.clamp(0.0, 1.0));
                }
            }
        });
    }
    Ok(Mask {
        width,
        height,
        coverage,
    })
}

/// Rasterise `text` so that its ink is at least `ink_px` rows tall: the
/// em size is solved from the outline bounds, then raised a pixel at a time
/// until the measured ink ([`Mask::ink_rows`]) reaches the target.
pub fn rasterise_to_height(text: &str, ink_px: u32) -> Result<Mask> {
    const PROBE: f32 = 1000.0;
    let probe = rasterise(text, PROBE)?;
    let per_px = probe.height as f32 / PROBE;
    if per_px <= 0.0 {
        return Err(Error::InvalidInput(format!(
            "the label text {text:?} has no height"
        )));
    }
    let mut px = (ink_px as f32 / per_px).floor().max(1.0);
    for _ in 0..64 {
        let m = rasterise(text, px)?;
        if m.ink_rows() >= ink_px {
            return Ok(m);
        }
        px += 1.0;
    }
    Err(Error::InvalidInput(format!(
        "cannot draw {text:?} {ink_px} px tall"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_the_label_texts() {
        for t in ["AI生成", "人工智能生成", "AI合成 (demo)", LABEL_CHARS] {
            assert_eq!(missing_chars(t).unwrap(), Vec::<char>::new(), "{t}");
        }
        assert_eq!(missing_chars("AI生成鑫").unwrap(), ['鑫']);
    }

    #[test]
    fn reaches_the_asked_height() {
        for h in [12, 16, 40, 260] {
            let m = rasterise_to_height("AI生成", h).unwrap();
            assert!(
                m.ink_rows() >= h && m.ink_rows() <= h + 2,
                "{h}: {}",
                m.ink_rows()
            );
            assert!(m.width > m.height, "one line");
        }
    }
}
