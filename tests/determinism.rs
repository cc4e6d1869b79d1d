//! Every metric gives bitwise the same result in a pool of 1, 2 or 8 threads.

use modality_gap::{
    CosineHistogram, Diagonal, Embeddings, Image, Temperature, Text, UnitEmbeddings, align_loss,
    batched_contrastive_loss, contrastive_loss, gap, mean_pairwise_cosine, retrieval_recall, top_k,
    uniform_loss,
};

/// The O(n·d) metrics on a pair with more rows than one reduction chunk (so several partial
/// sums are combined), and the pairwise metrics on a pair large enough to run in parallel
/// over several tasks of the kernel (1200 rows of 256 f32 values: four tasks).
fn all_metrics(
    (a, b): &(UnitEmbeddings<f32, Image>, UnitEmbeddings<f32, Text>),
    (small_a, small_b): &(UnitEmbeddings<f32, Image>, UnitEmbeddings<f32, Text>),
) -> Vec<f64> {
    let mut out = gap(a, b).unwrap().vector().to_vec();
    out.push(mean_pairwise_cosine(a, Diagonal::Excluded).unwrap());
    out.push(mean_pairwise_cosine(a, Diagonal::Included).unwrap());
    out.push(align_loss(a, b, 3.0).unwrap());
    out.push(uniform_loss(small_a, 2.0).unwrap());
    let loss = contrastive_loss(small_a, small_b, Temperature::new(0.05).unwrap()).unwrap();
    out.extend([loss.a_to_b, loss.b_to_a]);
    out.push(retrieval_recall(small_a, small_b, 5).unwrap().b_to_a);
    let h = CosineHistogram::within(small_a, 100).unwrap();
    out.extend([h.mean(), h.std().unwrap(), h.quantile(0.3).unwrap()]);
    out.extend(top_k(small_a, small_b, 3).unwrap().similarities(1199));
    // 100 batches of 50, run in parallel.
    let batched = batched_contrastive_loss(a, b, Temperature::new(0.05).unwrap(), 50).unwrap();
    out.extend([batched.a_to_b, batched.b_to_a]);
    out
}

fn set<M: modality_gap::Modality>(n: usize, d: usize, phase: f64) -> UnitEmbeddings<f32, M> {
    let values = (0..n * d)
        .map(|k| ((k as f64) * 0.7 + phase).sin() as f32 + 0.3)
        .collect();
    UnitEmbeddings::normalize(Embeddings::from_row_major_vec(n, d, values).unwrap()).unwrap()
}

#[test]
fn metrics_do_not_depend_on_the_thread_count() {
    let large = (set::<Image>(5000, 6, 0.0), set::<Text>(5000, 6, 1.0));
    let small = (set::<Image>(1200, 256, 0.0), set::<Text>(1200, 256, 1.0));
    let in_pool = |threads| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| all_metrics(&large, &small))
    };
    let one = in_pool(1);
    for threads in [2, 8] {
        let other = in_pool(threads);
        let same = one
            .iter()
            .zip(&other)
            .all(|(x, y)| x.to_bits() == y.to_bits());
        assert!(same, "{threads} threads: {other:?} vs {one:?}");
    }
}
