//! The mismatched-data simulations on the 3-D sphere (Fig. 3e–g) and the nine-pair
//! simulation of the notebooks, against the oracle's `sphere_simulations` case.

use crate::common;

use common::{
    Case, F32_POINTS, F64, PAPER_3_DECIMALS, ULPS, assert_all_close, assert_close,
    embeddings_from_json, rows_of, temperature,
};
use modality_gap::{
    Error, Image, Text,
    experiments::{
        LandscapePoint, NinePairLabels, Pairing, nine_pair_landscape, nine_pairs, sphere_landscape,
        sphere_pairs,
    },
};

fn column(points: &[LandscapePoint], f: fn(&LandscapePoint) -> f64) -> Vec<f64> {
    points.iter().map(f).collect()
}

#[test]
fn the_six_sphere_pairs_match_the_oracle() {
    let case = Case::load("sphere_simulations");
    let (images, texts) = sphere_pairs(30.0, Pairing::Mismatched).unwrap();
    let key = "sphere_points_query_u_30";
    let expected_images = embeddings_from_json::<f64, Image>(case.expected(&[key, "I"]));
    let expected_texts = embeddings_from_json::<f64, Text>(case.expected(&[key, "T"]));
    // cos and sin of the platform's libm against Python's: within an ulp.
    assert_all_close(
        &rows_of(&images),
        expected_images.as_slice(),
        ULPS,
        "images",
    );
    assert_all_close(&rows_of(&texts), expected_texts.as_slice(), ULPS, "texts");
}

#[test]
fn the_sphere_landscapes_match_the_oracle() {
    let case = Case::load("sphere_simulations");
    for scale in [1, 5, 35, 50, 100] {
        for (pairing, name) in [
            (Pairing::Mismatched, "mismatched"),
            (Pairing::Matched, "matched"),
        ] {
            let key = format!("sphere_{name}_scale{scale}");
            let angles = case.numbers(&[&key, "query_u"]);
            let points = sphere_landscape(&angles, temperature(1.0 / f64::from(scale)), pairing)
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
                .unwrap();
            assert_eq!(column(&points, |p| p.position), angles);
            let what = |field| format!("{key} {field}");
            let expected_distance = case.numbers(&[&key, "distance"]);
            let distance = column(&points, |p| p.signed_gap_distance);
            assert_all_close(&distance, &expected_distance, F64, &what("distance"));
            let loss = column(&points, |p| p.loss);
            assert_all_close(&loss, &case.numbers(&[&key, "loss"]), F64, &what("loss"));
        }
    }
}

#[test]
fn the_paper_reads_the_mismatched_losses_at_no_gap() {
    // Liang et al. (2022), Fig. 3g, Δθ = 0 at logit scales 1, 5, 35, 50, 100.
    let printed = [
        (1.0, 1.548),
        (5.0, 1.095),
        (35.0, 0.887),
        (50.0, 1.083),
        (100.0, 2.014),
    ];
    for (scale, value) in printed {
        let at_zero = sphere_landscape(&[0.0], temperature(1.0 / scale), Pairing::Mismatched)
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        assert!(
            (at_zero[0].loss - value).abs() < PAPER_3_DECIMALS,
            "scale {scale}"
        );
    }
}

#[test]
fn a_mismatch_moves_the_optimum_away_from_no_gap() {
    let angles: Vec<f64> = (-90..=90).map(f64::from).collect();
    let argmin = |points: Vec<LandscapePoint>| {
        let best = points.iter().min_by(|p, q| p.loss.total_cmp(&q.loss));
        best.unwrap().position
    };
    for scale in [35.0, 50.0, 100.0] {
        let matched = sphere_landscape(&angles, temperature(1.0 / scale), Pairing::Matched)
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        let mismatched = sphere_landscape(&angles, temperature(1.0 / scale), Pairing::Mismatched)
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        assert_eq!(argmin(matched), 0.0, "scale {scale}");
        assert!(argmin(mismatched).abs() >= 50.0, "scale {scale}");
    }
}

#[test]
fn the_nine_pairs_match_the_oracle() {
    let case = Case::load("sphere_simulations");
    let (images, texts) = nine_pairs(0.98).unwrap();
    let expected_images =
        embeddings_from_json::<f64, Image>(case.expected(&["init_points_z0.98", "img"]));
    let expected_texts =
        embeddings_from_json::<f64, Text>(case.expected(&["init_points_z0.98", "txt"]));
    assert_eq!(rows_of(&images), expected_images.as_slice());
    assert_eq!(rows_of(&texts), expected_texts.as_slice());
}

#[test]
fn the_nine_pair_landscapes_match_the_oracle() {
    let case = Case::load("sphere_simulations");
    let modes = [
        (NinePairLabels::Paired, "noswap"),
        (NinePairLabels::TorchLiteral, "swap3_8_torch_literal"),
        (NinePairLabels::IntendedSwap, "swap3_8_intended"),
    ];
    for scale in [1, 5, 10, 50, 100, 500, 1000] {
        for (labels, name) in modes {
            let key = format!("init_points_{name}_scale{scale}");
            let zs = case.numbers(&[&key, "z"]);
            let points = nine_pair_landscape(&zs, temperature(1.0 / f64::from(scale)), labels)
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
                .unwrap();
            assert_eq!(column(&points, |p| p.position), zs);
            let loss = column(&points, |p| p.loss);
            assert_all_close(&loss, &case.numbers(&[&key, "loss"]), F64, &key);
        }
    }
}

#[test]
fn the_nine_pairs_close_their_gap_at_height_zero() {
    let points = nine_pair_landscape(&[-0.5, 0.0, 0.5], temperature(1.0), NinePairLabels::Paired)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    assert_eq!(points[1].signed_gap_distance, 0.0);
    assert_close(
        points[2].signed_gap_distance,
        1.0,
        F32_POINTS,
        "2z, f32-rounded points",
    );
    assert_eq!(
        points[0].signed_gap_distance,
        -points[2].signed_gap_distance
    );
}

#[test]
fn out_of_domain_simulations_are_errors() {
    let invalid = |r: Result<_, Error>| matches!(r, Err(Error::InvalidParameter { .. }));
    assert!(invalid(sphere_pairs(f64::NAN, Pairing::Matched).map(drop)));
    assert!(invalid(nine_pairs(1.5).map(drop)));
    // Out-of-domain points are errors when the iterator reaches them.
    let mut nine = nine_pair_landscape(&[1.5], temperature(0.1), NinePairLabels::Paired).unwrap();
    assert!(invalid(nine.next().unwrap().map(drop)));
    let mut six = sphere_landscape(&[f64::NAN], temperature(0.1), Pairing::Matched).unwrap();
    assert!(invalid(six.next().unwrap().map(drop)));
}
