//! Sharded passes (`modality_gap::shard`): any number of shards, each over its plan's tiles,
//! merged in tile order in any grouping, give the bits of the single-process metric; every
//! misuse is a typed error.

use crate::common;

use common::random_unit;
use std::ops::Range;

use modality_gap::shard::{
    self, ContrastiveJackknifeTile, JackknifeTile, Part, Plan, SeparabilityFit, SeparabilityTile,
    UniformJackknifeTile,
};
use modality_gap::{
    Captioned, Centring, CosineHistogram, Diagonal, Embeddings, Error, HsicEstimator, Image,
    Modality, Scalar, ShardError, Spectrum, Temperature, Text, UnitEmbeddings, align_loss,
    batched_contrastive_loss, cka, cknna, contrastive_loss, contrastive_loss_with_targets,
    cosine_quantiles_between, cosine_quantiles_within, cross_modal_uniformity, effective_rank,
    isoscore, jackknife, mean_pairwise_cosine, modality_separability, mutual_knn, relative_gap,
    retrieval_ranks, svcca, top_k, uniform_loss,
};
use proptest::prelude::*;

/// The parts of `shards` shards merged as `grouping` says: left to right, or each pair of
/// neighbours first and then the pairs (a different association of the same order).
fn merged<S>(parts: Vec<Part<S>>, pairwise: bool) -> Part<S> {
    let mut parts = parts;
    while parts.len() > 1 {
        if pairwise {
            let mut next = Vec::new();
            let mut it = parts.into_iter();
            while let Some(left) = it.next() {
                next.push(match it.next() {
                    Some(right) => left.merge(right).unwrap(),
                    None => left,
                });
            }
            parts = next;
        } else {
            let rest = parts.split_off(1);
            let first = parts.pop().unwrap();
            parts = vec![rest.into_iter().fold(first, |a, b| a.merge(b).unwrap())];
        }
    }
    parts.pop().unwrap()
}

/// Every shard's part of a plan, in rank order.
fn parts<S>(
    plan: &Plan,
    shards: usize,
    part: impl Fn(std::ops::Range<usize>) -> Result<Part<S>, Error>,
) -> Vec<Part<S>> {
    (0..shards)
        .map(|rank| part(plan.shard(rank, shards).unwrap()).unwrap())
        .collect()
}

fn same_bits<T: Scalar>(n: usize, d: usize, shards: usize, pairwise: bool, seed: u64) {
    let a = random_unit::<T, Image>(n, d, 1.5, seed);
    let b = random_unit::<T, Text>(n, d, -1.0, seed + 1);
    let t = 2.0;
    let plan = Plan::uniform_loss(&a, t).unwrap();
    let part = merged(
        parts(&plan, shards, |r| shard::uniform_loss(&plan, &a, r)),
        pairwise,
    );
    assert_eq!(
        part.finish().unwrap().to_bits(),
        uniform_loss(&a, t).unwrap().to_bits(),
        "uniformity, n = {n}, d = {d}, {shards} shards"
    );

    let plan = Plan::cross_modal_uniformity(&a, &b, t).unwrap();
    let part = |r| shard::cross_modal_uniformity(&plan, &a, &b, r);
    let value = merged(parts(&plan, shards, part), pairwise).finish();
    assert_eq!(
        format!("{:?}", value.map(f64::to_bits)),
        format!("{:?}", cross_modal_uniformity(&a, &b, t).map(f64::to_bits)),
        "cross-modal uniformity"
    );
    if n >= 3 {
        uniformity_jackknives(&a, &b, shards, pairwise);
    }
    contrastive_jackknife(&a, &b, Temperature::CLIP, shards, pairwise);
    if n >= 5 {
        separability_over_shards(&a, &b, shards, pairwise);
    }

    for alpha in [2.0, 1.0, 0.5] {
        let plan = Plan::align_loss(&a, &b, alpha).unwrap();
        let part = |r| shard::align_loss(&plan, &a, &b, r);
        let value = merged(parts(&plan, shards, part), pairwise).finish();
        assert_eq!(
            format!("{:?}", value.map(f64::to_bits)),
            format!("{:?}", align_loss(&a, &b, alpha).map(f64::to_bits)),
            "alignment, α = {alpha}"
        );
    }

    let plan = Plan::relative_gap(&a, &b);
    let value = plan.and_then(|plan| {
        let part = |r| shard::relative_gap(&plan, &a, &b, r);
        merged(parts(&plan, shards, part), pairwise).finish()
    });
    assert_eq!(
        format!("{value:?}"),
        format!("{:?}", relative_gap(&a, &b)),
        "relative gap"
    );

    jackknives_in_two_rounds(&a, &b, shards, pairwise);

    let tau = Temperature::new(0.05).unwrap();
    let plan = Plan::contrastive_loss(&a, &b, tau).unwrap();
    let part = |r| shard::contrastive_loss(&plan, &a, &b, r);
    let loss = merged(parts(&plan, shards, part), pairwise)
        .finish()
        .unwrap();
    assert_eq!(loss, contrastive_loss(&a, &b, tau).unwrap(), "contrastive");
    // Batches of more pairs than n (at n = 2) are an error of the plan, as in memory.
    for size in [1, 3, n] {
        let plan = Plan::batched_contrastive_loss(&a, &b, tau, size);
        let loss = plan.and_then(|plan| {
            let part = |r| shard::batched_contrastive_loss(&plan, &a, &b, r);
            merged(parts(&plan, shards, part), pairwise).finish()
        });
        assert_eq!(
            format!("{loss:?}"),
            format!("{:?}", batched_contrastive_loss(&a, &b, tau, size)),
            "batches of {size}"
        );
    }

    // Targets of our choosing: mismatched pairs.
    let targets: Vec<usize> = (0..n).map(|i| (i * 7 + 3) % n).collect();
    let plan = Plan::contrastive_loss_with_targets(&a, &b, tau, &targets).unwrap();
    let part = |r| shard::contrastive_loss_with_targets(&plan, &a, &b, &targets, r);
    let loss = merged(parts(&plan, shards, part), pairwise).finish();
    assert_eq!(
        format!("{loss:?}"),
        format!("{:?}", contrastive_loss_with_targets(&a, &b, tau, &targets)),
        "contrastive with targets"
    );

    // COCO style: a third of the rows as images, each text a caption of one of them.
    let images = a.select(&(0..n.div_ceil(3)).collect::<Vec<_>>()).unwrap();
    let image_of = (0..n).map(|j| j % images.len()).collect();
    let coco = Captioned::new(images, b.clone(), image_of).unwrap();
    let plan = Plan::captioned_contrastive_loss(&coco, tau);
    let part = |r| shard::captioned_contrastive_loss(&plan, &coco, r);
    let loss = merged(parts(&plan, shards, part), pairwise).finish();
    assert_eq!(
        format!("{loss:?}"),
        format!("{:?}", coco.contrastive_loss(tau)),
        "COCO contrastive"
    );
    for alpha in [2.0, 0.5] {
        let plan = Plan::captioned_align_loss(&coco, alpha).unwrap();
        let part = |r| shard::captioned_align_loss(&plan, &coco, r);
        let value = merged(parts(&plan, shards, part), pairwise).finish();
        assert_eq!(
            format!("{:?}", value.map(f64::to_bits)),
            format!("{:?}", coco.align_loss(alpha).map(f64::to_bits)),
            "COCO alignment, α = {alpha}"
        );
    }
    let plan = Plan::captioned_relative_gap(&coco);
    let value = plan.and_then(|plan| {
        let part = |r| shard::captioned_relative_gap(&plan, &coco, r);
        merged(parts(&plan, shards, part), pairwise).finish()
    });
    assert_eq!(
        format!("{value:?}"),
        format!("{:?}", coco.relative_gap()),
        "COCO relative gap"
    );

    // Retrieval ranks, and with ties: every other text a copy of its neighbour's image.
    let copies = a
        .select(&(0..n).map(|i| i / 2 * 2).collect::<Vec<_>>())
        .unwrap()
        .with_modality::<Text>();
    for (b, what) in [(&b, "retrieval ranks"), (&copies, "tied retrieval ranks")] {
        let plan = Plan::retrieval_ranks(&a, b).unwrap();
        let part = |r| shard::retrieval_ranks(&plan, &a, b, r);
        let ranks = merged(parts(&plan, shards, part), pairwise)
            .finish()
            .unwrap();
        assert_eq!(ranks, retrieval_ranks(&a, b).unwrap(), "{what}");
    }

    let plan = Plan::cosine_histogram_within(&a, 50).unwrap();
    let part = |r| shard::cosine_histogram_within(&plan, &a, r);
    let h = merged(parts(&plan, shards, part), pairwise)
        .finish()
        .unwrap();
    assert_eq!(
        h,
        CosineHistogram::within(&a, 50).unwrap(),
        "histogram within"
    );

    // Exact quantiles in two rounds, within A (its copies tie) and between A and B.
    let qs = [0.0, 0.1, 0.5, 0.75, 1.0];
    let within = |x: &UnitEmbeddings<T, Image>| {
        let plan = Plan::cosine_quantiles_within(x).unwrap();
        let counts = |r| shard::cosine_quantile_counts_within(&plan, x, r);
        let selection = merged(parts(&plan, shards, counts), pairwise).finish(&qs);
        selection.and_then(|selection| {
            let values = |r| shard::cosine_quantile_values_within(&plan, &selection, x, r);
            merged(parts(&plan, shards, values), !pairwise).finish(&selection)
        })
    };
    let tied = copies.clone().with_modality::<Image>();
    for (x, what) in [(&a, "quantiles within"), (&tied, "tied quantiles within")] {
        assert_eq!(
            format!("{:?}", within(x)),
            format!("{:?}", cosine_quantiles_within(x, &qs)),
            "{what}"
        );
    }
    let plan = Plan::cosine_quantiles_between(&a, &b).unwrap();
    let counts = |r| shard::cosine_quantile_counts_between(&plan, &a, &b, r);
    let selection = merged(parts(&plan, shards, counts), pairwise).finish(&qs);
    let quantiles = selection.and_then(|selection| {
        let values = |r| shard::cosine_quantile_values_between(&plan, &selection, &a, &b, r);
        merged(parts(&plan, shards, values), pairwise).finish(&selection)
    });
    assert_eq!(
        format!("{quantiles:?}"),
        format!("{:?}", cosine_quantiles_between(&a, &b, &qs)),
        "quantiles between"
    );

    let b = b.select(&(0..n / 3 + 1).collect::<Vec<_>>()).unwrap();
    let plan = Plan::cosine_histogram_between(&a, &b, 7).unwrap();
    let part = |r| shard::cosine_histogram_between(&plan, &a, &b, r);
    let h = merged(parts(&plan, shards, part), pairwise)
        .finish()
        .unwrap();
    assert_eq!(
        h,
        CosineHistogram::between(&a, &b, 7).unwrap(),
        "histogram between"
    );

    for k in [1, 5, n] {
        let plan = Plan::top_k(&a, &b, k).unwrap();
        let part = |r| shard::top_k(&plan, &a, &b, r);
        let found = merged(parts(&plan, shards, part), pairwise)
            .finish()
            .unwrap();
        assert_eq!(found, top_k(&a, &b, k).unwrap(), "top {k}");
    }

    let plan = Plan::row_sums(&a).unwrap();
    let part = |r| shard::row_sums(&plan, &a, r);
    let sums = merged(parts(&plan, shards, part), pairwise)
        .finish()
        .unwrap();
    assert_eq!(
        sums.centroid().unwrap(),
        modality_gap::centroid(&a),
        "centroid"
    );
    assert_eq!(
        sums.mean_pairwise_cosine(Diagonal::Excluded)
            .unwrap()
            .to_bits(),
        mean_pairwise_cosine(&a, Diagonal::Excluded)
            .unwrap()
            .to_bits(),
        "cone"
    );

    let x = a.as_embeddings();
    for (spectrum, centring) in [
        (Spectrum::SingularValues, Centring::Mean),
        (Spectrum::Variances, Centring::None),
    ] {
        let plan = Plan::effective_rank(x, spectrum, centring).unwrap();
        let part = |r| shard::effective_rank(&plan, x, r);
        let erank = merged(parts(&plan, shards, part), pairwise)
            .finish()
            .unwrap();
        assert_eq!(
            erank,
            effective_rank(x, spectrum, centring).unwrap(),
            "effective rank"
        );
    }
    // CKA against a set of another dimension; the errors of too few rows agree too.
    let y = random_unit::<T, Text>(n, d + 3, 0.5, seed + 2);
    let y = y.as_embeddings();
    for estimator in [HsicEstimator::Biased, HsicEstimator::Unbiased] {
        let expected = cka(x, y, estimator).map(f64::to_bits);
        let sharded = Plan::cka(x, y, estimator).and_then(|plan| {
            let part = |r| shard::cka(&plan, x, y, r);
            merged(parts(&plan, shards, part), pairwise).finish()
        });
        assert_eq!(
            format!("{:?}", sharded.map(f64::to_bits)),
            format!("{expected:?}"),
            "CKA, {estimator:?}"
        );
    }
    // SVCCA against the same set of another dimension, at each q up to past the rank; the
    // errors agree too (too few rows, q too large, a subspace below rounding).
    for q in [1, 2, d, d + 1] {
        let expected = svcca(x, y, q).map(f64::to_bits);
        let sharded = Plan::svcca(x, y, q).and_then(|plan| {
            let part = |r| shard::svcca(&plan, x, y, r);
            merged(parts(&plan, shards, part), pairwise).finish()
        });
        assert_eq!(
            format!("{:?}", sharded.map(f64::to_bits)),
            format!("{expected:?}"),
            "SVCCA, q = {q}"
        );
    }
    // The k-NN alignments from both sets' lists within themselves; their errors agree too.
    for k in [1, 2, 7] {
        let knn = [
            (
                mutual_knn(x, y, k),
                Plan::mutual_knn(x, y, k),
                "mutual k-NN",
            ),
            (cknna(x, y, k), Plan::cknna(x, y, k), "CKNNA"),
        ];
        for (expected, plan, what) in knn {
            let sharded = plan.and_then(|plan| {
                let part = |r| shard::neighbours(&plan, x, y, r);
                merged(parts(&plan, shards, part), pairwise).finish()
            });
            assert_eq!(
                format!("{:?}", sharded.map(f64::to_bits)),
                format!("{:?}", expected.map(f64::to_bits)),
                "{what}, k = {k}"
            );
        }
    }
    if d >= 2 {
        let plan = Plan::isoscore(x).unwrap();
        let part = |r| shard::isoscore(&plan, x, r);
        let score = merged(parts(&plan, shards, part), pairwise)
            .finish()
            .unwrap();
        assert_eq!(score.to_bits(), isoscore(x).unwrap().to_bits(), "IsoScore");
    }
}

