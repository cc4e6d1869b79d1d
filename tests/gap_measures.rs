//! The measures of the gap that follow-up papers report: RMG, the gap by dimension, and the
//! gap after mean-centring (C3), against their definitions.

use crate::common;

use common::{F64, assert_close, rows, unit};
use modality_gap::{
    Embeddings, Error, Image, Text, UnitEmbeddings, align_loss, gap, mean_centred, relative_gap,
};
use proptest::prelude::*;

fn paired_rows() -> impl Strategy<Value = (usize, usize, Vec<f64>, Vec<f64>)> {
    (2usize..20, 1usize..8)
        .prop_flat_map(|(n, d)| (rows(n, d), rows(n, d)).prop_map(move |(a, b)| (n, d, a, b)))
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(p, q)| p * q).sum()
}

/// The mean of xᵢ·xⱼ over i ≠ j, pair by pair, as the reference's masked n × n matrix.
fn within_by_definition(x: &UnitEmbeddings<f64, impl modality_gap::Modality>) -> f64 {
    let n = x.len();
    let total: f64 = (0..n)
        .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
        .map(|(i, j)| dot(x.row(i), x.row(j)))
        .sum();
    total / (n * (n - 1)) as f64
}

proptest! {
    /// RMG from the sum vectors equals the n × n definition, and lies in (0, 1].
    #[test]
    fn relative_gap_follows_its_definition((n, d, a, b) in paired_rows()) {
        let (img, txt) = (unit::<f64, Image>(n, d, &a), unit::<f64, Text>(n, d, &b));
        let rmg = relative_gap(&img, &txt).unwrap();
        let matched = (0..n).map(|i| dot(img.row(i), txt.row(i))).sum::<f64>() / n as f64;
        let matched = ((1.0 - matched) / 2.0).max(1e-3);
        let (da, db) = ((1.0 - within_by_definition(&img)) / 2.0, (1.0 - within_by_definition(&txt)) / 2.0);
        assert_close(rmg.matched, matched, F64, "matched");
        assert_close(rmg.within_a, da, F64, "within a");
        assert_close(rmg.within_b, db, F64, "within b");
        assert_close(rmg.value, matched / (matched + (da + db) / 2.0), F64, "RMG");
        prop_assert!(rmg.value > 0.0 && rmg.value <= 1.0);
        // L2I is the alignment loss at α = 1.
        let distance = |i: usize| img.row(i).iter().zip(txt.row(i)).map(|(p, q)| (p - q).powi(2)).sum::<f64>().sqrt();
        let l2i = (0..n).map(distance).sum::<f64>() / n as f64;
        assert_close(align_loss(&img, &txt, 1.0).unwrap(), l2i, F64, "L2I");
    }

    /// The shares are Δⱼ²/‖Δ‖², sum to 1, and come largest first.
    #[test]
    fn gap_by_dimension_orders_the_shares((n, d, a, b) in paired_rows()) {
        let (img, txt) = (unit::<f64, Image>(n, d, &a), unit::<f64, Text>(n, d, &b));
        let g = gap(&img, &txt).unwrap();
        if g.distance() == 0.0 {
            prop_assert!(matches!(g.by_dimension(), Err(Error::ZeroGap)));
            return Ok(());
        }
        let dims = g.by_dimension().unwrap();
        prop_assert_eq!(dims.len(), d);
        let mut seen: Vec<usize> = dims.iter().map(|s| s.dimension).collect();
        seen.sort_unstable();
        prop_assert_eq!(seen, (0..d).collect::<Vec<_>>());
        for pair in dims.windows(2) {
            prop_assert!(pair[0].difference.abs() >= pair[1].difference.abs());
        }
        for s in &dims {
            prop_assert_eq!(s.difference, g.vector()[s.dimension]);
            assert_close(s.share, s.difference.powi(2) / g.distance().powi(2), F64, "share");
        }
        assert_close(dims.iter().map(|s| s.share).sum(), 1.0, F64, "shares sum to 1");
    }

    /// Centred rows are unit, and each is the normalised difference from the centroid.
    #[test]
    fn mean_centred_rows_are_normalised_differences((n, d, a, _b) in paired_rows()) {
        let img = unit::<f64, Image>(n, d, &a);
        let mean: Vec<f64> = (0..d).map(|k| (0..n).map(|i| img.row(i)[k]).sum::<f64>() / n as f64).collect();
        let differences: Vec<Vec<f64>> = img.rows().map(|r| r.iter().zip(&mean).map(|(x, m)| x - m).collect()).collect();
        let centred = mean_centred(&img);
        // A row within 1e-3 of the centroid would carry the centroid's rounding (ε) into its
        // direction magnified by up to 1e3: such rows are covered by the oracle test below.
        if differences.iter().any(|v| dot(v, v).sqrt() < 1e-3) {
            return Ok(());
        }
        let centred = centred.unwrap();
        for (row, v) in centred.rows().zip(&differences) {
            let norm = dot(v, v).sqrt();
            for (c, x) in row.iter().zip(v) {
                assert_close(*c, x / norm, F64, "normalised difference");
            }
        }
    }
}

