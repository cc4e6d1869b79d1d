//! Reference tests: the crate reproduces `../shared/oracle/cases/` (copied to tests/data/oracle)
//! for every quantity of the foundation, in f64 and with f32 input.

use crate::common;

use common::{
    Case, F32, F64, assert_all_close, assert_close, embeddings_from_json, json_matrix, temperature,
};
use modality_gap::{
    CosineHistogram, Diagonal, Embeddings, Error, Image, Modality, Scalar, Text, UnitEmbeddings,
    align_loss, contrastive_loss, gap, mean_pairwise_cosine, pairwise_cosine, raw,
    retrieval_recall, top_k, uniform_loss,
};

const PAIRED_CASES: [&str; 3] = ["tiny_n7_d3", "medium_n257_d64", "cones_gap_n300_d32"];

/// Every core metric of one paired case, with inputs rounded to `T`.
fn check_core_metrics<T: Scalar>(name: &str, tol: f64, raw_tol: f64) {
    let case = Case::load(name);
    let what = |q: &str| format!("{name} <{}> {q}", T::NAME);
    let (img_raw, txt_raw) = (
        case.embeddings::<T, Image>("img"),
        case.embeddings::<T, Text>("txt"),
    );
    let (img, txt) = (case.unit::<T, Image>("img"), case.unit::<T, Text>("txt"));

    let g = gap(&img, &txt).unwrap();
    assert_all_close(
        g.vector(),
        &case.numbers(&["gap_vector"]),
        tol,
        &what("gap_vector"),
    );
    assert_all_close(
        &g.direction().unwrap(),
        &case.numbers(&["gap_direction"]),
        tol,
        &what("gap_direction"),
    );
    assert_close(
        g.distance(),
        case.number(&["gap_distance"]),
        tol,
        &what("gap_distance"),
    );

    check_cone(&case, "img", &img, tol, &what("img cone"));
    check_cone(&case, "txt", &txt, tol, &what("txt cone"));

    for alpha in ["1.0", "2.0", "3.0"] {
        let a: f64 = alpha.parse().unwrap();
        let on_sphere = align_loss(&img, &txt, a).unwrap();
        assert_close(
            on_sphere,
            case.number(&["align_loss_normalized", alpha]),
            tol,
            &what("align"),
        );
        let on_raw = raw::align_loss(&img_raw, &txt_raw, a).unwrap();
        assert_close(
            on_raw,
            case.number(&["align_loss_raw", alpha]),
            raw_tol,
            &what("raw align"),
        );
    }

    for t in ["1.0", "2.0", "3.0"] {
        let tv: f64 = t.parse().unwrap();
        for (side, sphere, rows) in [
            (
                "img",
                uniform_loss(&img, tv).unwrap(),
                raw::uniform_loss(&img_raw, tv).unwrap(),
            ),
            (
                "txt",
                uniform_loss(&txt, tv).unwrap(),
                raw::uniform_loss(&txt_raw, tv).unwrap(),
            ),
        ] {
            assert_close(
                sphere,
                case.number(&["uniform_loss_normalized", side, t]),
                tol,
                &what("uniform"),
            );
            assert_close(
                rows,
                case.number(&["uniform_loss_raw", side, t]),
                raw_tol,
                &what("raw uniform"),
            );
            let literal = case.number(&["uniform_loss_literal_raw", side, t]);
            if literal.is_finite() {
                assert_close(rows, literal, raw_tol, &what("raw uniform vs literal"));
            }
        }
    }

    let objective = align_loss(&img, &txt, 2.0).unwrap()
        + 0.5 * (uniform_loss(&img, 2.0).unwrap() + uniform_loss(&txt, 2.0).unwrap());
    assert_close(
        objective,
        case.number(&["align_uniform_objective_normalized_default", "loss"]),
        tol,
        &what("objective"),
    );

    for scale in ["1.0", "10.0", "50.0", "100.0"] {
        let tau = 1.0 / scale.parse::<f64>().unwrap();
        let loss = contrastive_loss(&img, &txt, temperature(tau)).unwrap();
        let expected = |half| case.number(&["clip_loss_normalized", scale, half]);
        assert_close(
            loss.symmetric,
            expected("symmetric"),
            tol,
            &what("clip symmetric"),
        );
        assert_close(loss.a_to_b, expected("i2t"), tol, &what("clip i2t"));
        assert_close(loss.b_to_a, expected("t2i"), tol, &what("clip t2i"));
    }

    // Retrieval is a count of hits: compare counts exactly (numpy's mean of booleans may
    // round the fraction differently in the last place).
    let hits = |fraction: f64| (fraction * img.len() as f64).round() as usize;
    for k in ["1", "5", "10"]
        .into_iter()
        .filter(|k| k.parse::<usize>().unwrap() <= img.len())
    {
        let r = retrieval_recall(&img, &txt, k.parse().unwrap()).unwrap();
        let expected = |key: String| hits(case.number(&["retrieval", k, &key]));
        assert_eq!(
            hits(r.a_to_b),
            expected(format!("Text R@{k}")),
            "{}",
            what("R@k i2t")
        );
        assert_eq!(
            hits(r.b_to_a),
            expected(format!("Image R@{k}")),
            "{}",
            what("R@k t2i")
        );
    }
    let top1 = retrieval_recall(&img, &txt, 1).unwrap().a_to_b;
    assert_eq!(
        hits(top1),
        hits(case.number(&["i2t_top1"])),
        "{}",
        what("i2t top-1")
    );
    let best = top_k(&img, &txt, 1).unwrap();
    let own = (0..img.len()).filter(|&i| best.indices(i) == [i]).count();
    assert_eq!(
        own,
        hits(case.number(&["i2t_top1"])),
        "{}",
        what("top_k i2t")
    );
}