/// The jackknives of the uniformities over `shards` shards, merged as `pairwise` says: the
/// value and the deviations of the in-memory jackknife, to the bit.
fn uniformity_jackknives<T: Scalar>(
    a: &UnitEmbeddings<T, Image>,
    b: &UnitEmbeddings<T, Text>,
    shards: usize,
    pairwise: bool,
) {
    let t = 2.0;
    let plan = Plan::uniform_loss(a, t).unwrap();
    let part = |r| shard::jackknife::uniform_loss(&plan, a, r);
    let whole = merged(parts(&plan, shards, part), pairwise);
    assert_eq!(
        whole.finish().unwrap(),
        jackknife::uniform_loss(a, t).unwrap(),
        "the uniformity's jackknife, n = {}, {shards} shards",
        a.len()
    );
    let plan = Plan::cross_modal_uniformity(a, b, t).unwrap();
    let part = |r| shard::jackknife::cross_modal_uniformity(&plan, a, b, r);
    let whole = merged(parts(&plan, shards, part), pairwise);
    assert_eq!(
        whole.finish().unwrap(),
        jackknife::cross_modal_uniformity(a, b, t).unwrap(),
        "the cross-modal uniformity's jackknife"
    );
}

/// The contrastive loss's jackknife over `shards` shards in two rounds (the loss's tiles
/// finished into the cross-entropies, then the second pass's tiles), merged as `pairwise`
/// says: the in-memory jackknife's value and deviations, to the bit (or its error).
fn contrastive_jackknife<T: Scalar>(
    a: &UnitEmbeddings<T, Image>,
    b: &UnitEmbeddings<T, Text>,
    tau: Temperature,
    shards: usize,
    pairwise: bool,
) {
    let plan = Plan::contrastive_loss(a, b, tau).unwrap();
    let first = |r| shard::contrastive_loss(&plan, a, b, r);
    let first = merged(parts(&plan, shards, first), pairwise);
    let cross_entropies = first.cross_entropies().unwrap();
    let second = (0..shards)
        .map(|rank| {
            let tiles = plan.shard(rank, shards).unwrap();
            shard::jackknife::contrastive_loss(&plan, a, b, &cross_entropies, tiles)
        })
        .collect::<Result<Vec<_>, _>>();
    let got = format!(
        "{:?}",
        second.and_then(|parts| merged(parts, pairwise).finish(&cross_entropies))
    );
    let expected = format!("{:?}", jackknife::contrastive_loss(a, b, tau));
    assert!(
        got == expected,
        "the contrastive loss's jackknife, n = {}, {shards} shards: {}… against {}…",
        a.len(),
        &got[..got.len().min(120)],
        &expected[..expected.len().min(120)]
    );
}

/// The held-out separability fitted over `shards` shards (every round's parts merged as
/// `pairwise` says): the in-memory value, to the bit.
fn separability_over_shards<T: Scalar, A: Modality, B: Modality>(
    a: &UnitEmbeddings<T, A>,
    b: &UnitEmbeddings<T, B>,
    shards: usize,
    pairwise: bool,
) {
    let plan = Plan::modality_separability(a, b).unwrap();
    let mut fit = SeparabilityFit::new(&plan, a, b).unwrap();
    let mut rounds = 0;
    let separability = loop {
        let round = fit.round();
        let part = |r| shard::modality_separability(&plan, a, b, &round, r);
        rounds += 1;
        if let Some(done) = fit
            .advance(merged(parts(&plan, shards, part), pairwise))
            .unwrap()
        {
            break done;
        }
    };
    assert!(rounds >= 3, "{rounds} rounds");
    assert_eq!(
        separability,
        modality_separability(a, b).unwrap(),
        "the separability, n = {}, m = {}, {shards} shards",
        a.len(),
        b.len()
    );
}

