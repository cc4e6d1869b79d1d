//! Images with several captions each: the COCO protocol against brute force, the 1:1 case as a
//! special case, and the checks of `Captioned::new`.

use crate::common;

use common::{F64, assert_close, shaped_rows, temperature, unit};
use modality_gap::{
    Captioned, Embeddings, Error, Image, Text, UnitEmbeddings, align_loss, contrastive_loss,
    relative_gap, retrieval_ranks,
};
use proptest::prelude::*;

/// Images, captions and a grouping in which every image has a caption: n images, m ≥ n
/// captions, caption j's image from `picks` after the first n (which name each image once).
fn captioned_rows() -> impl Strategy<Value = (usize, usize, usize, Vec<f64>, Vec<f64>, Vec<usize>)>
{
    (2usize..12, 0usize..20, 1usize..8).prop_flat_map(|(n, extra, d)| {
        let m = n + extra;
        (
            shaped_rows(n..n + 1, d..d + 1),
            shaped_rows(m..m + 1, d..d + 1),
            proptest::collection::vec(0..n, extra),
            Just(n),
        )
            .prop_map(move |((_, _, a), (_, _, b), picks, n)| {
                let image_of: Vec<usize> = (0..n).rev().chain(picks).collect();
                (n, m, d, a, b, image_of)
            })
    })
}

/// Two sets of the same shape.
fn paired_rows() -> impl Strategy<Value = (usize, usize, Vec<f64>, Vec<f64>)> {
    (2usize..20, 1usize..8).prop_flat_map(|(n, d)| {
        (common::rows(n, d), common::rows(n, d)).prop_map(move |(a, b)| (n, d, a, b))
    })
}

/// (1/n) Σᵢ over images of the mean cross-entropy of its captions, and (1/m) Σⱼ over captions
/// of the cross-entropy of its image, straight from the logits in f64.
fn grouped_loss_by_definition(
    a: &UnitEmbeddings<f64, Image>,
    b: &UnitEmbeddings<f64, Text>,
    g: &[usize],
    scale: f64,
) -> (f64, f64) {
    let z = |i: usize, j: usize| {
        scale
            * a.row(i)
                .iter()
                .zip(b.row(j))
                .map(|(p, q)| p * q)
                .sum::<f64>()
    };
    let lse = |v: Vec<f64>| {
        let m = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        m + v.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
    };
    let (n, m) = (a.len(), b.len());
    let rows: f64 = (0..n)
        .map(|i| {
            let l = lse((0..m).map(|j| z(i, j)).collect());
            let mine: Vec<usize> = (0..m).filter(|&j| g[j] == i).collect();
            mine.iter().map(|&j| l - z(i, j)).sum::<f64>() / mine.len() as f64
        })
        .sum::<f64>()
        / n as f64;
    let cols: f64 = (0..m)
        .map(|j| lse((0..n).map(|i| z(i, j)).collect()) - z(g[j], j))
        .sum::<f64>()
        / m as f64;
    (rows, cols)
}

proptest! {
    /// With one caption per image (gⱼ = j) every result is bitwise the 1:1 one: the same
    /// kernel dot products, the same reductions.
    #[test]
    fn one_caption_per_image_is_the_paired_case((n, d, a, b) in paired_rows()) {
        let (img, txt) = (unit::<f64, Image>(n, d, &a), unit::<f64, Text>(n, d, &b));
        let coco = Captioned::new(img.clone(), txt.clone(), (0..n).collect()).unwrap();
        prop_assert_eq!(coco.retrieval_ranks(), retrieval_ranks(&img, &txt).unwrap());
        prop_assert_eq!(coco.align_loss(2.0).unwrap(), align_loss(&img, &txt, 2.0).unwrap());
        prop_assert_eq!(coco.relative_gap().unwrap(), relative_gap(&img, &txt).unwrap());
        for tau in [0.01, 0.5] {
            let t = temperature(tau);
            prop_assert_eq!(coco.contrastive_loss(t).unwrap(), contrastive_loss(&img, &txt, t).unwrap());
        }
    }

    /// The COCO ranks, R@K and the multi-positive loss against their definitions.
    #[test]
    fn grouped_metrics_follow_their_definitions((n, m, d, a, b, g) in captioned_rows()) {
        let (img, txt) = (unit::<f64, Image>(n, d, &a), unit::<f64, Text>(m, d, &b));
        let coco = Captioned::new(img.clone(), txt.clone(), g.clone()).unwrap();
        let s = |i: usize, j: usize| img.row(i).iter().zip(txt.row(j)).map(|(p, q)| p * q).sum::<f64>();
        let ranks = coco.retrieval_ranks();
        for i in 0..n {
            // Hit at K iff some caption is among the K best: the rank is the best caption's.
            let best = (0..m).filter(|&j| g[j] == i)
                .map(|c| (0..m).filter(|&j| s(i, j) > s(i, c) || (s(i, j) == s(i, c) && j > c)).count())
                .min().unwrap();
            prop_assert_eq!(ranks.a_to_b()[i], best as u64);
        }
        for (j, (&rank, &image)) in ranks.b_to_a().iter().zip(&g).enumerate() {
            let own = (0..n).filter(|&i| s(i, j) > s(image, j) || (s(i, j) == s(image, j) && i > image)).count();
            prop_assert_eq!(rank, own as u64);
        }
        let recall = coco.retrieval_recall(3).unwrap();
        prop_assert_eq!(recall.a_to_b, ranks.a_to_b().iter().filter(|&&r| r < 3).count() as f64 / n as f64);
        let scale = 20.0;
        let loss = coco.contrastive_loss(temperature(1.0 / scale)).unwrap();
        let (rows, cols) = grouped_loss_by_definition(&img, &txt, &g, scale);
        assert_close(loss.a_to_b, rows, F64, "image → caption loss");
        assert_close(loss.b_to_a, cols, F64, "caption → image loss");
        let align: f64 = (0..m).map(|j| 2.0 - 2.0 * s(g[j], j)).sum::<f64>() / m as f64;
        assert_close(coco.align_loss(2.0).unwrap(), align, F64, "align over the true pairs");
        let rmg = coco.relative_gap().unwrap();
        prop_assert!(rmg.value > 0.0 && rmg.value <= 1.0);
    }
}

