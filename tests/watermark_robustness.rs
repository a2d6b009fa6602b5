//! Property tests: embed -> attack -> detect recovers the exact payload for
//! random payloads and attacks from the goal list, on generated images and
//! on a committed real photo; unmarked images never test positive.
//! Kept small (few cases, moderate sizes): the full table is the
//! `wm_robustness` example, not a test.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

mod common;

use std::path::PathBuf;

use common::textured;
use hallmark::watermark::attacks::Attack;
use hallmark::watermark::pattern::TILE;
use hallmark::watermark::{self, DetectOptions, EmbedOptions};
use image::DynamicImage;
use proptest::prelude::*;

fn fixture(name: &str) -> DynamicImage {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/watermark")
        .join(name);
    hallmark::media::decode_file(&p, &Default::default()).unwrap()
}

fn check(img: &DynamicImage, payload: u64, attack: Attack) {
    let marked = watermark::embed(img, payload, &EmbedOptions::default()).unwrap();
    let psnr = watermark::psnr(img, &marked);
    assert!(psnr >= 40.0, "PSNR {psnr:.2}");
    let attacked = attack.apply(&marked, payload).unwrap();
    let d = watermark::detect(&attacked, &DetectOptions::default()).unwrap();
    assert!(d.detected, "{}: {d:?}", attack.name());
    assert_eq!(d.payload, Some(payload), "{}", attack.name());
    assert!(d.p_value <= 1e-6);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, failure_persistence: None, rng_seed: proptest::test_runner::RngSeed::Fixed(20261128), ..ProptestConfig::default() })]

    #[test]
    fn generated_images_survive_attacks(payload in any::<u64>(), seed in 0u64..1000, k in 0usize..16,
                                        w in 400u32..640, h in 400u32..640) {
        // The social chain is not yet reliable on every image (see README).
        let attacks: Vec<Attack> = Attack::standard()
            .into_iter()
            .filter(|a| *a != Attack::Social)
            .collect();
        let attack = attacks[k % attacks.len()];
        check(&textured(w, h, seed), payload, attack);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, failure_persistence: None, rng_seed: proptest::test_runner::RngSeed::Fixed(20261202), ..ProptestConfig::default() })]

    /// The geometric attacks of the second version with random parameters
    /// (mirror, aspect-ratio change, shear, a general affine map, a larger
    /// rotation), each after a JPEG round trip, through the default
    /// (screened) detector.
    #[test]
    fn generated_images_survive_affine_maps(payload in any::<u64>(), seed in 0u64..1000,
                                            k in 0usize..5, a in 0.82f32..1.2, b in -0.12f32..0.12,
                                            w in 480u32..600, h in 480u32..600) {
        let attack = match k {
            0 => Attack::Mirror,
            1 => Attack::Aspect(a),
            2 => Attack::Shear(b),
            3 => Attack::Affine([a, b, -b / 2.0, 2.0 - a]),
            _ => Attack::Rotate(8.0 * b / 0.12),
        };
        let img = textured(w, h, seed);
        let marked = watermark::embed(&img, payload, &EmbedOptions::default()).unwrap();
        let attacked = Attack::Jpeg(85).apply(&attack.apply(&marked, payload).unwrap(), 0).unwrap();
        let d = watermark::detect(&attacked, &DetectOptions::default()).unwrap();
        prop_assert_eq!(d.payload, Some(payload), "{}: {:?}", attack.name(), d);
    }
}

#[test]
fn real_photo_survives_every_attack() {
    let img = fixture("kodim23-crop.png");
    let marked = watermark::embed(&img, 0x5EED_0000_C0FF_EE00, &EmbedOptions::default()).unwrap();
    for attack in Attack::standard()
        .into_iter()
        .filter(|a| *a != Attack::Social)
    {
        let d = watermark::detect(
            &attack.apply(&marked, 1).unwrap(),
            &DetectOptions::default(),
        )
        .unwrap();
        assert_eq!(
            d.payload,
            Some(0x5EED_0000_C0FF_EE00),
            "{}: {d:?}",
            attack.name()
        );
    }
}

/// Small images hold only two or three tiles: the comb matcher, not the
/// autocorrelation, has to find their lattice after a rescale or rotation.
#[test]
fn small_images_survive_rescaling_and_rotation() {
    for (i, (w, h)) in [(256u32, 256u32), (320, 288), (300, 400)]
        .into_iter()
        .enumerate()
    {
        let img = textured(w, h, 500 + i as u64);
        for attack in [
            Attack::Resize(1.5),
            Attack::Rotate(2.0),
            Attack::Rotate(5.0),
        ] {
            check(&img, 0xABCD_0000_1234_0000 | i as u64, attack);
        }
    }
}