/// The jackknives of the O(n·d) metrics over `shards` shards: the row sums of each set (the
/// first round), then each row's values (the second), merged as `pairwise` says; the value and
/// the deviations of the in-memory jackknife, to the bit (or its error).
fn jackknives_in_two_rounds<T: Scalar>(
    a: &UnitEmbeddings<T, Image>,
    b: &UnitEmbeddings<T, Text>,
    shards: usize,
    pairwise: bool,
) {
    let plan = Plan::row_sums(a).unwrap();
    let sums_a = merged(
        parts(&plan, shards, |r| shard::row_sums(&plan, a, r)),
        pairwise,
    );
    let sums_b = merged(
        parts(&plan, shards, |r| shard::row_sums(&plan, b, r)),
        pairwise,
    );
    let (sums_a, sums_b) = (sums_a.finish().unwrap(), sums_b.finish().unwrap());
    let two_rounds =
        |plan: &Plan, part: &dyn Fn(Range<usize>) -> Result<Part<JackknifeTile>, Error>| {
            let parts = (0..shards)
                .map(|rank| part(plan.shard(rank, shards).unwrap()))
                .collect::<Result<Vec<_>, _>>();
            format!(
                "{:?}",
                parts.and_then(|parts| merged(parts, pairwise).finish())
            )
        };
    let sums = (&sums_a, &sums_b);
    assert_eq!(
        two_rounds(&plan, &|r| shard::jackknife::gap(&plan, a, b, sums, r)),
        format!("{:?}", jackknife::gap(a, b)),
        "the gap's jackknife"
    );
    for diagonal in [Diagonal::Excluded, Diagonal::Included] {
        let part = |r| shard::jackknife::mean_pairwise_cosine(&plan, a, diagonal, &sums_a, r);
        assert_eq!(
            two_rounds(&plan, &part),
            format!("{:?}", jackknife::mean_pairwise_cosine(a, diagonal)),
            "the cone's jackknife, {diagonal:?}"
        );
    }
    assert_eq!(
        two_rounds(&plan, &|r| shard::jackknife::relative_gap(
            &plan, a, b, sums, r
        )),
        format!("{:?}", jackknife::relative_gap(a, b)),
        "the relative gap's jackknife"
    );
    let plan = Plan::align_loss(a, b, 1.5).unwrap();
    assert_eq!(
        two_rounds(&plan, &|r| shard::jackknife::align_loss(&plan, a, b, r)),
        format!("{:?}", jackknife::align_loss(a, b, 1.5)),
        "the alignment's jackknife"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Odd shapes (one tile to several), both element types, 1 to 7 shards (more shards than
    /// tiles leaves some empty), both groupings of the merges.
    #[test]
    fn shards_merged_in_order_give_the_single_process_bits(
        n in 2usize..2600,
        d in 1usize..20,
        shards in 1usize..8,
        pairwise in any::<bool>(),
        wide in any::<bool>(),
        seed in 0u64..1000,
    ) {
        if wide {
            same_bits::<f64>(n, d, shards, pairwise, seed);
        } else {
            same_bits::<f32>(n, d, shards, pairwise, seed);
        }
    }
}

#[test]
fn plans_of_large_sets_have_several_balanced_tiles() {
    let x = random_unit::<f32, Image>(3000, 16, 0.0, 1);
    let plan = Plan::uniform_loss(&x, 2.0).unwrap();
    assert!(plan.tiles() >= 4, "{} tiles", plan.tiles());
    assert_eq!(plan.pairs(0..plan.tiles()), 3000 * 2999 / 2);
    let shares: Vec<u64> = (0..2)
        .map(|rank| plan.pairs(plan.shard(rank, 2).unwrap()))
        .collect();
    let ratio = shares[0] as f64 / shares[1] as f64;
    assert!((0.8..1.25).contains(&ratio), "{shares:?}");
    // More shards than tiles: the tail gets none, and every tile is still in one shard.
    let ranges: Vec<_> = (0..9).map(|r| plan.shard(r, 9).unwrap()).collect();
    assert_eq!(ranges[0].start, 0);
    assert_eq!(ranges[8].end, plan.tiles());
    assert!(ranges.windows(2).all(|w| w[0].end == w[1].start));
}

/// Past 16384 columns the contrastive loss and the retrieval ranks cut their columns too:
/// each row task against each panel, so that more shards share the work, merged to the same
/// bits (the rows' log-sum-exps fold panel after panel in one process too).
#[test]
fn wide_passes_cut_the_columns_into_panels_for_more_shards() {
    fn check<T: Scalar>(n: usize, ranks: bool) {
        let a = random_unit::<T, Image>(n, 3, 0.8, 21);
        let b = random_unit::<T, Text>(n, 3, -0.6, 22);
        let tau = Temperature::new(0.02).unwrap();
        let plan = Plan::contrastive_loss(&a, &b, tau).unwrap();
        let single = Plan::contrastive_loss(
            &a.select(&[0, 1]).unwrap(),
            &b.select(&[0, 1]).unwrap(),
            tau,
        )
        .unwrap();
        assert_eq!(single.tiles(), 1);
        // Two panels of each row task.
        assert!(
            plan.tiles() >= 8 && plan.tiles().is_multiple_of(2),
            "{} tiles",
            plan.tiles()
        );
        // Panels of equal numbers of whole blocks: tiles of about equal work.
        let pairs: Vec<u64> = (0..plan.tiles()).map(|k| plan.pairs(k..k + 1)).collect();
        let (least, most) = (pairs.iter().min().unwrap(), pairs.iter().max().unwrap());
        assert!(*most as f64 <= 1.2 * *least as f64, "{pairs:?}");
        let shards = plan.tiles();
        assert!((0..shards).all(|r| !plan.shard(r, shards).unwrap().is_empty()));
        let part = |r| shard::contrastive_loss(&plan, &a, &b, r);
        let loss = merged(parts(&plan, shards, part), true).finish().unwrap();
        assert_eq!(loss, contrastive_loss(&a, &b, tau).unwrap(), "{}", T::NAME);
        // The second pass of the jackknife adds each row's sums panel after panel.
        contrastive_jackknife(&a, &b, tau, 3, false);
        if ranks {
            let plan = Plan::retrieval_ranks(&a, &b).unwrap();
            let part = |r| shard::retrieval_ranks(&plan, &a, &b, r);
            let got = merged(parts(&plan, 5, part), false).finish().unwrap();
            assert_eq!(got, retrieval_ranks(&a, &b).unwrap());
        }
    }
    check::<f32>(16384 + 1100, true);
    check::<f64>(16384 + 1100, false);
}

/// COCO-style retrieval and loss (five captions an image, 17500 captions: two panels) over
/// shards: the ranks of `Captioned::retrieval_ranks` and the bits of
/// `Captioned::contrastive_loss`; a part of another grouping is another plan's.
#[test]
fn captioned_passes_over_shards_give_the_coco_values() {
    let images = random_unit::<f32, Image>(3500, 4, 0.5, 41);
    let captions = random_unit::<f32, Text>(17500, 4, -0.2, 42);
    // 13 is prime to 3500: every image gets five captions, scattered.
    let image_of: Vec<usize> = (0..17500).map(|j| j * 13 % 3500).collect();
    let coco = Captioned::new(images.clone(), captions.clone(), image_of.clone()).unwrap();
    let plan = Plan::captioned_retrieval_ranks(&coco);
    assert!(
        plan.tiles() >= 4 && plan.tiles().is_multiple_of(2),
        "{}",
        plan.tiles()
    );
    let expected = coco.retrieval_ranks();
    for shards in [1, 3, plan.tiles()] {
        let part = |r| shard::captioned_retrieval_ranks(&plan, &coco, r);
        let ranks = merged(parts(&plan, shards, part), shards == 3)
            .finish()
            .unwrap();
        assert_eq!(ranks, expected, "{shards} shards");
    }
    let tau = Temperature::new(0.07).unwrap();
    let loss_plan = Plan::captioned_contrastive_loss(&coco, tau);
    assert_eq!(loss_plan.tiles(), plan.tiles());
    let expected = coco.contrastive_loss(tau).unwrap();
    for shards in [1, 3, plan.tiles()] {
        let part = |r| shard::captioned_contrastive_loss(&loss_plan, &coco, r);
        let loss = merged(parts(&loss_plan, shards, part), shards == 3)
            .finish()
            .unwrap();
        assert_eq!(loss, expected, "{shards} shards");
    }
    let mut swapped = image_of;
    swapped.swap(0, 1);
    let other = Captioned::new(images, captions, swapped).unwrap();
    assert!(matches!(
        shard_error(shard::captioned_retrieval_ranks(&plan, &other, 0..1)),
        ShardError::NotThePlan { .. }
    ));
    // The other grouping's parts: its plan takes them, the first plan's parts refuse them.
    let other_plan = Plan::captioned_contrastive_loss(&other, tau);
    assert!(matches!(
        shard_error(shard::captioned_contrastive_loss(&loss_plan, &other, 0..1)),
        ShardError::NotThePlan { .. }
    ));
    let first = shard::captioned_contrastive_loss(&loss_plan, &coco, 0..1).unwrap();
    let second = shard::captioned_contrastive_loss(&other_plan, &other, 1..2).unwrap();
    assert_eq!(
        shard_error(first.merge(second)),
        ShardError::DifferentPasses
    );

    // The relative gap: nine tiles of captions, over which the two chunks of images spread
    // (tiles without images among them).
    let gap_plan = Plan::captioned_relative_gap(&coco).unwrap();
    assert_eq!(gap_plan.tiles(), 9);
    let expected = coco.relative_gap().unwrap();
    assert!(expected.value > 0.1 && expected.value < 0.9, "{expected:?}");
    let bits = |g: modality_gap::RelativeGap| {
        [g.value, g.matched, g.within_a, g.within_b].map(f64::to_bits)
    };
    for shards in [1, 3, 9] {
        let part = |r| shard::captioned_relative_gap(&gap_plan, &coco, r);
        let gap = merged(parts(&gap_plan, shards, part), shards == 3).finish();
        assert_eq!(bits(gap.unwrap()), bits(expected), "{shards} shards");
    }
    assert!(matches!(
        shard_error(shard::captioned_relative_gap(&gap_plan, &other, 0..1)),
        ShardError::NotThePlan { .. }
    ));
    // Row with row is another pass than images with captions, even of the same shapes.
    let paired = Captioned::new(
        coco.captions().clone().with_modality::<Image>(),
        coco.captions().clone(),
        (0..17500).collect(),
    )
    .unwrap();
    let (a, b) = (paired.images(), paired.captions());
    let rows_plan = Plan::relative_gap(a, b).unwrap();
    let whole = |plan: &Plan| shard::captioned_relative_gap(plan, &paired, 0..9);
    assert!(matches!(
        shard_error(whole(&rows_plan)),
        ShardError::NotThePlan { .. }
    ));
    let by_rows = shard::relative_gap(&rows_plan, a, b, 0..9).unwrap();
    let by_groups = whole(&Plan::captioned_relative_gap(&paired).unwrap()).unwrap();
    assert_eq!(by_rows.finish().unwrap(), by_groups.finish().unwrap());
}

/// A histogram's tiles are the kernel's own tasks, about a sweep each (here 504 rows of
/// 1024 f64), past the 16 that bounded them before: as many shards as tiles each get one.
#[test]
fn histograms_have_as_many_tiles_as_sweeps() {
    let x = random_unit::<f64, Image>(9000, 1024, 0.3, 31);
    let plan = Plan::cosine_histogram_within(&x, 40).unwrap();
    assert_eq!(plan.tiles(), 18);
    let part = |r| shard::cosine_histogram_within(&plan, &x, r);
    let h = merged(parts(&plan, 18, part), true).finish().unwrap();
    assert_eq!(h, CosineHistogram::within(&x, 40).unwrap());
}

/// The exact quantiles of 6000 rows (about 3000 tiles' worth of sweeps, capped at the
/// histogram's 128) over shards, in two rounds; every forged count, value or selection is
/// refused, and the second round's parts of two selections do not merge.
#[cfg(feature = "serde")]
#[test]
fn quantiles_over_shards_in_two_rounds_give_the_exact_bits() {
    use serde_json::{Value, json};
    let x = random_unit::<f32, Image>(6000, 8, 0.6, 61);
    let plan = Plan::cosine_quantiles_within(&x).unwrap();
    assert!(plan.tiles() >= 3, "{}", plan.tiles());
    let qs = [0.01, 0.25, 0.5, 0.99];
    let expected = cosine_quantiles_within(&x, &qs).unwrap();
    let mut selections = Vec::new();
    for shards in [1, 3, plan.tiles()] {
        let counts = |r| shard::cosine_quantile_counts_within(&plan, &x, r);
        let selection = merged(parts(&plan, shards, counts), shards == 3)
            .finish(&qs)
            .unwrap();
        let values = |r| shard::cosine_quantile_values_within(&plan, &selection, &x, r);
        let got = merged(parts(&plan, shards, values), shards != 3).finish(&selection);
        assert_eq!(got.unwrap(), expected, "{shards} shards");
        selections.push(selection);
    }
    assert!(selections.iter().all(|s| *s == selections[0]));
    let selection = &selections[0];

    let all = 0..plan.tiles();
    let counts = shard::cosine_quantile_counts_within(&plan, &x, all.clone()).unwrap();
    let values = shard::cosine_quantile_values_within(&plan, selection, &x, all.clone()).unwrap();
    fn edited<P: serde::Serialize + serde::de::DeserializeOwned>(
        part: &P,
        f: impl Fn(&mut Value),
    ) -> P {
        let mut value = serde_json::to_value(part).unwrap();
        f(&mut value);
        serde_json::from_value(value).unwrap()
    }
    // Counts: past the last bin, one pair short, one pair more (totals that overflow u64 are
    // no better).
    let past = edited(&counts, |v| v["states"][0]["first"] = json!(1 << 16));
    let short = edited(&counts, |v| {
        let first = v["states"][0]["counts"].as_array_mut().unwrap();
        let c = first.iter().position(|c| c.as_u64() > Some(0)).unwrap();
        first[c] = json!(first[c].as_u64().unwrap() - 1);
    });
    let more = edited(&counts, |v| v["states"][1]["counts"][0] = json!(u64::MAX));
    for forged in [past, short, more] {
        assert!(matches!(
            shard_error(forged.finish(&qs)),
            ShardError::NotThePlan { .. }
        ));
    }
    assert!(matches!(
        counts.clone().finish(&[0.5, 1.5]),
        Err(Error::InvalidParameter { .. })
    ));
    // Values: one dropped, one moved into another bin, one twice.
    let json = serde_json::to_value(&values).unwrap();
    let tile = (0..plan.tiles())
        .find(|&t| !json["states"][t]["values"].as_array().unwrap().is_empty())
        .unwrap();
    let dropped = edited(&values, |v| {
        v["states"][tile]["values"].as_array_mut().unwrap().pop();
    });
    let moved = edited(&values, |v| v["states"][tile]["values"][0] = json!(-0.999));
    let doubled = edited(&values, |v| {
        let list = v["states"][tile]["values"].as_array_mut().unwrap();
        list.push(list[0].clone());
    });
    for forged in [dropped, moved, doubled] {
        assert!(matches!(
            shard_error(forged.finish(selection)),
            ShardError::NotThePlan { .. }
        ));
    }
    // A selection of other quantiles: its values are another pass's, and do not merge.
    let other = counts.clone().finish(&[0.3]).unwrap();
    let others = shard::cosine_quantile_values_within(&plan, &other, &x, 0..1).unwrap();
    let rest = shard::cosine_quantile_values_within(&plan, selection, &x, 1..plan.tiles());
    assert_eq!(
        shard_error(others.merge(rest.unwrap())),
        ShardError::DifferentPasses
    );
    assert!(matches!(
        shard_error(values.clone().finish(&other)),
        ShardError::NotThePlan { .. }
    ));
    // Forged selections: a quantile past 1, a pass of no pairs or of more pairs than the
    // plan's (no bins: the ranks of q = 1 overflowed, review), bins out of order, every bin
    // (each shard would keep every pair, review), ranks past the pairs.
    let beyond = edited(selection, |v| v["selection"]["qs"][0] = json!(1.5));
    let empty = edited(selection, |v| v["selection"]["total"] = json!(0));
    let vast = edited(selection, |v| {
        v["selection"]["total"] = json!(u64::MAX);
        v["selection"]["qs"] = json!([1.0]);
        v["selection"]["bins"] = json!([]);
    });
    let unsorted = edited(selection, |v| {
        v["selection"]["bins"].as_array_mut().unwrap().reverse();
    });
    let every = edited(selection, |v| {
        let bins: Vec<_> = (0..1 << 16).map(|b| json!([b, 0, 0])).collect();
        v["selection"]["bins"] = json!(bins);
    });
    let past = edited(selection, |v| {
        v["selection"]["bins"][0][1] = json!(u64::MAX)
    });
    // The empty values the selection without bins would name (its fingerprint: FNV-1a's
    // offset basis), which reached the overflow.
    let none = edited(&values, |v| {
        v["pass"]["groups"] = json!(0xcbf2_9ce4_8422_2325_u64);
        for state in v["states"].as_array_mut().unwrap() {
            state["values"] = json!([]);
        }
    });
    assert!(matches!(
        shard_error(none.finish(&vast)),
        ShardError::NotThePlan { .. }
    ));
    for forged in [beyond, empty, vast, unsorted, every, past] {
        let part = shard::cosine_quantile_values_within(&plan, &forged, &x, all.clone());
        assert!(matches!(shard_error(part), ShardError::NotThePlan { .. }));
        assert!(matches!(
            shard_error(values.clone().finish(&forged)),
            ShardError::NotThePlan { .. }
        ));
    }
    // Another set's plan refuses this selection; one row has no pair.
    let y = random_unit::<f32, Image>(5999, 8, 0.6, 62);
    let other_plan = Plan::cosine_quantiles_within(&y).unwrap();
    assert!(matches!(
        shard_error(shard::cosine_quantile_values_within(
            &other_plan,
            selection,
            &y,
            0..1
        )),
        ShardError::NotThePlan { .. }
    ));
    let one = random_unit::<f32, Image>(1, 8, 0.6, 63);
    assert!(matches!(
        Plan::cosine_quantiles_within(&one),
        Err(Error::TooFewSamples { .. })
    ));
}

fn shard_error<V: std::fmt::Debug>(result: Result<V, Error>) -> ShardError {
    match result {
        Err(Error::Shard(e)) => e,
        other => panic!("expected a shard error, got {other:?}"),
    }
}

#[test]
fn misuse_is_a_typed_error() {
    let x = random_unit::<f64, Image>(1500, 4, 0.5, 3);
    let y = random_unit::<f64, Image>(1400, 4, 0.5, 4);
    let plan = Plan::uniform_loss(&x, 2.0).unwrap();
    let tiles = plan.tiles();
    assert!(tiles >= 2);
    assert_eq!(
        shard_error(plan.shard(2, 2)),
        ShardError::Rank { rank: 2, shards: 2 }
    );
    assert_eq!(
        shard_error(shard::uniform_loss(&plan, &x, 0..tiles + 1)),
        ShardError::Tiles {
            start: 0,
            end: tiles + 1,
            count: tiles
        }
    );
    assert!(matches!(
        shard_error(shard::uniform_loss(&plan, &y, 0..1)),
        ShardError::NotThePlan { .. }
    ));
    let x32 = random_unit::<f32, Image>(1500, 4, 0.5, 3);
    assert!(matches!(
        shard_error(shard::uniform_loss(&plan, &x32, 0..1)),
        ShardError::NotThePlan { .. }
    ));
    let first = shard::uniform_loss(&plan, &x, 0..1).unwrap();
    let last = shard::uniform_loss(&plan, &x, 1..tiles).unwrap();
    assert_eq!(
        shard_error(last.clone().merge(first.clone())),
        ShardError::OutOfOrder {
            end: tiles,
            next_start: 0
        }
    );
    assert_eq!(
        shard_error(first.clone().finish()),
        ShardError::Incomplete {
            start: 0,
            end: 1,
            count: tiles
        }
    );
    let other = Plan::uniform_loss(&x, 3.0).unwrap();
    let other_last = shard::uniform_loss(&other, &x, 1..tiles).unwrap();
    assert_eq!(
        shard_error(first.clone().merge(other_last)),
        ShardError::DifferentPasses
    );
    // One set's plan for two sets' uniformity, and two sets' part beside one set's.
    let x2 = random_unit::<f64, Text>(1500, 4, 0.5, 5);
    assert!(matches!(
        shard_error(shard::cross_modal_uniformity(&plan, &x, &x2, 0..1)),
        ShardError::NotThePlan { .. }
    ));
    let between = Plan::cross_modal_uniformity(&x, &x2, 2.0).unwrap();
    let second = shard::cross_modal_uniformity(&between, &x, &x2, 1..between.tiles()).unwrap();
    assert_eq!(
        shard_error(first.clone().merge(second)),
        ShardError::DifferentPasses
    );
    assert_eq!(
        first.merge(last).unwrap().finish().unwrap().to_bits(),
        uniform_loss(&x, 2.0).unwrap().to_bits()
    );
}

/// Parts cross a process boundary as bytes and come back the same.
#[cfg(feature = "serde")]
#[test]
fn parts_survive_serialisation() {
    let a = random_unit::<f32, Image>(1200, 8, 1.0, 5);
    let b = random_unit::<f32, Text>(1200, 8, -1.0, 6);
    let tau = Temperature::CLIP;
    let plan = Plan::contrastive_loss(&a, &b, tau).unwrap();
    let halves = parts(&plan, 2, |r| shard::contrastive_loss(&plan, &a, &b, r));
    let sent: Vec<Vec<u8>> = halves
        .iter()
        .map(|part| postcard::to_allocvec(part).unwrap())
        .collect();
    let received: Vec<Part<_>> = sent
        .iter()
        .map(|bytes| postcard::from_bytes(bytes).unwrap())
        .collect();
    assert_eq!(received, halves);
    let loss = merged(received, false).finish().unwrap();
    assert_eq!(loss, contrastive_loss(&a, &b, tau).unwrap());
}

/// The part with a NaN in place of `entry`, in each of the places its postcard bytes hold it
/// (at least one).
#[cfg(feature = "serde")]
fn with_nan<S: serde::Serialize + serde::de::DeserializeOwned>(
    part: &Part<S>,
    entry: f64,
) -> Vec<Part<S>> {
    let bytes = postcard::to_allocvec(part).unwrap();
    let places: Vec<usize> = (bytes.windows(8).enumerate())
        .filter(|(_, w)| *w == entry.to_le_bytes())
        .map(|(at, _)| at)
        .collect();
    assert!(!places.is_empty());
    (places.into_iter())
        .map(|at| {
            let mut forged = bytes.clone();
            forged[at..at + 8].copy_from_slice(&f64::NAN.to_le_bytes());
            postcard::from_bytes(&forged).unwrap()
        })
        .collect()
}

/// A part from outside bytes that no plan makes (no tiles, an absurd bin count, a start at
/// the end of the address space) is a typed error when merged or finished, never a panic.
#[cfg(feature = "serde")]
#[test]
fn parts_from_outside_bytes_that_no_plan_makes_are_typed_errors() {
    use serde_json::{Value, json};
    fn edited<S: serde::Serialize + serde::de::DeserializeOwned>(
        part: &Part<S>,
        edit: impl FnOnce(&mut Value),
    ) -> Part<S> {
        let mut value = serde_json::to_value(part).unwrap();
        edit(&mut value);
        serde_json::from_value(value).unwrap()
    }
    let x = random_unit::<f64, Image>(300, 4, 0.5, 9);
    let plan = Plan::cosine_histogram_within(&x, 10).unwrap();
    let part = shard::cosine_histogram_within(&plan, &x, 0..plan.tiles()).unwrap();
    let absurd = edited(&part, |v| v["pass"]["parameter"] = json!(1u64 << 60));
    assert!(matches!(
        shard_error(absurd.finish()),
        ShardError::NotThePlan { .. }
    ));
    let empty = edited(&part, |v| {
        v["pass"]["tiles"] = json!(0);
        v["states"] = json!([]);
    });
    assert!(matches!(
        shard_error(empty.finish()),
        ShardError::NotThePlan { .. }
    ));
    let overflowing = edited(&part, |v| {
        v["states"][0]["counts"]["counts"][0] = json!(u64::MAX)
    });
    assert!(matches!(
        shard_error(overflowing.finish()),
        ShardError::NotThePlan { .. }
    ));
    // A uniformity's part relabelled as the cross-modal one's (the same tiles), and back.
    let y = random_unit::<f64, Text>(300, 4, -0.5, 10);
    let plan_within = Plan::uniform_loss(&x, 2.0).unwrap();
    let within = shard::uniform_loss(&plan_within, &x, 0..plan_within.tiles()).unwrap();
    let plan_between = Plan::cross_modal_uniformity(&x, &y, 2.0).unwrap();
    let between =
        shard::cross_modal_uniformity(&plan_between, &x, &y, 0..plan_between.tiles()).unwrap();
    assert_eq!(plan_within.tiles(), plan_between.tiles());
    let relabelled = edited(&within, |v| {
        v["pass"]["metric"] = json!("CrossModalUniformity")
    });
    let back = edited(&between, |v| v["pass"]["metric"] = json!("UniformLoss"));
    for forged in [relabelled, back] {
        assert!(matches!(
            shard_error(forged.finish()),
            ShardError::NotThePlan { .. }
        ));
    }
    let x2 = x.as_embeddings();
    let plan2 = Plan::effective_rank(x2, Spectrum::Variances, Centring::Mean).unwrap();
    let spectrum = shard::effective_rank(&plan2, x2, 0..plan2.tiles()).unwrap();
    // A NaN in an off-diagonal cross product: an error where the sum reads it (the upper
    // triangle), the genuine value where it does not.
    let entry = serde_json::to_value(&spectrum).unwrap()["states"][0]["values"][2]
        .as_f64()
        .unwrap();
    let genuine = spectrum.clone().finish().unwrap();
    let results: Vec<_> = (with_nan(&spectrum, entry).into_iter())
        .map(Part::<shard::EffectiveRankTile>::finish)
        .collect();
    assert!(results.iter().all(|got| match got {
        Ok(value) => *value == genuine,
        Err(error) => matches!(error, Error::Overflow { .. }),
    }));
    assert!(results.iter().any(Result::is_err), "{results:?}");
    let short = edited(&spectrum, |v| {
        v["pass"]["shape"][0] = json!(5000);
    });
    assert!(matches!(
        shard_error(short.finish()),
        ShardError::NotThePlan { .. }
    ));
    // Another metric's tiles of the same layout: the effective rank's read as IsoScore's.
    let retyped: Part<shard::IsoScoreTile> =
        serde_json::from_value(serde_json::to_value(&spectrum).unwrap()).unwrap();
    assert!(matches!(
        shard_error(retyped.finish()),
        ShardError::NotThePlan { .. }
    ));
    let b = random_unit::<f64, Text>(300, 4, -0.5, 10);
    let plan3 = Plan::retrieval_ranks(&x, &b).unwrap();
    let ranks = shard::retrieval_ranks(&plan3, &x, &b, 0..plan3.tiles()).unwrap();
    // Sizes no plan makes, beyond any allocation: refused before anything is allocated.
    for (at, size) in [(0, 1u64 << 62), (1, 1u64 << 61)] {
        let huge = edited(&ranks, |v| v["pass"]["shape"][at] = json!(size));
        assert!(matches!(
            shard_error(huge.finish()),
            ShardError::NotThePlan { .. }
        ));
    }
    // A row ranked past the last column; a column count past any rank; a tile's columns cut.
    let past_the_end = edited(&ranks, |v| v["states"][0]["rows"][0] = json!(300));
    let overflowing = edited(&ranks, |v| v["states"][0]["cols"][0] = json!(u64::MAX));
    let cut = edited(&ranks, |v| {
        v["states"][0]["cols"].as_array_mut().unwrap().pop();
    });
    for forged in [past_the_end, overflowing, cut] {
        assert!(matches!(
            shard_error(forged.finish()),
            ShardError::NotThePlan { .. }
        ));
    }
    assert_eq!(ranks.finish().unwrap(), retrieval_ranks(&x, &b).unwrap());
    // The contrastive loss: a diagonal moved off its first panel, a column cut, a row added.
    let tau = Temperature::new(0.1).unwrap();
    let plan5 = Plan::contrastive_loss(&x, &b, tau).unwrap();
    let whole = shard::contrastive_loss(&plan5, &x, &b, 0..plan5.tiles()).unwrap();
    let moved = edited(&whole, |v| {
        v["states"][0]["tile"]["row_targets"] = json!([]);
    });
    let cut = edited(&whole, |v| {
        v["states"][0]["tile"]["cols"].as_array_mut().unwrap().pop();
    });
    let added = edited(&whole, |v| {
        let rows = v["states"][0]["tile"]["rows"].as_array_mut().unwrap();
        rows.push(rows[0].clone());
    });
    let huge = edited(&whole, |v| v["pass"]["shape"][0] = json!(1u64 << 62));
    // Sets of different lengths, which no plan pairs (the sizes made to agree).
    let unpaired = edited(&whole, |v| {
        v["pass"]["shape"][1] = json!(299);
        v["states"][0]["tile"]["cols"].as_array_mut().unwrap().pop();
    });
    // Images, or a grouping, where no caption has them.
    let imaged = edited(&whole, |v| v["states"][0]["images"] = json!(vec![0; 300]));
    let grouped = edited(&whole, |v| v["pass"]["groups"] = json!(7));
    for forged in [moved, cut, added, huge, unpaired, imaged, grouped] {
        assert!(matches!(
            shard_error(forged.finish()),
            ShardError::NotThePlan { .. }
        ));
    }
    assert_eq!(
        whole.finish().unwrap(),
        contrastive_loss(&x, &b, tau).unwrap()
    );
    // Targets: a column's target dot dropped, a row's moved off its first panel, the targets'
    // fingerprint changed, the part read as the plain loss's.
    let targets: Vec<usize> = (0..300).rev().collect();
    let plan8 = Plan::contrastive_loss_with_targets(&x, &b, tau, &targets).unwrap();
    let whole =
        shard::contrastive_loss_with_targets(&plan8, &x, &b, &targets, 0..plan8.tiles()).unwrap();
    let dropped = edited(&whole, |v| {
        v["states"][0]["tile"]["col_targets"]
            .as_array_mut()
            .unwrap()
            .pop();
    });
    let moved = edited(&whole, |v| {
        v["states"][0]["tile"]["row_targets"] = json!([])
    });
    let other = edited(&whole, |v| v["pass"]["groups"] = json!(1));
    // Targets no logits make: a cross-entropy far below 0.
    let above = edited(&whole, |v| {
        v["states"][0]["tile"]["row_targets"][0] = json!(1e4);
        v["states"][0]["tile"]["col_targets"][0] = json!(1e4);
    });
    let plain = edited(&whole, |v| {
        v["pass"]["metric"] = json!("ContrastiveLoss");
        v["pass"]["groups"] = json!(0);
    });
    assert!(matches!(
        shard_error(other.clone().merge(whole.clone())),
        ShardError::DifferentPasses
    ));
    for forged in [dropped, moved, above, plain] {
        assert!(matches!(
            shard_error(forged.finish()),
            ShardError::NotThePlan { .. }
        ));
    }
    let expected = contrastive_loss_with_targets(&x, &b, tau, &targets).unwrap();
    assert_eq!(other.finish().unwrap(), expected); // the tiles hold every target
    assert_eq!(whole.finish().unwrap(), expected);
    // COCO: an image past the last, an image left without a caption (the fingerprint kept or
    // not), the images dropped, a caption's image changed, the images read as the plain loss.
    let x100 = x.select(&(0..100).collect::<Vec<_>>()).unwrap();
    let coco = Captioned::new(x100, b.clone(), (0..300).map(|j| j % 100).collect()).unwrap();
    let plan7 = Plan::captioned_contrastive_loss(&coco, tau);
    let whole = shard::captioned_contrastive_loss(&plan7, &coco, 0..plan7.tiles()).unwrap();
    let past_the_end = edited(&whole, |v| v["states"][0]["images"][0] = json!(100));
    let unnamed = edited(&whole, |v| v["states"][0]["images"][0] = json!(1));
    let dropped = edited(&whole, |v| v["states"][0]["images"] = json!([]));
    let plain = edited(&whole, |v| {
        v["pass"]["metric"] = json!("ContrastiveLoss");
        v["pass"]["groups"] = json!(0);
    });
    let unhashed = edited(&whole, |v| v["pass"]["groups"] = json!(0));
    let moved = edited(&whole, |v| {
        v["states"][0]["tile"]["col_targets"] = json!([]);
        v["states"][0]["images"] = json!([]);
    });
    // The same maps with their fingerprints forged too (64-bit FNV-1a of the indices).
    let fnv = |map: &[usize]| {
        let bytes = map.iter().flat_map(|&g| (g as u64).to_le_bytes());
        bytes.fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x100_0000_01b3)
        })
    };
    let forged_map = |first: usize| {
        let map: Vec<usize> = (0..300)
            .map(|j| if j % 100 == 0 { first } else { j % 100 })
            .collect();
        edited(&whole, |v| {
            v["states"][0]["images"][0] = json!(first);
            v["states"][0]["images"][100] = json!(first);
            v["states"][0]["images"][200] = json!(first);
            v["pass"]["groups"] = json!(fnv(&map));
        })
    };
    let real: Vec<usize> = (0..300).map(|j| j % 100).collect();
    assert_eq!(
        edited(&whole, |v| v["pass"]["groups"] = json!(fnv(&real))),
        whole
    );
    let (hashed_past_the_end, hashed_unnamed) = (forged_map(100), forged_map(1));
    for forged in [
        past_the_end,
        unnamed,
        dropped,
        plain,
        unhashed,
        moved,
        hashed_past_the_end,
        hashed_unnamed,
    ] {
        assert!(matches!(
            shard_error(forged.finish()),
            ShardError::NotThePlan { .. }
        ));
    }
    assert_eq!(whole.finish().unwrap(), coco.contrastive_loss(tau).unwrap());
    // CKA: the row terms moved off the first tile, dropped, or a cross product cut short.
    // (16500 rows: the 16 tiles of the deepest tree, which a forged n of usize::MAX also has.)
    let y = random_unit::<f64, Text>(16500, 3, 0.2, 11);
    let (x3, y) = (
        random_unit::<f64, Image>(16500, 2, 0.7, 12),
        y.as_embeddings(),
    );
    let x3 = x3.as_embeddings();
    let plan4 = Plan::cka(x3, y, HsicEstimator::Unbiased).unwrap();
    assert_eq!(plan4.tiles(), 16);
    let whole = shard::cka(&plan4, x3, y, 0..plan4.tiles()).unwrap();
    let moved = edited(&whole, |v| {
        v["states"][1]["rows"] = v["states"][0]["rows"].clone();
        v["states"][0]["rows"] = Value::Null;
    });
    let dropped = edited(&whole, |v| v["states"][0]["rows"] = Value::Null);
    let cut = edited(&whole, |v| {
        v["states"][1]["products"]["ab"]
            .as_array_mut()
            .unwrap()
            .pop();
    });
    let wide = edited(&whole, |v| v["pass"]["parameter"] = json!(u64::MAX));
    // More rows than memory could hold: no plan makes them.
    let many = edited(&whole, |v| {
        v["pass"]["shape"][0] = json!(usize::MAX);
        v["pass"]["shape"][1] = json!(usize::MAX);
    });
    for forged in [moved, dropped, cut, wide, many] {
        assert!(matches!(
            shard_error(forged.finish()),
            ShardError::NotThePlan { .. }
        ));
    }
    assert_eq!(
        whole.finish().unwrap().to_bits(),
        cka(x3, y, HsicEstimator::Unbiased).unwrap().to_bits()
    );
    // SVCCA: the columns moved off the first tile, dropped, or cut; a cross product cut
    // short; a parameter no plan makes.
    let plan6 = Plan::svcca(x3, y, 2).unwrap();
    assert_eq!(plan6.tiles(), 16);
    let whole = shard::svcca(&plan6, x3, y, 0..plan6.tiles()).unwrap();
    let moved = edited(&whole, |v| {
        v["states"][1]["varies"] = v["states"][0]["varies"].clone();
        v["states"][0]["varies"] = Value::Null;
    });
    let dropped = edited(&whole, |v| v["states"][0]["varies"] = Value::Null);
    let short = edited(&whole, |v| {
        v["states"][0]["varies"][1].as_array_mut().unwrap().pop();
    });
    let cut = edited(&whole, |v| {
        v["states"][3]["products"]["bb"]
            .as_array_mut()
            .unwrap()
            .pop();
    });
    let wide = edited(&whole, |v| v["pass"]["parameter"] = json!(u64::MAX));
    for forged in [moved, dropped, short, cut, wide] {
        assert!(matches!(
            shard_error(forged.finish()),
            ShardError::NotThePlan { .. }
        ));
    }
    // Columns that vary nowhere: the metric's own error.
    let flat = edited(&whole, |v| {
        v["states"][0]["varies"][0] = json!([false, false])
    });
    assert!(matches!(flat.finish(), Err(Error::ZeroVariance)));
    // A NaN (which JSON cannot carry) in a cross product: an error, never a NaN. (The first
    // tile's 2 × 2 block holds the entry twice, at (1, 0) and at (0, 1); the sum reads the
    // upper one.)
    let entry = serde_json::to_value(&whole).unwrap()["states"][0]["products"]["aa"][2]
        .as_f64()
        .unwrap();
    let got = with_nan(&whole, entry).remove(1).finish();
    assert!(matches!(got, Err(Error::Overflow { .. })), "{got:?}");
    assert_eq!(
        whole.finish().unwrap().to_bits(),
        svcca(x3, y, 2).unwrap().to_bits()
    );
    // k-NN lists: an index past the last row, a list cut short, and another metric's pass
    // over the same tiles.
    let (a5, b5) = (x.as_embeddings(), b.as_embeddings());
    let plan5 = Plan::cknna(a5, b5, 4).unwrap();
    let lists = shard::neighbours(&plan5, a5, b5, 0..plan5.tiles()).unwrap();
    let past_the_end = edited(&lists, |v| v["states"][0]["indices"][0] = json!(300));
    let cut = edited(&lists, |v| {
        v["states"][0]["indices"].as_array_mut().unwrap().pop();
    });
    // n·(k + 1) = 2²⁸ lists, over the budget; n·(k + 1) wrapping past 2⁶⁴.
    let budget = edited(&lists, |v| {
        v["pass"]["shape"][0] = json!(1 << 14);
        v["pass"]["shape"][1] = json!(1 << 14);
        v["pass"]["parameter"] = json!((4u64 << 27) | ((1 << 14) - 1));
    });
    let wrapping = edited(&lists, |v| {
        v["pass"]["shape"][0] = json!(1u64 << 63);
        v["pass"]["shape"][1] = json!(1u64 << 63);
        v["pass"]["parameter"] = json!((4u64 << 27) | 1);
    });
    // One row's lists moved from A's tile to B's: the same total, A's end inside a tile.
    let shifted = edited(&lists, |v| {
        let states = v["states"].as_array_mut().unwrap();
        for field in ["indices", "similarities"] {
            let moved: Vec<Value> = states[0][field]
                .as_array_mut()
                .unwrap()
                .drain(..5)
                .collect();
            states[1][field].as_array_mut().unwrap().extend(moved);
        }
    });
    let other = edited(&lists, |v| v["pass"]["metric"] = json!("TopK"));
    for forged in [past_the_end, cut, budget, wrapping, shifted, other] {
        assert!(matches!(
            shard_error(forged.finish()),
            ShardError::NotThePlan { .. }
        ));
    }
    assert_eq!(
        lists.finish().unwrap().to_bits(),
        cknna(a5, b5, 4).unwrap().to_bits()
    );
    let far = edited(&part, |v| v["start"] = json!(usize::MAX));
    assert!(matches!(
        shard_error(far.clone().merge(part.clone())),
        ShardError::OutOfOrder { .. }
    ));
    assert!(matches!(
        shard_error(far.finish()),
        ShardError::Incomplete { .. }
    ));
    assert_eq!(
        part.finish().unwrap(),
        CosineHistogram::within(&x, 10).unwrap()
    );
}