#[test]
fn construction_rejects_bad_groupings() {
    let images = UnitEmbeddings::normalize(
        Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 1.0]]).unwrap(),
    )
    .unwrap();
    let captions = UnitEmbeddings::normalize(
        Embeddings::<f64, Text>::from_rows(&[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]).unwrap(),
    )
    .unwrap();
    let new = |g: Vec<usize>| Captioned::new(images.clone(), captions.clone(), g);
    assert!(matches!(
        new(vec![0, 1]),
        Err(Error::LengthMismatch {
            expected: 3,
            found: 2
        })
    ));
    assert!(matches!(
        new(vec![0, 2, 1]),
        Err(Error::InvalidParameter { name: "image_of", value, .. }) if value == 2.0
    ));
    assert!(matches!(
        new(vec![1, 1, 1]),
        Err(Error::InvalidParameter { name: "image_of", value, .. }) if value == 0.0
    ));
    let wide =
        UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[1.0, 0.0, 0.0]]).unwrap())
            .unwrap();
    assert!(matches!(
        Captioned::new(images.clone(), wide, vec![0]),
        Err(Error::DimensionMismatch { .. })
    ));
    let coco = new(vec![0, 1, 1]).unwrap();
    assert!(matches!(
        coco.retrieval_recall(0),
        Err(Error::InvalidParameter { name: "k", .. })
    ));
    assert!(matches!(
        coco.align_loss(0.0),
        Err(Error::InvalidParameter { name: "alpha", .. })
    ));
    let one =
        UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0]]).unwrap())
            .unwrap();
    let lone = Captioned::new(one, captions.clone(), vec![0, 0, 0]).unwrap();
    assert!(matches!(
        lone.relative_gap(),
        Err(Error::TooFewSamples {
            required: 2,
            found: 1
        })
    ));
}

/// The COCO-protocol ranks and recall, the losses and the paired means against the numpy
/// oracle, on cases with groups of 1 to 7 captions and with exact ties.
#[test]
fn captioned_metrics_match_the_oracle() {
    for name in [
        "geometry_captions_n40_m198_d16",
        "geometry_captions_ties_n6_m12_d4",
        "geometry_tiny_n9_d4",
        "geometry_ties_n12_d4",
        "geometry_medium_n200_d32",
    ] {
        let case = common::Case::load(name);
        let (img, txt) = case.unit_pair();
        let coco = Captioned::new(img, txt, case.labels("image_of")).unwrap();
        let at = |keys: &[&str]| {
            let mut path = vec!["captioned"];
            path.extend_from_slice(keys);
            path.iter().map(|k| k.to_string()).collect::<Vec<_>>()
        };
        let number = |keys: &[&str]| {
            let path = at(keys);
            case.number(&path.iter().map(String::as_str).collect::<Vec<_>>())
        };
        let numbers = |keys: &[&str]| {
            let path = at(keys);
            case.numbers(&path.iter().map(String::as_str).collect::<Vec<_>>())
        };
        let ranks = coco.retrieval_ranks();
        let as_f64 = |r: &[u64]| r.iter().map(|&v| v as f64).collect::<Vec<_>>();
        assert_eq!(
            as_f64(ranks.a_to_b()),
            numbers(&["ranks_image_to_text"]),
            "{name}"
        );
        assert_eq!(
            as_f64(ranks.b_to_a()),
            numbers(&["ranks_text_to_image"]),
            "{name}"
        );
        for k in ["1", "5"] {
            let recall = coco.retrieval_recall(k.parse().unwrap()).unwrap();
            assert_eq!(
                [recall.a_to_b, recall.b_to_a],
                numbers(&["recall", k])[..],
                "{name} R@{k}"
            );
        }
        let what = |q: &str| format!("{name}: {q}");
        assert_close(
            coco.align_loss(2.0).unwrap(),
            number(&["align_loss_2"]),
            F64,
            &what("align"),
        );
        assert_close(
            coco.align_loss(1.0).unwrap(),
            number(&["mean_paired_distance"]),
            F64,
            &what("L2I"),
        );
        let rmg = coco.relative_gap().unwrap();
        for (got, key) in [
            (rmg.value, "value"),
            (rmg.matched, "matched"),
            (rmg.within_a, "within_a"),
            (rmg.within_b, "within_b"),
        ] {
            assert_close(got, number(&["relative_gap", key]), F64, &what(key));
        }
        for tau in ["0.01", "0.07"] {
            let loss = coco
                .contrastive_loss(temperature(tau.parse().unwrap()))
                .unwrap();
            for (got, key) in [
                (loss.symmetric, "symmetric"),
                (loss.a_to_b, "a_to_b"),
                (loss.b_to_a, "b_to_a"),
            ] {
                assert_close(
                    got,
                    number(&["contrastive_loss", tau, key]),
                    F64,
                    &what(key),
                );
            }
        }
    }
}