/// Mirroring and the affine maps that are not similarities (aspect-ratio
/// change, shear, a general affine map): the dihedral orientation search and
/// the lattice's free second axis recover them.
#[test]
fn mirrored_and_affine_copies_are_detected() {
    let attacks = [
        Attack::Mirror,
        Attack::Aspect(0.8),
        Attack::Shear(0.15),
        Attack::Affine([1.1, 0.1, -0.05, 0.85]),
    ];
    let photo = fixture("kodim23-crop.png");
    for attack in attacks {
        check(&photo, 0x0DD_BA11_0000_0001, attack);
    }
    for (i, attack) in attacks.into_iter().enumerate() {
        check(
            &textured(520, 470, 900 + i as u64),
            0xFACE_0000_0000_0000 | i as u64,
            attack,
        );
    }
    // A mirrored copy reports that it is one.
    let marked = watermark::embed(&photo, 9, &EmbedOptions::default()).unwrap();
    let d = watermark::detect(
        &Attack::Mirror.apply(&marked, 0).unwrap(),
        &DetectOptions::default(),
    )
    .unwrap();
    assert!(d.mirrored, "{d:?}");
    let d = watermark::detect(&marked, &DetectOptions::default()).unwrap();
    assert!(!d.mirrored, "{d:?}");
}

#[test]
fn unmarked_images_are_not_detected() {
    let mut imgs = vec![
        fixture("kodim23-crop.png"),
        fixture("kodim23-crop.png").rotate90(),
    ];
    for s in 0..6 {
        imgs.push(textured(300 + 40 * s, 500 - 30 * s, 100 + u64::from(s)));
    }
    // Mirrored and affine-warped copies of unmarked images stay unmarked.
    let k = fixture("kodim23-crop.png");
    imgs.push(Attack::Mirror.apply(&k, 0).unwrap());
    for attack in [
        Attack::Affine([1.1, 0.1, -0.05, 0.85]),
        Attack::Aspect(0.8),
        Attack::Shear(0.15),
    ] {
        imgs.push(attack.apply(&k, 0).unwrap());
    }
    imgs.push(Attack::Mirror.apply(&textured(480, 400, 77), 0).unwrap());
    // With and without the first-stage screen (without it, every image
    // gets the full search).
    for opts in [DetectOptions::default(), exhaustive()] {
        for img in &imgs {
            let d = watermark::detect(img, &opts).unwrap();
            assert!(!d.detected, "{d:?}");
            assert!(d.payload.is_none());
        }
    }
    // A different key does not see the default key's mark.
    let marked = watermark::embed(&imgs[2], 7, &EmbedOptions::default()).unwrap();
    let other = DetectOptions {
        key: 12345,
        ..DetectOptions::default()
    };
    assert!(!watermark::detect(&marked, &other).unwrap().detected);
}

/// The full search: no first-stage screen.
fn exhaustive() -> DetectOptions {
    DetectOptions {
        screen: false,
        ..DetectOptions::default()
    }
}

/// The first-stage screen's decision for the default key.
fn screen_passes(img: &DynamicImage) -> bool {
    let layout = hallmark::watermark::pattern::Layout::new(watermark::DEFAULT_KEY);
    let fft = hallmark::watermark::fft2::Fft2::new(TILE, TILE);
    watermark::screen::passes(img, &layout, &fft)
}

/// The first-stage screen lets through every marked fixture that the full
/// search reads, after every attack of both suites: it never costs a
/// detection here (its miss rate on photos is in `wm_robustness --screen`).
#[test]
fn screen_never_turns_away_a_readable_mark() {
    let images = [fixture("kodim23-crop.png"), textured(560, 420, 31)];
    for (i, img) in images.iter().enumerate() {
        let payload = 0x5C4E_E000_0000_0000 | i as u64;
        let marked = watermark::embed(img, payload, &EmbedOptions::default()).unwrap();
        let mut read = 0;
        for attack in Attack::standard().into_iter().chain(Attack::hard()) {
            let attacked = attack.apply(&marked, 3).unwrap();
            let full = watermark::detect(&attacked, &exhaustive()).unwrap();
            let score = watermark::screen::score(&attacked, watermark::DEFAULT_KEY).unwrap();
            if full.payload == Some(payload) {
                read += 1;
                assert!(score.passes(), "image {i}, {}: {score:?}", attack.name());
                assert!(screen_passes(&attacked));
                // The screened detector finds what the full search finds.
                let screened = watermark::detect(&attacked, &DetectOptions::default()).unwrap();
                assert_eq!(screened.payload, Some(payload), "{}", attack.name());
            }
        }
        // Most attacks leave the mark readable, so the assertion above ran.
        assert!(read >= 25, "image {i}: only {read} attacks readable");
    }
}

/// Unmarked content without a two-dimensional period stops at the screen.
#[test]
fn screen_turns_away_unmarked_images() {
    let photo = fixture("kodim23-crop.png");
    let mut rng = hallmark::watermark::prng::Prng::new(11, 12);
    let noise = DynamicImage::ImageLuma8(image::GrayImage::from_fn(640, 480, |_, _| {
        image::Luma([(rng.next_f64() * 255.0) as u8])
    }));
    for (name, img) in [
        ("photo", photo.clone()),
        ("mirrored photo", photo.fliph()),
        (
            "sheared photo",
            Attack::Shear(0.15).apply(&photo, 0).unwrap(),
        ),
        ("noise", noise),
    ] {
        let s = watermark::screen::score(&img, watermark::DEFAULT_KEY).unwrap();
        assert!(!s.passes(), "{name}: {s:?}");
        assert!(!screen_passes(&img), "{name}");
        let d = watermark::detect(&img, &DetectOptions::default()).unwrap();
        assert_eq!(d.lattices_tried, 0, "{name}: {d:?}");
    }
}