fn check_cone<T: Scalar, M: Modality>(
    case: &Case,
    side: &str,
    x: &UnitEmbeddings<T, M>,
    tol: f64,
    what: &str,
) {
    let excluded = mean_pairwise_cosine(x, Diagonal::Excluded).unwrap();
    assert_close(
        excluded,
        case.number(&["cone_mean_excl_diag", side]),
        tol,
        what,
    );
    assert_close(
        excluded,
        case.number(&["cone_stats", side, "mean"]),
        tol,
        what,
    );
    let included = mean_pairwise_cosine(x, Diagonal::Included).unwrap();
    assert_close(
        included,
        case.number(&["cone_mean_incl_diag_eps1e-16", side]),
        tol,
        what,
    );
    // The oracle describes the n(n−1) ordered pairs (each unordered pair twice); the
    // histogram counts the N = n(n−1)/2 unordered ones. Same mean, min and max; the
    // ddof-1 variances are S/(N − 1) and 2S/(2N − 1), with S = Σ (v − mean)² over the N.
    let stat = |key: &str| case.number(&["cone_stats", side, key]);
    let h = CosineHistogram::within(x, 1000).unwrap();
    let pairs = h.pair_count() as f64;
    assert_eq!(2.0 * pairs, stat("count"), "{what}: pair count");
    assert_close(h.mean(), stat("mean"), tol, what);
    assert_close(h.min(), stat("min"), tol, what);
    assert_close(h.max(), stat("max"), tol, what);
    let ordered_std = h.std().unwrap() * (2.0 * (pairs - 1.0) / (2.0 * pairs - 1.0)).sqrt();
    assert_close(ordered_std, stat("std_ddof1"), tol, what);
}

#[test]
fn core_metrics_match_the_oracle_in_f64() {
    for name in PAIRED_CASES {
        check_core_metrics::<f64>(name, F64, F64);
    }
}

#[test]
fn core_metrics_match_the_oracle_with_f32_input() {
    for name in PAIRED_CASES {
        check_core_metrics::<f32>(name, F32, F32);
    }
}

