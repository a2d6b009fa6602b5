//! Regeneration attack: the marked image through the TAEF2 autoencoder
//! (tiny FLUX.2 VAE; ONNX models made by `scripts/taef2_onnx.py` from the
//! MIT weights), with Gaussian noise added to the latent in units of the
//! latent's own standard deviation. Run with ONNX Runtime, one thread.

use std::path::Path;
use std::sync::Mutex;

use hallmark::watermark::prng::Prng;
use image::{DynamicImage, RgbImage};
use ort::session::{builder::GraphOptimizationLevel, Session};
use ort::value::TensorRef;

/// The encoder and decoder sessions (ONNX Runtime sessions run with
/// `&mut self`: one pair per worker, handed out from a pool).
pub struct Taef2 {
    encoder: Vec<u8>,
    decoder: Vec<u8>,
    pool: Mutex<Vec<(Session, Session)>>,
}

fn session(bytes: &[u8]) -> Session {
    let rt = hallmark::detect::runtime::runtime(None).expect("ONNX Runtime");
    Session::builder(rt.environment())
        .unwrap()
        .with_optimization_level(GraphOptimizationLevel::Level3)
        .unwrap()
        .with_intra_threads(1)
        .unwrap()
        .with_inter_threads(1)
        .unwrap()
        .commit_from_memory(bytes)
        .expect("TAEF2 model")
}

impl Taef2 {
    /// Load `DIR/taef2_encoder.onnx` and `DIR/taef2_decoder.onnx`.
    pub fn load(dir: &Path) -> Self {
        let read = |n: &str| {
            std::fs::read(dir.join(n)).unwrap_or_else(|e| {
                panic!(
                    "{}: {e} (make it with `python3 scripts/taef2_onnx.py --out {}`)",
                    dir.join(n).display(),
                    dir.display()
                )
            })
        };
        Taef2 {
            encoder: read("taef2_encoder.onnx"),
            decoder: read("taef2_decoder.onnx"),
            pool: Mutex::new(Vec::new()),
        }
    }

    fn run(s: &mut Session, data: &[f32], shape: [i64; 4]) -> (Vec<f32>, [i64; 4]) {
        let t = TensorRef::from_array_view((shape, data)).unwrap();
        let out = s.run(ort::inputs!["input" => t]).unwrap();
        let (sh, v) = out["output"].try_extract_tensor::<f32>().unwrap();
        let dims = [sh[0], sh[1], sh[2], sh[3]];
        (v.to_vec(), dims)
    }

    /// Encode, add `noise` x std(latent) Gaussian noise (seeded), decode.
    pub fn regenerate(&self, img: &DynamicImage, noise: f32, seed: u64) -> DynamicImage {
        let pair = self.pool.lock().unwrap().pop();
        let (mut enc, mut dec) =
            pair.unwrap_or_else(|| (session(&self.encoder), session(&self.decoder)));
        let rgb = img.to_rgb8();
        let (w, h) = (rgb.width() as usize, rgb.height() as usize);
        // Pad to a multiple of 8 by replicating the edge.
        let (pw, ph) = (w.div_ceil(8) * 8, h.div_ceil(8) * 8);
        let mut x = vec![0f32; 3 * pw * ph];
        for y in 0..ph {
            for xx in 0..pw {
                let p = rgb.get_pixel(xx.min(w - 1) as u32, y.min(h - 1) as u32).0;
                for c in 0..3 {
                    x[c * pw * ph + y * pw + xx] = f32::from(p[c]) / 255.0;
                }
            }
        }
        let (mut z, zs) = Self::run(&mut enc, &x, [1, 3, ph as i64, pw as i64]);
        if noise > 0.0 {
            let n = z.len() as f64;
            let mean = z.iter().map(|v| f64::from(*v)).sum::<f64>() / n;
            let sd = (z
                .iter()
                .map(|v| (f64::from(*v) - mean).powi(2))
                .sum::<f64>()
                / n)
                .sqrt();
            let mut rng = Prng::new(seed, 0x54_4145_4632);
            for v in z.iter_mut() {
                *v += (f64::from(noise) * sd * rng.gaussian()) as f32;
            }
        }
        let (y, ys) = Self::run(&mut dec, &z, zs);
        self.pool.lock().unwrap().push((enc, dec));
        let (ow, oh) = (ys[3] as usize, ys[2] as usize);
        let out = RgbImage::from_fn(w as u32, h as u32, |xx, yy| {
            let i = yy as usize * ow + xx as usize;
            image::Rgb(
                [0, 1, 2].map(|c| (y[c * ow * oh + i].clamp(0.0, 1.0) * 255.0).round() as u8),
            )
        });
        DynamicImage::ImageRgb8(out)
    }
}