/// A shard's pass reports the pairs of its own tiles: done reaches total.
#[test]
fn a_shards_progress_counts_its_own_tiles() {
    use modality_gap::progress::{self, Progress};
    use std::ops::ControlFlow;
    use std::sync::{Arc, Mutex};
    let x = random_unit::<f32, Image>(3000, 8, 0.5, 2);
    let plan = Plan::uniform_loss(&x, 2.0).unwrap();
    let tiles = plan.shard(1, 2).unwrap();
    let last = Arc::new(Mutex::new(None));
    let sink = Arc::clone(&last);
    progress::observe(
        move |p: Progress| {
            *sink.lock().unwrap() = Some((p.done, p.total));
            ControlFlow::Continue(())
        },
        || shard::uniform_loss(&plan, &x, tiles.clone()),
    )
    .unwrap();
    let pairs = plan.pairs(tiles);
    assert_eq!(*last.lock().unwrap(), Some((pairs, pairs)));
}

/// Row sums over many chunks and shards: the in-memory bits (f64 rows, whose sums round); and
/// rows may follow them only when they end on a whole chunk.
#[test]
fn row_sums_of_many_chunks_merge_to_the_in_memory_bits() {
    let x = random_unit::<f64, Image>(20_000, 3, 0.4, 11);
    let plan = Plan::row_sums(&x).unwrap();
    assert_eq!(plan.tiles(), 10);
    for shards in [1, 3, 7, 12] {
        let part = |r| shard::row_sums(&plan, &x, r);
        let sums = merged(parts(&plan, shards, part), shards % 2 == 0)
            .finish()
            .unwrap();
        assert_eq!(sums.len(), 20_000);
        assert_eq!(sums.centroid().unwrap(), modality_gap::centroid(&x));
        assert_eq!(
            sums.mean_pairwise_cosine(Diagonal::Included)
                .unwrap()
                .to_bits(),
            mean_pairwise_cosine(&x, Diagonal::Included)
                .unwrap()
                .to_bits()
        );
    }
}