#[test]
fn the_cosine_matrix_matches_the_oracle() {
    let case = Case::load("tiny_n7_d3");
    let expected = json_matrix(case.expected(&["cosine_matrix_img"]));
    // `expected` is row-major; nalgebra stores the n × n matrix column-major.
    let img = case.unit::<f64, Image>("img");
    let matrix = pairwise_cosine(&img, &img).unwrap().transpose();
    assert_eq!(matrix.shape(), (7, 7));
    assert_all_close(matrix.as_slice(), &expected, F64, "cosine matrix f64");
    let img = case.unit::<f32, Image>("img");
    let matrix = pairwise_cosine(&img, &img).unwrap().transpose();
    assert_all_close(matrix.as_slice(), &expected, F32, "cosine matrix f32");
}

/// The cones case has unit rows already: accepting them as they are gives the oracle's
/// unnormalised gap and raw CLIP loss, which equal the normalised ones.
#[test]
fn unit_rows_accepted_as_they_are_match_the_raw_oracle_values() {
    let case = Case::load("cones_gap_n300_d32");
    let img = UnitEmbeddings::verify_unit(case.embeddings::<f64, Image>("img"), 1e-12).unwrap();
    let txt = UnitEmbeddings::verify_unit(case.embeddings::<f64, Text>("txt"), 1e-12).unwrap();
    let expected_gap = case.number(&["gap_distance_raw_no_normalization"]);
    assert_close(
        gap(&img, &txt).unwrap().distance(),
        expected_gap,
        F64,
        "raw gap",
    );
    let expected_clip = case.number(&["clip_loss_raw_symmetric_scale1"]);
    assert_close(
        contrastive_loss(&img, &txt, temperature(1.0))
            .unwrap()
            .symmetric,
        expected_clip,
        F64,
        "raw clip",
    );
}

fn edge() -> Case {
    Case::load("edge_cases")
}

fn edge_rows(path: &[&str]) -> Embeddings<f64, Image> {
    embeddings_from_json(edge().expected(path))
}

fn edge_unit(path: &[&str]) -> UnitEmbeddings<f64, Image> {
    UnitEmbeddings::normalize(edge_rows(path)).unwrap()
}

#[test]
fn edge_uniformity_of_identical_rows_is_zero() {
    let x = edge_unit(&["uniform_identical_rows", "x"]);
    assert_eq!(
        uniform_loss(&x, 2.0).unwrap(),
        edge().number(&["uniform_identical_rows", "t2"])
    );
}

#[test]
fn edge_uniformity_of_two_orthogonal_rows_is_minus_2t() {
    let x = edge_unit(&["uniform_n2_orthogonal", "x"]);
    assert_close(
        uniform_loss(&x, 2.0).unwrap(),
        edge().number(&["uniform_n2_orthogonal", "t2"]),
        F64,
        "n2",
    );
}

#[test]
fn edge_uniformity_of_one_row_is_an_error_where_the_peers_give_nan() {
    assert!(edge().number(&["uniform_n1", "t2"]).is_nan());
    let x = edge_rows(&["uniform_n1", "x"]);
    let err = raw::uniform_loss(&x, 2.0).unwrap_err();
    assert!(
        matches!(
            err,
            Error::TooFewSamples {
                required: 2,
                found: 1
            }
        ),
        "{err:?}"
    );
}

#[test]
fn edge_uniformity_stays_finite_where_the_literal_code_underflows() {
    let case = edge();
    assert_eq!(
        case.number(&["uniform_underflow", "literal_t2"]),
        f64::NEG_INFINITY
    );
    let x = edge_rows(&["uniform_underflow", "x"]);
    let expected = case.number(&["uniform_underflow", "stable_t2"]);
    assert_close(
        raw::uniform_loss(&x, 2.0).unwrap(),
        expected,
        F64,
        "underflow",
    );
}