#[test]
fn the_gap_measures_reject_degenerate_input() {
    let one =
        UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0]]).unwrap())
            .unwrap();
    let one_text = one.clone().with_modality::<Text>();
    assert!(matches!(
        relative_gap(&one, &one_text),
        Err(Error::TooFewSamples {
            required: 2,
            found: 1
        })
    ));
    assert!(matches!(
        mean_centred(&one),
        Err(Error::TooFewSamples {
            required: 2,
            found: 1
        })
    ));
    let same = UnitEmbeddings::normalize(
        Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [1.0, 0.0]]).unwrap(),
    )
    .unwrap();
    assert!(matches!(
        mean_centred(&same),
        Err(Error::ZeroNorm { row: 0 })
    ));
    let other = UnitEmbeddings::normalize(
        Embeddings::<f64, Text>::from_rows(&[[1.0, 0.0], [0.0, 1.0]]).unwrap(),
    )
    .unwrap();
    assert!(matches!(
        gap(&same, &same.clone().with_modality::<Text>())
            .unwrap()
            .by_dimension(),
        Err(Error::ZeroGap)
    ));
    let wide = UnitEmbeddings::normalize(
        Embeddings::<f64, Text>::from_rows(&[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]).unwrap(),
    )
    .unwrap();
    assert!(matches!(
        relative_gap(&same, &wide),
        Err(Error::DimensionMismatch { .. })
    ));
    let three = UnitEmbeddings::normalize(
        Embeddings::<f64, Text>::from_rows(&[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]).unwrap(),
    )
    .unwrap();
    assert!(matches!(
        relative_gap(&same, &three),
        Err(Error::LengthMismatch { .. })
    ));
    // A gap of 1e-170: Σ Δⱼ² underflows, the shares do not.
    let tiny =
        UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 1e-170]]).unwrap())
            .unwrap();
    let flat =
        UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[1.0, 0.0]]).unwrap())
            .unwrap();
    let dims = gap(&tiny, &flat).unwrap().by_dimension().unwrap();
    assert_eq!(
        (dims[0].dimension, dims[0].share, dims[1].share),
        (1, 1.0, 0.0)
    );
    // Identical pairs: the matched distance takes the reference's floor.
    let rmg = relative_gap(&other.clone().with_modality::<Image>(), &other).unwrap();
    assert_eq!(rmg.matched, 1e-3);
    assert_eq!(rmg.value, 1e-3 / (1e-3 + 0.5));
}

/// The paired cases of the geometry oracle (`tests/data/geometry/make_cases.py`).
const PAIRED_CASES: [&str; 3] = [
    "geometry_tiny_n9_d4",
    "geometry_ties_n12_d4",
    "geometry_medium_n200_d32",
];

/// RMG, L2I, the gap by dimension and mean-centring against the numpy oracle, in f64.
#[test]
fn gap_measures_match_the_oracle() {
    for name in PAIRED_CASES {
        let case = common::Case::load(name);
        let (img, txt) = case.unit_pair();
        let what = |q: &str| format!("{name}: {q}");
        let rmg = relative_gap(&img, &txt).unwrap();
        for (got, key) in [
            (rmg.value, "value"),
            (rmg.matched, "matched"),
            (rmg.within_a, "within_a"),
            (rmg.within_b, "within_b"),
        ] {
            assert_close(got, case.number(&["relative_gap", key]), F64, &what(key));
        }
        let l2i = align_loss(&img, &txt, 1.0).unwrap();
        assert_close(
            l2i,
            case.number(&["mean_paired_distance"]),
            F64,
            &what("L2I"),
        );

        let dims = gap(&img, &txt).unwrap().by_dimension().unwrap();
        let expected_dims = case.numbers(&["gap_by_dimension", "dimension"]);
        let got_dims: Vec<f64> = dims.iter().map(|s| s.dimension as f64).collect();
        assert_eq!(
            got_dims, expected_dims,
            "{name}: the order of the dimensions"
        );
        let differences: Vec<f64> = dims.iter().map(|s| s.difference).collect();
        let shares: Vec<f64> = dims.iter().map(|s| s.share).collect();
        let expected = case.numbers(&["gap_by_dimension", "difference"]);
        common::assert_all_close(&differences, &expected, F64, &what("differences"));
        let expected = case.numbers(&["gap_by_dimension", "share"]);
        common::assert_all_close(&shares, &expected, F64, &what("shares"));

        let (ci, ct) = (mean_centred(&img).unwrap(), mean_centred(&txt).unwrap());
        let expected = common::json_matrix(case.expected(&["mean_centred", "img"]));
        common::assert_all_close(ci.as_slice(), &expected, F64, &what("centred images"));
        let expected = common::json_matrix(case.expected(&["mean_centred", "txt"]));
        common::assert_all_close(ct.as_slice(), &expected, F64, &what("centred texts"));
        let after = |q: &str| case.number(&["mean_centred_metrics", q]);
        let g = gap(&ci, &ct).unwrap().distance();
        assert_close(g, after("gap_distance"), F64, &what("gap after"));
        let rmg = relative_gap(&ci, &ct).unwrap().value;
        assert_close(rmg, after("relative_gap"), F64, &what("RMG after"));
        let recall = modality_gap::retrieval_recall(&ci, &ct, 1).unwrap();
        let expected = case.numbers(&["mean_centred_metrics", "recall_1"]);
        assert_eq!(
            [recall.a_to_b, recall.b_to_a],
            expected[..],
            "{name}: R@1 after"
        );
    }
}