/// The alignment of 20000 pairs (ten chunks, ten tiles) over shards: the in-memory bits; a
/// part whose pairs or sums no pass gives is refused.
#[cfg(feature = "serde")]
#[test]
fn the_alignment_over_shards_gives_the_in_memory_bits() {
    use serde_json::json;
    let a = random_unit::<f32, Image>(20000, 6, 0.5, 51);
    let b = random_unit::<f32, Text>(20000, 6, -0.5, 52);
    let plan = Plan::align_loss(&a, &b, 2.0).unwrap();
    assert_eq!(plan.tiles(), 10);
    let expected = align_loss(&a, &b, 2.0).unwrap();
    for shards in [1, 3, 10] {
        let part = |r| shard::align_loss(&plan, &a, &b, r);
        let value = merged(parts(&plan, shards, part), shards == 3).finish();
        assert_eq!(
            value.unwrap().to_bits(),
            expected.to_bits(),
            "{shards} shards"
        );
    }
    let whole = shard::align_loss(&plan, &a, &b, 0..plan.tiles()).unwrap();
    let edit = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut value = serde_json::to_value(&whole).unwrap();
        f(&mut value);
        serde_json::from_value::<Part<shard::AlignmentTile>>(value).unwrap()
    };
    let fewer = edit(&|v| v["states"][0]["rows"] = json!(2047));
    // The same rows and chunks in other tiles than the plan's: two tiles' in one.
    let joined = edit(&|v| {
        let states = v["states"].as_array_mut().unwrap();
        let second = states.remove(1);
        let chunks = second["chunks"].as_array().unwrap().clone();
        states[0]["chunks"].as_array_mut().unwrap().extend(chunks);
        states[0]["rows"] = json!(4096);
        v["pass"]["tiles"] = json!(9);
    });
    let dropped = edit(&|v| {
        v["states"][0]["chunks"].as_array_mut().unwrap().pop();
    });
    let negative = edit(&|v| v["states"][1]["chunks"][0] = json!(-1.0));
    let unpaired = edit(&|v| v["pass"]["shape"][1] = json!(19999));
    for forged in [fewer, joined, dropped, negative, unpaired] {
        assert!(matches!(
            shard_error(forged.finish()),
            ShardError::NotThePlan { .. }
        ));
    }
    let b2 = random_unit::<f32, Text>(19999, 6, -0.5, 52);
    assert!(matches!(
        shard::align_loss(&plan, &a, &b2, 0..1),
        Err(Error::LengthMismatch { .. })
    ));
}

/// The relative gap of 20000 pairs (ten tiles) over shards: the in-memory value, bit for bit;
/// a part whose rows or sums no pass gives is refused.
#[cfg(feature = "serde")]
#[test]
fn the_relative_gap_over_shards_gives_the_in_memory_bits() {
    use serde_json::json;
    let a = random_unit::<f64, Image>(20000, 5, 0.7, 53);
    let b = random_unit::<f64, Text>(20000, 5, -0.2, 54);
    let plan = Plan::relative_gap(&a, &b).unwrap();
    assert_eq!(plan.tiles(), 10);
    let expected = relative_gap(&a, &b).unwrap();
    assert!(expected.value > 0.1 && expected.value < 0.9, "{expected:?}");
    for shards in [1, 3, 10] {
        let part = |r| shard::relative_gap(&plan, &a, &b, r);
        let value = merged(parts(&plan, shards, part), shards == 3).finish();
        let bits = |g: modality_gap::RelativeGap| {
            [g.value, g.matched, g.within_a, g.within_b].map(f64::to_bits)
        };
        assert_eq!(bits(value.unwrap()), bits(expected), "{shards} shards");
    }
    let whole = shard::relative_gap(&plan, &a, &b, 0..plan.tiles()).unwrap();
    let edit = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut value = serde_json::to_value(&whole).unwrap();
        f(&mut value);
        serde_json::from_value::<Part<shard::RelativeGapTile>>(value).unwrap()
    };
    let fewer = edit(&|v| v["states"][0]["rows"][0] = json!(2047));
    let dropped = edit(&|v| {
        v["states"][4]["b"].as_array_mut().unwrap().pop();
    });
    let short = edit(&|v| {
        v["states"][2]["a"][0][0].as_array_mut().unwrap().pop();
    });
    let negative = edit(&|v| v["states"][1]["b"][0][1] = json!(-1.0));
    let infinite = edit(&|v| {
        v["states"][0]["matched"][0] = json!(-1e308);
        v["states"][3]["matched"][0] = json!(-1e308);
    });
    let unpaired = edit(&|v| v["pass"]["shape"][1] = json!(19999));
    // Finite chunk sums whose totals overflow, ∞ − ∞ in the mean cosine within A (review).
    let huge = json!([[1e308, 0.0, 0.0, 0.0, 0.0], 1e308]);
    let overflowing = edit(&|v| {
        v["states"][0]["a"][0] = huge.clone();
        v["states"][1]["a"][0] = huge.clone();
    });
    // More rows than memory holds, in one tile: the plan's tiles of it would overflow (review).
    let vast = edit(&|v| {
        v["pass"]["shape"] = json!([u64::MAX, u64::MAX, 5, 8]);
        v["pass"]["tiles"] = json!(1);
        let states = v["states"].as_array_mut().unwrap();
        states.truncate(1);
        states[0]["rows"] = json!([u64::MAX, u64::MAX]);
    });
    let single = edit(&|v| v["pass"]["shape"] = json!([1, 1, 5, 8]));
    let forgeries = [
        fewer,
        dropped,
        short,
        negative,
        infinite,
        unpaired,
        overflowing,
        vast,
        single,
    ];
    for forged in forgeries {
        assert!(matches!(
            shard_error(forged.finish()),
            ShardError::NotThePlan { .. }
        ));
    }
    // The row sums refuse overflowing totals too.
    let plan = Plan::row_sums(&a).unwrap();
    let mut sums =
        serde_json::to_value(shard::row_sums(&plan, &a, 0..plan.tiles()).unwrap()).unwrap();
    sums["states"][0]["chunks"][0] = huge.clone();
    sums["states"][1]["chunks"][0] = huge;
    let sums: Part<shard::RowSumsTile<f64, Image>> = serde_json::from_value(sums).unwrap();
    assert!(matches!(
        shard_error(sums.finish()),
        ShardError::NotThePlan { .. }
    ));
    let one = random_unit::<f64, Image>(1, 5, 0.7, 53);
    assert!(matches!(
        Plan::relative_gap(&one, &one.clone().with_modality::<Text>()),
        Err(Error::TooFewSamples { .. })
    ));
}