#[test]
fn edge_alignment_values() {
    let case = edge();
    let x = edge_unit(&["align_identical", "x"]);
    let y = edge_unit(&["align_identical", "y"]);
    assert_eq!(
        align_loss(&x, &y, 2.0).unwrap(),
        case.number(&["align_identical", "alpha2"])
    );
    let (x, y) = (
        edge_rows(&["align_hand", "x"]),
        edge_rows(&["align_hand", "y"]),
    );
    assert_close(
        raw::align_loss(&x, &y, 1.0).unwrap(),
        case.number(&["align_hand", "alpha1"]),
        F64,
        "α=1",
    );
    assert_close(
        raw::align_loss(&x, &y, 2.0).unwrap(),
        case.number(&["align_hand", "alpha2"]),
        F64,
        "α=2",
    );
}

#[test]
fn edge_equal_sets_have_zero_gap_and_no_direction() {
    let case = edge();
    let x = edge_unit(&["gap_equal_sets", "x"]);
    let g = gap(&x, &x).unwrap();
    assert_eq!(
        g.distance(),
        case.number(&["gap_equal_sets", "gap_distance"])
    );
    assert!(
        case.numbers(&["gap_equal_sets", "gap_direction"])
            .iter()
            .all(|v| v.is_nan())
    );
    assert!(matches!(g.direction(), Err(Error::ZeroGap)));
}

#[test]
fn edge_zero_row_is_an_error_where_the_peers_give_nan() {
    let case = edge();
    let err = UnitEmbeddings::normalize(edge_rows(&["normalize_zero_row", "x"])).unwrap_err();
    assert!(matches!(err, Error::ZeroNorm { row: 0 }), "{err:?}");
    // The non-zero row normalises as the oracle's does.
    let row = &case.expected(&["normalize_zero_row", "x"])[1];
    let one = embeddings_from_json::<f64, Image>(&serde_json::json!([row]));
    let expected = &case.expected(&["normalize_zero_row", "eps0"])[1];
    let expected: Vec<f64> = expected
        .as_array()
        .unwrap()
        .iter()
        .map(common::number)
        .collect();
    assert_all_close(
        UnitEmbeddings::normalize(one).unwrap().row(0),
        &expected,
        F64,
        "row",
    );
}

#[test]
fn edge_cone_of_one_row_is_an_error_and_antipodal_rows_give_minus_one() {
    let case = edge();
    let one = edge_unit(&["cone_n1_excl_diag", "x"]);
    assert!(case.number(&["cone_n1_excl_diag", "value"]).is_nan());
    assert!(matches!(
        mean_pairwise_cosine(&one, Diagonal::Excluded),
        Err(Error::TooFewSamples {
            required: 2,
            found: 1
        })
    ));
    let x = edge_unit(&["cone_antipodal", "x"]);
    assert_eq!(
        mean_pairwise_cosine(&x, Diagonal::Excluded).unwrap(),
        case.number(&["cone_antipodal", "excl"])
    );
    assert_eq!(
        mean_pairwise_cosine(&x, Diagonal::Included).unwrap(),
        case.number(&["cone_antipodal", "incl"])
    );
}

#[test]
fn edge_contrastive_loss_of_identity_and_collapsed_pairs() {
    let case = edge();
    let img = edge_unit(&["clip_loss_identity_pairs", "img"]);
    let txt = edge_unit(&["clip_loss_identity_pairs", "txt"]);
    let at = |tau| {
        contrastive_loss(&img, &txt, temperature(tau))
            .unwrap()
            .symmetric
    };
    assert_close(
        at(1.0),
        case.number(&["clip_loss_identity_pairs", "scale1"]),
        F64,
        "identity τ=1",
    );
    assert_close(
        at(0.01),
        case.number(&["clip_loss_identity_pairs", "scale100"]),
        F64,
        "identity τ=0.01",
    );
    let img = edge_unit(&["clip_loss_collapsed", "img"]);
    let txt = edge_unit(&["clip_loss_collapsed", "txt"]);
    for tau in [1.0, 0.1, 0.01, 1e-4] {
        let loss = contrastive_loss(&img, &txt, temperature(tau))
            .unwrap()
            .symmetric;
        assert_close(
            loss,
            case.number(&["clip_loss_collapsed", "any_scale"]),
            F64,
            "collapsed",
        );
    }
}