#[test]
fn rows_follow_sharded_sums_only_after_a_whole_chunk() {
    let x = random_unit::<f64, Image>(6144, 3, 0.4, 12);
    let whole: Vec<usize> = (0..4096).collect();
    let head = x.select(&whole).unwrap();
    let tail = x.select(&(4096..6144).collect::<Vec<_>>()).unwrap();
    let plan = Plan::row_sums(&head).unwrap();
    let mut sums = shard::row_sums(&plan, &head, 0..plan.tiles())
        .unwrap()
        .finish()
        .unwrap();
    sums.add(&tail).unwrap();
    assert_eq!(sums.centroid().unwrap(), modality_gap::centroid(&x));

    let partial = x.select(&(0..3000).collect::<Vec<_>>()).unwrap();
    let plan = Plan::row_sums(&partial).unwrap();
    let mut sums = shard::row_sums(&plan, &partial, 0..plan.tiles())
        .unwrap()
        .finish()
        .unwrap();
    assert_eq!(
        shard_error(sums.add(&tail)),
        ShardError::PartialChunk { rows: 3000 }
    );
}

/// A shard's sets must have the plan's shapes: a second set of another dimension is an
/// error, not an index out of bounds in the pass.
/// Rows whose dot products overflow to ±∞ (finite f32 rows of norm 10³⁰): the sharded k-NN
/// alignments give what the metrics give, values or errors.
#[test]
fn k_nn_alignments_of_overflowing_dot_products_agree() {
    let rows = |d: usize, seed: u64| {
        let x = random_unit::<f64, Image>(40, d, 0.3, seed);
        let big: Vec<Vec<f32>> = (0..40)
            .map(|i| x.row(i).iter().map(|&v| (v * 1e30) as f32).collect())
            .collect();
        Embeddings::<f32, Image>::from_rows(&big).unwrap()
    };
    let (a, b) = (rows(4, 1), rows(3, 2).with_modality::<Text>());
    for k in [1, 3] {
        let mutual = Plan::mutual_knn(&a, &b, k)
            .and_then(|plan| shard::neighbours(&plan, &a, &b, 0..plan.tiles())?.finish());
        let kernel = Plan::cknna(&a, &b, k)
            .and_then(|plan| shard::neighbours(&plan, &a, &b, 0..plan.tiles())?.finish());
        assert_eq!(
            format!("{:?}", mutual.map(f64::to_bits)),
            format!("{:?}", mutual_knn(&a, &b, k).map(f64::to_bits)),
            "mutual k-NN, k = {k}"
        );
        assert_eq!(
            format!("{:?}", kernel.map(f64::to_bits)),
            format!("{:?}", cknna(&a, &b, k).map(f64::to_bits)),
            "CKNNA, k = {k}"
        );
    }
}

#[test]
fn a_second_set_of_another_dimension_is_an_error() {
    let a = random_unit::<f32, Image>(600, 4, 0.5, 13);
    let b = random_unit::<f32, Text>(600, 4, -0.5, 14);
    for d in [2, 3, 5, 8] {
        let c = random_unit::<f32, Text>(600, d, 0.0, 15);
        let plan = Plan::retrieval_ranks(&a, &b).unwrap();
        assert!(matches!(
            shard::retrieval_ranks(&plan, &a, &c, 0..plan.tiles()),
            Err(Error::DimensionMismatch { .. })
        ));
        let plan = Plan::top_k(&a, &b, 3).unwrap();
        assert!(matches!(
            shard::top_k(&plan, &a, &c, 0..plan.tiles()),
            Err(Error::DimensionMismatch { .. })
        ));
    }
}

/// The jackknives of 20000 pairs (ten tiles) over shards: the in-memory value and deviations
/// for any shard count; parts of other rows, values, first rounds or plans are refused.
#[cfg(feature = "serde")]
#[test]
fn jackknives_over_shards_give_the_in_memory_bits() {
    use serde_json::json;
    let a = random_unit::<f32, Image>(20000, 5, 0.6, 61);
    let b = random_unit::<f32, Text>(20000, 5, -0.3, 62);
    let plan = Plan::row_sums(&a).unwrap();
    assert_eq!(plan.tiles(), 10);
    let all = 0..plan.tiles();
    let sums_a = shard::row_sums(&plan, &a, all.clone())
        .unwrap()
        .finish()
        .unwrap();
    let sums_b = shard::row_sums(&plan, &b, all.clone())
        .unwrap()
        .finish()
        .unwrap();
    let sums = (&sums_a, &sums_b);
    let expected = jackknife::relative_gap(&a, &b).unwrap();
    let standard_error = expected.estimate().standard_error;
    assert!(
        standard_error > 1e-5 && standard_error < 1e-2,
        "{expected:?}"
    );
    for shards in [1, 3, 7, 12] {
        let part = |r| shard::jackknife::relative_gap(&plan, &a, &b, sums, r);
        let whole = merged(parts(&plan, shards, part), shards % 2 == 1);
        assert_eq!(whole.finish().unwrap(), expected, "{shards} shards");
        let part =
            |r| shard::jackknife::mean_pairwise_cosine(&plan, &b, Diagonal::Included, &sums_b, r);
        assert_eq!(
            merged(parts(&plan, shards, part), shards == 3)
                .finish()
                .unwrap(),
            jackknife::mean_pairwise_cosine(&b, Diagonal::Included).unwrap()
        );
    }

    let whole = shard::jackknife::gap(&plan, &a, &b, sums, all.clone()).unwrap();
    let edit = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut value = serde_json::to_value(&whole).unwrap();
        f(&mut value);
        serde_json::from_value::<Part<JackknifeTile>>(value).unwrap()
    };
    let fewer = edit(&|v| v["states"][0]["rows"] = json!(2047));
    let dropped = edit(&|v| {
        v["states"][3]["values"].as_array_mut().unwrap().pop();
    });
    let moved = edit(&|v| {
        let states = v["states"].as_array_mut().unwrap();
        let value = states[1]["values"].as_array_mut().unwrap().pop().unwrap();
        states[2]["values"].as_array_mut().unwrap().push(value);
    });
    let negative = edit(&|v| v["pass"]["parameter"] = json!((-1.0f64).to_bits()));
    let cone = edit(&|v| {
        v["pass"]["metric"] = json!("JackknifeConeExcluded");
        v["pass"]["parameter"] = json!(2.0f64.to_bits());
    });
    let unpaired = edit(&|v| v["pass"]["shape"][1] = json!(19999));
    let extra_tile = edit(&|v| {
        let empty = json!({"rows": 0, "values": [], "first_round": v["states"][0]["first_round"]});
        v["states"].as_array_mut().unwrap().push(empty);
        v["pass"]["tiles"] = json!(11);
    });
    let fewer_tiles = edit(&|v| {
        v["states"].as_array_mut().unwrap().pop();
        v["pass"]["tiles"] = json!(9);
    });
    let mixed = edit(&|v| v["states"][4]["first_round"] = json!(1));
    let infinite = edit(&|v| v["pass"]["parameter"] = json!(f64::INFINITY.to_bits()));
    let forgeries = [
        fewer,
        dropped,
        moved,
        negative,
        cone,
        unpaired,
        extra_tile,
        fewer_tiles,
        mixed,
        infinite,
    ];
    for forged in forgeries {
        assert!(matches!(
            shard_error(forged.finish()),
            ShardError::NotThePlan { .. }
        ));
    }
    for forged in with_nan(&whole, whole.clone().finish().unwrap().deviations()[5]) {
        assert!(matches!(forged.finish(), Err(Error::NonFinite { .. })));
    }

    // Second rounds of two different first rounds do not merge.
    let other = random_unit::<f32, Text>(20000, 5, 0.3, 63);
    let other_sums = shard::row_sums(&plan, &other, all.clone())
        .unwrap()
        .finish()
        .unwrap();
    let first = shard::jackknife::gap(&plan, &a, &b, sums, 0..5).unwrap();
    let second = shard::jackknife::gap(&plan, &a, &other, (&sums_a, &other_sums), 5..10).unwrap();
    assert_eq!(
        shard_error(first.merge(second)),
        ShardError::DifferentPasses
    );
    // Sums of another shape, and the plan of another pass.
    let short = random_unit::<f32, Text>(19999, 5, 0.3, 64);
    let short_plan = Plan::row_sums(&short).unwrap();
    let short_sums = shard::row_sums(&short_plan, &short, 0..short_plan.tiles())
        .unwrap()
        .finish()
        .unwrap();
    assert!(matches!(
        shard_error(shard::jackknife::mean_pairwise_cosine(
            &plan,
            &b,
            Diagonal::Excluded,
            &short_sums,
            0..1
        )),
        ShardError::NotThePlan { .. }
    ));
    let align = Plan::align_loss(&a, &b, 2.0).unwrap();
    assert!(matches!(
        shard_error(shard::jackknife::gap(&align, &a, &b, sums, 0..1)),
        ShardError::NotThePlan { .. }
    ));
    assert!(matches!(
        shard_error(shard::jackknife::align_loss(&plan, &a, &b, 0..1)),
        ShardError::NotThePlan { .. }
    ));
}

#[cfg(feature = "serde")]
#[test]
fn uniformity_jackknives_over_twelve_tiles_give_the_in_memory_bits() {
    use serde_json::json;
    let a = random_unit::<f64, Image>(6000, 1024, 0.4, 71);
    let b = random_unit::<f64, Text>(6000, 1024, -0.2, 72);
    let plan = Plan::uniform_loss(&a, 2.0).unwrap();
    assert_eq!(plan.tiles(), 12);
    let expected = jackknife::uniform_loss(&a, 2.0).unwrap();
    let standard_error = expected.estimate().standard_error;
    assert!(
        standard_error > 1e-6 && standard_error < 1e-2,
        "{expected:?}"
    );
    for shards in [1, 3, 5, 12] {
        let part = |r| shard::jackknife::uniform_loss(&plan, &a, r);
        let whole = merged(parts(&plan, shards, part), shards % 2 == 1);
        assert_eq!(whole.finish().unwrap(), expected, "{shards} shards");
    }
    let between = Plan::cross_modal_uniformity(&a, &b, 2.0).unwrap();
    let part = |r| shard::jackknife::cross_modal_uniformity(&between, &a, &b, r);
    assert_eq!(
        merged(parts(&between, 5, part), true).finish().unwrap(),
        jackknife::cross_modal_uniformity(&a, &b, 2.0).unwrap()
    );

    // Tiles 0..5 of one shard hold the blocks of tiles 0..4 and 4..5; 5..12 of another, those
    // of 5..6, 6..8 and 8..12.
    let whole = shard::jackknife::uniform_loss(&plan, &a, 0..5)
        .unwrap()
        .merge(shard::jackknife::uniform_loss(&plan, &a, 5..12).unwrap())
        .unwrap();
    let levels = |part: &Part<UniformJackknifeTile>| -> Vec<Option<u64>> {
        let value = serde_json::to_value(part).unwrap();
        let states = value["states"].as_array().unwrap().clone();
        (states.iter())
            .map(|tile| {
                tile["block"]
                    .as_array()
                    .map(|block| block[0].as_u64().unwrap())
            })
            .collect()
    };
    let (some, none) = (Some, None::<u64>);
    assert_eq!(
        levels(&whole),
        [
            some(2),
            none,
            none,
            none,
            some(0),
            some(0),
            some(1),
            none,
            some(2),
            none,
            none,
            none
        ]
    );
    assert_eq!(whole.clone().finish().unwrap(), expected);
    let edit = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut value = serde_json::to_value(&whole).unwrap();
        f(&mut value);
        serde_json::from_value::<Part<UniformJackknifeTile>>(value).unwrap()
    };
    let missing = edit(&|v| v["states"][5]["block"] = json!(null));
    let twice = edit(&|v| v["states"][7]["block"] = v["states"][6]["block"].clone());
    let misaligned = edit(&|v| v["states"][5]["block"][0] = json!(1));
    let past_the_end = edit(&|v| v["states"][8]["block"][0] = json!(3));
    let huge = edit(&|v| v["states"][0]["block"][0] = json!(200));
    let short = edit(&|v| {
        v["states"][0]["block"][1]["exps"]
            .as_array_mut()
            .unwrap()
            .pop();
    });
    let fewer_pairs = edit(&|v| v["states"][3]["terms"]["count"] = json!(1));
    let coincident = edit(&|v| v["states"][2]["coincides"] = json!(true));
    let shifted = edit(&|v| v["states"][9]["terms"]["shift"] = json!(1.0));
    for forged in [
        shifted,
        missing,
        twice,
        misaligned,
        past_the_end,
        huge,
        short,
        fewer_pairs,
        coincident,
    ] {
        assert!(matches!(
            shard_error(forged.finish()),
            ShardError::NotThePlan { .. }
        ));
    }
    let first_sum = serde_json::to_value(&whole).unwrap()["states"][0]["block"][1]["exps"][7]
        .as_f64()
        .unwrap();
    for forged in with_nan(&whole, first_sum) {
        assert!(matches!(
            shard_error(forged.finish()),
            ShardError::NotThePlan { .. }
        ));
    }
    // Another metric's part, and too few samples.
    assert!(matches!(
        shard_error(shard::jackknife::uniform_loss(&between, &a, 0..1)),
        ShardError::NotThePlan { .. }
    ));
    let two = random_unit::<f64, Image>(2, 3, 0.0, 73);
    let plan_two = Plan::uniform_loss(&two, 2.0).unwrap();
    assert!(matches!(
        shard::jackknife::uniform_loss(&plan_two, &two, 0..1),
        Err(Error::TooFewSamples { .. })
    ));
}

#[test]
fn uniformity_jackknives_over_shards_of_coincident_rows_or_a_large_t() {
    let same = UnitEmbeddings::normalize(
        Embeddings::<f32, Image>::from_rows(&vec![[0.6, 0.8]; 50]).unwrap(),
    )
    .unwrap();
    let plan = Plan::uniform_loss(&same, 2.0).unwrap();
    let whole = shard::jackknife::uniform_loss(&plan, &same, 0..plan.tiles()).unwrap();
    let expected = jackknife::uniform_loss(&same, 2.0).unwrap();
    assert_eq!(expected.value(), 0.0);
    assert_eq!(whole.clone().finish().unwrap(), expected);
    // A coincident part that claims 10¹² samples holds sums of 50: refused before anything
    // of the claimed size is allocated.
    #[cfg(feature = "serde")]
    {
        let mut value = serde_json::to_value(&whole).unwrap();
        // (JSON has no −∞: the empty sums' shift becomes 0, which a tile of no terms may have.)
        value["states"][0]["terms"]["shift"] = serde_json::json!(0.0);
        value["pass"]["shape"][0] = serde_json::json!(1_000_000_000_000u64);
        value["pass"]["shape"][1] = serde_json::json!(1_000_000_000_000u64);
        let forged: Part<UniformJackknifeTile> = serde_json::from_value(value).unwrap();
        assert!(matches!(
            shard_error(forged.finish()),
            ShardError::NotThePlan { .. }
        ));
    }
    // Rows far apart at a large t: some potential may fall below e^(−700), which the
    // in-memory jackknife shifts away in a first pass and one round cannot.
    let x = random_unit::<f64, Image>(100, 4, 0.0, 74);
    let plan = Plan::uniform_loss(&x, 300.0).unwrap();
    assert!(jackknife::uniform_loss(&x, 300.0).is_ok());
    assert!(matches!(
        shard::jackknife::uniform_loss(&plan, &x, 0..1),
        Err(Error::InvalidParameter { name: "t", .. })
    ));
}

/// The contrastive loss's jackknife over shards where shares leave the series: mismatched
/// pairs (each image's nearest caption is the next one, with nearly all of its row's and
/// column's weight: log(1 − p) is the log of the rest), the bits of the in-memory jackknife;
/// forged second rounds and misuse are typed errors.
#[cfg(feature = "serde")]
#[test]
fn the_contrastive_jackknife_over_shards_gives_the_in_memory_bits() {
    use serde_json::json;
    // Two panels of columns: rows' large shares in both.
    let n = 16384 + 1100;
    let a = random_unit::<f64, Image>(n, 8, 0.3, 81);
    let shifted: Vec<usize> = (0..n).map(|i| (i + 1) % n).collect();
    let b = a.select(&shifted).unwrap().with_modality::<Text>();
    let tau = Temperature::CLIP;
    let expected = jackknife::contrastive_loss(&a, &b, tau).unwrap();
    // Each row's target is nearly never its own: the loss is large, and so is its error.
    let estimate = expected.estimate();
    assert!(
        estimate.value > 5.0 && estimate.standard_error > 0.01,
        "{estimate:?}"
    );
    for shards in [1, 2, 5] {
        contrastive_jackknife(&a, &b, tau, shards, shards == 5);
    }

    let plan = Plan::contrastive_loss(&a, &b, tau).unwrap();
    let first = shard::contrastive_loss(&plan, &a, &b, 0..plan.tiles()).unwrap();
    let cross_entropies = first.clone().cross_entropies().unwrap();
    let all = 0..plan.tiles();
    let whole =
        shard::jackknife::contrastive_loss(&plan, &a, &b, &cross_entropies, all.clone()).unwrap();
    assert_eq!(whole.clone().finish(&cross_entropies).unwrap(), expected);
    let value = serde_json::to_value(&whole).unwrap();
    // Tiles 0 and 1 are the first task's two panels. Row 0 keeps its large share (of
    // column n − 1, its image's caption) in the second; row 5 (column 4) and column 5 (row 6)
    // in the first.
    let large = |tile: usize, side: usize, i: usize| {
        value["states"][tile]["tile"][side][i]["large"]
            .as_array()
            .map(|large| large.iter().map(|l| l["index"].as_u64().unwrap()).collect())
    };
    assert_eq!(large(0, 0, 0), Some(vec![]));
    assert_eq!(large(1, 0, 0), Some(vec![n as u64 - 1]));
    assert_eq!(large(0, 0, 5), Some(vec![4]));
    assert_eq!(large(0, 1, 5).map(|rows| rows[0]), Some(6));
    let edit = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut value = value.clone();
        f(&mut value);
        serde_json::from_value::<Part<ContrastiveJackknifeTile<Image, Text>>>(value).unwrap()
    };
    let row_5 = |v: &mut serde_json::Value, tile: usize| -> serde_json::Value {
        v["states"][tile]["tile"][0][5].take()
    };
    let past_the_panel =
        edit(&|v| v["states"][0]["tile"][0][5]["large"][0]["index"] = json!(n - 1));
    let on_the_diagonal = edit(&|v| v["states"][0]["tile"][0][5]["large"][0]["index"] = json!(5));
    let column_on_its_row = edit(&|v| v["states"][0]["tile"][1][5]["large"][0]["index"] = json!(5));
    let small_share = edit(&|v| v["states"][0]["tile"][0][5]["large"][0]["share"] = json!(0.001));
    let large_share = edit(&|v| v["states"][0]["tile"][1][5]["large"][0]["share"] = json!(3.0));
    let positive_logs = edit(&|v| v["states"][0]["tile"][1][3]["sums"]["logs"] = json!(1.0));
    let heavy_rest = edit(&|v| v["states"][0]["tile"][0][3]["sums"]["rest"] = json!(1e300));
    // Row 5's share of column 4 is nearly all its weight: its log(1 − p) is the log of the
    // rest of the row, which no tile of a plan lets underflow.
    let underflowing_rest = edit(&|v| {
        for tile in [0, 1] {
            let mut row = row_5(v, tile);
            row["sums"]["rest"] = json!(0.0);
            v["states"][tile]["tile"][0][5] = row;
        }
    });
    let too_many = edit(&|v| {
        let entry = v["states"][0]["tile"][0][5]["large"][0].clone();
        v["states"][0]["tile"][0][5]["large"] = json!(vec![entry; 129]);
    });
    let short = edit(&|v| {
        v["states"][0]["tile"][1].as_array_mut().unwrap().pop();
    });
    let mixed = edit(&|v| v["states"][0]["first_round"] = json!(7));
    for forged in [
        past_the_panel,
        on_the_diagonal,
        column_on_its_row,
        small_share,
        large_share,
        positive_logs,
        heavy_rest,
        underflowing_rest,
        too_many,
        short,
        mixed,
    ] {
        assert!(
            matches!(
                shard_error(forged.finish(&cross_entropies)),
                ShardError::NotThePlan { .. }
            ),
            "a forged part finished"
        );
    }
    let first_logs = value["states"][0]["tile"][0][0]["sums"]["logs"]
        .as_f64()
        .unwrap();
    for forged in with_nan(&whole, first_logs) {
        assert!(matches!(
            shard_error(forged.finish(&cross_entropies)),
            ShardError::NotThePlan { .. }
        ));
    }
    // The cross-entropies travel (an MPI broadcast) and are checked where they are used:
    // forged ones are refused by the second round and by `finish`, as are those of another
    // temperature.
    let sent: serde_json::Value = serde_json::to_value(&cross_entropies).unwrap();
    let received = serde_json::from_value(sent.clone()).unwrap();
    assert_eq!(whole.clone().finish(&received).unwrap(), expected);
    // A log-sum-exp below its row's own pair's logit, or at it (far below the row's), which
    // makes most shares of the row large: the second round stops at 129 of them.
    let own_logit = |k: usize| {
        let value = |key: &str| sent["values"][key][k].as_f64().unwrap();
        value("row_lse") - value("row_ce")
    };
    let (lowered, far_below) = (own_logit(0) - 1.0, own_logit(9));
    for forge in [
        (&|v: &mut serde_json::Value| {
            v["values"]["col_lse"].as_array_mut().unwrap().pop();
        }) as &dyn Fn(&mut serde_json::Value),
        &|v| v["values"]["row_lse"][0] = json!(lowered),
        &|v| v["values"]["row_lse"][9] = json!(far_below),
    ] {
        let mut value = sent.clone();
        forge(&mut value);
        let forged = serde_json::from_value(value).unwrap();
        assert!(matches!(
            shard_error(whole.clone().finish(&forged)),
            ShardError::NotThePlan { .. }
        ));
        let second_round = shard::jackknife::contrastive_loss(&plan, &a, &b, &forged, 0..1);
        assert!(matches!(
            shard_error(second_round),
            ShardError::NotThePlan { .. }
        ));
    }
    // The second forgery passes the check of the own pairs' logits, and the tiles catch it.
    let mut value = sent.clone();
    value["values"]["row_lse"][9] = json!(far_below);
    let forged = serde_json::from_value(value).unwrap();
    let second_round = shard::jackknife::contrastive_loss(&plan, &a, &b, &forged, 0..1);
    assert!(matches!(
        shard_error(second_round),
        ShardError::NotThePlan { what } if what.contains("not the sets'")
    ));
    let warmer = Plan::contrastive_loss(&a, &b, Temperature::new(0.05).unwrap()).unwrap();
    let warmer = shard::contrastive_loss(&warmer, &a, &b, 0..plan.tiles())
        .unwrap()
        .cross_entropies()
        .unwrap();
    assert!(matches!(
        shard_error(whole.clone().finish(&warmer)),
        ShardError::NotThePlan { .. }
    ));

    // The first round of another plan, of another metric's plan, or a first round that is
    // not the loss's own.
    let other = Plan::contrastive_loss(&a, &b, Temperature::new(0.05).unwrap()).unwrap();
    assert!(matches!(
        shard_error(shard::jackknife::contrastive_loss(
            &other,
            &a,
            &b,
            &cross_entropies,
            0..1
        )),
        ShardError::NotThePlan { .. }
    ));
    let targets: Vec<usize> = (0..n).collect();
    let with_targets = Plan::contrastive_loss_with_targets(&a, &b, tau, &targets).unwrap();
    let part = shard::contrastive_loss_with_targets(
        &with_targets,
        &a,
        &b,
        &targets,
        0..with_targets.tiles(),
    );
    assert!(matches!(
        shard_error(part.unwrap().cross_entropies()),
        ShardError::NotThePlan { .. }
    ));
    assert!(matches!(
        shard_error(shard::jackknife::contrastive_loss(
            &with_targets,
            &a,
            &b,
            &cross_entropies,
            0..1
        )),
        ShardError::NotThePlan { .. }
    ));
    // Too few samples, and a temperature at which a share may underflow, which the in-memory
    // jackknife recomputes by a pass of the row itself and a merge of sums cannot.
    let (two_a, two_b) = (a.select(&[0, 1]).unwrap(), b.select(&[0, 1]).unwrap());
    let two = Plan::contrastive_loss(&two_a, &two_b, tau).unwrap();
    let first_two = shard::contrastive_loss(&two, &two_a, &two_b, 0..1)
        .unwrap()
        .cross_entropies()
        .unwrap();
    assert!(matches!(
        shard::jackknife::contrastive_loss(&two, &two_a, &two_b, &first_two, 0..1),
        Err(Error::TooFewSamples { .. })
    ));
    let cold = Temperature::new(1.0 / 400.0).unwrap();
    let plan = Plan::contrastive_loss(&a, &b, cold).unwrap();
    let first = shard::contrastive_loss(&plan, &a, &b, 0..plan.tiles())
        .unwrap()
        .cross_entropies()
        .unwrap();
    assert!(jackknife::contrastive_loss(&a, &b, cold).is_ok());
    assert!(matches!(
        shard::jackknife::contrastive_loss(&plan, &a, &b, &first, 0..1),
        Err(Error::InvalidParameter {
            name: "temperature",
            ..
        })
    ));
}

/// The separability over shards of sets of different sizes (chunks of 2048 rows across
/// tiles, tiles of none, and at 70 000 rows tiles of three), both element types: the
/// in-memory bits; a round's part is refused by another round, forged parts and misuse are
/// typed errors.
#[test]
fn the_separability_over_shards_gives_the_in_memory_bits() {
    let a = random_unit::<f64, Image>(9000, 12, 0.2, 91);
    let b = random_unit::<f64, Text>(7001, 12, -0.1, 92);
    for shards in [1, 4, 9] {
        separability_over_shards(&a, &b, shards, shards == 4);
    }
    let (a32, b32) = (
        random_unit::<f32, Image>(4100, 7, 0.3, 93),
        random_unit::<f32, Text>(5, 7, -0.3, 94),
    );
    separability_over_shards(&a32, &b32, 3, false);
    let (long, short) = (
        random_unit::<f64, Image>(70_000, 2, 0.4, 98),
        random_unit::<f64, Text>(9, 2, -0.4, 99),
    );
    separability_over_shards(&long, &short, 5, true);

    let plan = Plan::modality_separability(&a, &b).unwrap();
    // Each set's nodes of the summation tree: 12 of 9000 rows, 8 of 7001.
    assert_eq!(plan.tiles(), 20);
    let mut fit = SeparabilityFit::new(&plan, &a, &b).unwrap();
    let first = fit.round();
    let all = 0..plan.tiles();
    let part = shard::modality_separability(&plan, &a, &b, &first, all.clone()).unwrap();
    assert_eq!(fit.advance(part.clone()).unwrap(), None);
    // The next round (the derivatives) does not take the first round's part again.
    assert!(matches!(
        shard_error(fit.advance(part)),
        ShardError::NotThePlan { .. }
    ));
    let second = fit.round();
    assert_ne!(first, second);
    let part = shard::modality_separability(&plan, &a, &b, &second, all.clone()).unwrap();
    let half = shard::modality_separability(&plan, &a, &b, &second, 0..10).unwrap();
    assert!(matches!(
        shard_error(fit.advance(half)),
        ShardError::Incomplete { .. }
    ));
    #[cfg(feature = "serde")]
    {
        let edit = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut value = serde_json::to_value(&part).unwrap();
            f(&mut value);
            serde_json::from_value::<Part<SeparabilityTile>>(value).unwrap()
        };
        let short = edit(&|v| {
            v["states"][0]["chunks"].as_array_mut().unwrap().pop();
        });
        let no_products = edit(&|v| v["states"][12]["products"] = serde_json::json!([]));
        let counted = edit(&|v| v["states"][0]["correct"][0] = serde_json::json!(1));
        for forged in [short, no_products, counted] {
            assert!(matches!(
                shard_error(fit.advance(forged)),
                ShardError::NotThePlan { .. }
            ));
        }
        let first_sum = serde_json::to_value(&part).unwrap()["states"][0]["chunks"][0]
            .as_f64()
            .unwrap();
        for forged in with_nan(&part, first_sum) {
            assert!(matches!(
                shard_error(fit.advance(forged)),
                ShardError::NotThePlan { .. }
            ));
        }
    }
    assert_eq!(fit.advance(part).unwrap(), None);
    // Sets that are not the plan's, and a round of another dimension.
    let other = random_unit::<f64, Text>(7000, 12, -0.1, 95);
    assert!(matches!(
        shard_error(SeparabilityFit::new(&plan, &a, &other)),
        ShardError::NotThePlan { .. }
    ));
    assert!(matches!(
        shard_error(shard::modality_separability(
            &plan,
            &a,
            &other,
            &second,
            0..1
        )),
        ShardError::NotThePlan { .. }
    ));
    let (narrow_a, narrow_b) = (
        random_unit::<f64, Image>(9000, 11, 0.2, 96),
        random_unit::<f64, Text>(7001, 11, -0.1, 97),
    );
    let narrow = Plan::modality_separability(&narrow_a, &narrow_b).unwrap();
    assert!(matches!(
        shard_error(shard::modality_separability(
            &narrow,
            &narrow_a,
            &narrow_b,
            &second,
            0..1
        )),
        ShardError::NotThePlan { .. }
    ));
    assert!(matches!(
        Plan::modality_separability(&a, &b.select(&[0, 1, 2, 3]).unwrap()),
        Err(Error::TooFewSamples { .. })
    ));
}

/// The batched validation loss over shards: tiles of whole batches (several, and one batch
/// per tile when a batch has more than 2²² pairs), the last n mod size pairs left out; the
/// in-memory bits for any shard count, and typed errors for misuse and forged parts.
#[test]
fn the_batched_loss_over_shards_gives_the_in_memory_bits() {
    fn check<T: Scalar>(n: usize, size: usize, tiles: usize) {
        let a = random_unit::<T, Image>(n, 6, 1.0, 21);
        let b = random_unit::<T, Text>(n, 6, 0.5, 22);
        let tau = Temperature::new(0.05).unwrap();
        let plan = Plan::batched_contrastive_loss(&a, &b, tau, size).unwrap();
        assert_eq!(plan.tiles(), tiles, "{n} pairs in batches of {size}");
        let batches = (n / size) as u64;
        assert_eq!(plan.pairs(0..tiles), batches * (size * size) as u64);
        let expected = batched_contrastive_loss(&a, &b, tau, size).unwrap();
        for shards in [1, 2, 5] {
            let part = |r| shard::batched_contrastive_loss(&plan, &a, &b, r);
            for pairwise in [false, true] {
                let loss = merged(parts(&plan, shards, part), pairwise).finish();
                assert_eq!(loss.unwrap(), expected, "{shards} shards");
            }
        }
    }
    // 2²² / 1100² = 3 batches a tile: 8 batches (200 pairs left out) in tiles of 3, 3, 2.
    check::<f64>(9000, 1100, 3);
    // A batch of 2100² pairs is a tile of its own.
    check::<f32>(6500, 2100, 3);
    // 20 batches of 50 in one tile.
    check::<f32>(1003, 50, 1);

    let a = random_unit::<f64, Image>(100, 4, 1.0, 23);
    let b = random_unit::<f64, Text>(100, 4, 0.5, 24);
    let tau = Temperature::CLIP;
    assert!(matches!(
        Plan::batched_contrastive_loss(&a, &b, tau, 0),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        Plan::batched_contrastive_loss(&a, &b, tau, 101),
        Err(Error::TooFewSamples { .. })
    ));
    let short = b.select(&(0..99).collect::<Vec<_>>()).unwrap();
    assert!(matches!(
        Plan::batched_contrastive_loss(&a, &short, tau, 10),
        Err(Error::LengthMismatch { .. })
    ));
    // A plan of other sets (fewer rows, or f32) is not the plan of these.
    let plan = Plan::batched_contrastive_loss(&a, &b, tau, 10).unwrap();
    let other = Plan::batched_contrastive_loss(&a, &b, tau, 20).unwrap();
    let fewer = (
        a.select(&(0..90).collect::<Vec<_>>()).unwrap(),
        short.select(&(0..90).collect::<Vec<_>>()).unwrap(),
    );
    let (a32, b32) = (
        random_unit::<f32, Image>(100, 4, 1.0, 23),
        random_unit::<f32, Text>(100, 4, 0.5, 24),
    );
    for wrong in [
        shard::batched_contrastive_loss(&plan, &fewer.0, &fewer.1, 0..1),
        shard::batched_contrastive_loss(&plan, &a32, &b32, 0..1),
    ] {
        assert!(matches!(shard_error(wrong), ShardError::NotThePlan { .. }));
    }
    let part = shard::batched_contrastive_loss(&plan, &a, &b, 0..1).unwrap();
    let part20 = shard::batched_contrastive_loss(&other, &a, &b, 0..1).unwrap();
    assert_eq!(
        shard_error(part.clone().merge(part20)),
        ShardError::DifferentPasses
    );
    assert_eq!(
        part.finish().unwrap(),
        batched_contrastive_loss(&a, &b, tau, 10).unwrap()
    );
}

/// Forged parts of the batched loss: a batch missing or added, a batch size or tile count
/// that no plan of the shapes makes, or one whose batches are not the tile's, are
/// `NotThePlan`; a NaN or infinite cross-entropy is the in-memory loss's `Overflow`.
#[cfg(feature = "serde")]
#[test]
fn forged_parts_of_the_batched_loss_are_typed_errors() {
    use serde_json::{Value, json};
    let a = random_unit::<f32, Image>(210, 4, 1.0, 25);
    let b = random_unit::<f32, Text>(210, 4, 0.5, 26);
    let tau = Temperature::CLIP;
    let plan = Plan::batched_contrastive_loss(&a, &b, tau, 20).unwrap();
    let part = shard::batched_contrastive_loss(&plan, &a, &b, 0..plan.tiles()).unwrap();
    let value = serde_json::to_value(&part).unwrap();
    let back =
        serde_json::from_value::<Part<shard::BatchedContrastiveTile<Image, Text>>>(value.clone())
            .unwrap();
    assert_eq!(
        back.finish().unwrap(),
        batched_contrastive_loss(&a, &b, tau, 20).unwrap()
    );
    let halves = |v: &mut Value| v["states"][0]["halves"].as_array_mut().unwrap().clone();
    let forgeries: [&dyn Fn(&mut Value); 6] = [
        &|v| {
            v["states"][0]["halves"].as_array_mut().unwrap().pop();
        },
        &|v| {
            let first = halves(v)[0].clone();
            v["states"][0]["halves"].as_array_mut().unwrap().push(first);
        },
        &|v| v["pass"]["groups"] = json!(0),
        &|v| v["pass"]["groups"] = json!(211),
        // A plan of batches of 30 has one tile too, of 7 batches.
        &|v| v["pass"]["groups"] = json!(30),
        &|v| {
            v["pass"]["tiles"] = json!(2);
            let empty = json!({"halves": [], "modalities": null});
            v["states"].as_array_mut().unwrap().push(empty);
        },
    ];
    for (k, forge) in forgeries.iter().enumerate() {
        let mut forged = value.clone();
        forge(&mut forged);
        let forged: Part<shard::BatchedContrastiveTile<Image, Text>> =
            serde_json::from_value(forged).unwrap();
        assert!(
            matches!(shard_error(forged.finish()), ShardError::NotThePlan { .. }),
            "forgery {k}"
        );
    }
    let entry = value["states"][0]["halves"][3][1].as_f64().unwrap();
    let bytes = postcard::to_allocvec(&part).unwrap();
    let at = (bytes.windows(8))
        .position(|w| w == entry.to_le_bytes())
        .unwrap();
    for forged in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let mut bytes = bytes.clone();
        bytes[at..at + 8].copy_from_slice(&forged.to_le_bytes());
        let part: Part<shard::BatchedContrastiveTile<Image, Text>> =
            postcard::from_bytes(&bytes).unwrap();
        assert!(
            matches!(part.finish(), Err(Error::Overflow { .. })),
            "{forged}"
        );
    }
}

/// The alignment of raw rows (`raw::align_loss`: no unit norm) over shards: the same plan as
/// on unit rows, the in-memory bits and errors; the COCO alignment's plan is refused by
/// another grouping.
#[test]
fn raw_rows_and_the_coco_alignment_over_shards_give_the_in_memory_bits() {
    use modality_gap::raw;
    let n = 5000;
    let scaled = |x: &UnitEmbeddings<f64, Image>| {
        let values = (x.as_slice().iter().enumerate())
            .map(|(k, v)| v * (0.2 + (k / 6 % 7) as f64))
            .collect();
        Embeddings::<f64, Image>::from_row_major_vec(n, 6, values).unwrap()
    };
    let a = scaled(&random_unit::<f64, Image>(n, 6, 0.4, 31));
    let b = scaled(&random_unit::<f64, Image>(n, 6, -0.2, 32)).with_modality::<Text>();
    let align = Plan::align_loss(&a, &b, 2.0).unwrap();
    assert_eq!(align.tiles(), 3);
    for shards in [1, 2, 3] {
        let part = |r| shard::align_loss(&align, &a, &b, r);
        let value = merged(parts(&align, shards, part), shards == 3).finish();
        let expected = raw::align_loss(&a, &b, 2.0).unwrap();
        assert_eq!(
            value.unwrap().to_bits(),
            expected.to_bits(),
            "raw alignment"
        );
    }
    let uniform = Plan::uniform_loss(&a, 2.0).unwrap();
    for shards in [1, 2, uniform.tiles()] {
        let part = |r| shard::uniform_loss(&uniform, &a, r);
        let value = merged(parts(&uniform, shards, part), shards == 2).finish();
        let expected = raw::uniform_loss(&a, 2.0).unwrap();
        assert_eq!(
            value.unwrap().to_bits(),
            expected.to_bits(),
            "raw uniformity"
        );
    }
    // An outlier leaves the close pairs unresolved: the plan refuses it as the pass does.
    let outlier = Embeddings::<f64, Image>::from_rows(&[[1e8, 0.0], [0.0, 1.0], [1.0, 0.0]]);
    let outlier = outlier.unwrap();
    for refused in [
        Plan::uniform_loss(&outlier, 1.0).map(|_| ()),
        raw::uniform_loss(&outlier, 1.0).map(|_| ()),
    ] {
        assert!(
            matches!(refused, Err(Error::Unresolved { .. })),
            "{refused:?}"
        );
    }
    // Raw f64 rows whose difference overflows (a NaN distance): the in-memory error.
    let huge = Embeddings::<f64, Image>::from_rows(&[[1.5e308, 0.0], [0.0, 1.0], [1.0, 0.0]]);
    let other = Embeddings::<f64, Text>::from_rows(&[[-1.5e308, 0.0], [0.0, 1.0], [1.0, 1.0]]);
    let (huge, other) = (huge.unwrap(), other.unwrap());
    let plan = Plan::align_loss(&huge, &other, 2.0).unwrap();
    let sharded = shard::align_loss(&plan, &huge, &other, 0..1).and_then(|p| p.finish());
    assert!(
        matches!(sharded, Err(Error::Overflow { .. })),
        "{sharded:?}"
    );
    assert!(matches!(
        raw::align_loss(&huge, &other, 2.0),
        Err(Error::Overflow { .. })
    ));

    // 9000 captions of 3000 images: tiles of whole chunks of captions.
    let images = random_unit::<f32, Image>(3000, 5, 0.3, 33);
    let captions = random_unit::<f32, Text>(9000, 5, 0.1, 34);
    let coco =
        Captioned::new(images, captions.clone(), (0..9000).map(|j| j / 3).collect()).unwrap();
    let plan = Plan::captioned_align_loss(&coco, 2.0).unwrap();
    assert_eq!(plan.tiles(), 5);
    for shards in [1, 2, 5] {
        let part = |r| shard::captioned_align_loss(&plan, &coco, r);
        let value = merged(parts(&plan, shards, part), false).finish().unwrap();
        assert_eq!(value.to_bits(), coco.align_loss(2.0).unwrap().to_bits());
    }
    let images = coco.images().clone();
    let other = Captioned::new(images, captions, (0..9000).map(|j| j % 3000).collect()).unwrap();
    assert!(matches!(
        shard_error(shard::captioned_align_loss(&plan, &other, 0..1)),
        ShardError::NotThePlan { .. }
    ));
    assert!(matches!(
        Plan::captioned_align_loss(&coco, -1.0),
        Err(Error::InvalidParameter { .. })
    ));
}
