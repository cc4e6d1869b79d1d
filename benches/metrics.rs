//! Metric throughput. `cargo bench --bench metrics`; throughput is counted in the pairs (or
//! rows, for the O(n·d) metrics) each metric visits.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use modality_gap::{
    Diagonal, Embeddings, Image, Modality, Text, UnitEmbeddings, align_loss, contrastive_loss, gap,
    mean_pairwise_cosine, uniform_loss,
};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal};

/// n standard-normal samples of dimension d, normalised, from a fixed seed.
fn gaussian<M: Modality>(n: usize, d: usize, seed: u64) -> UnitEmbeddings<f32, M> {
    let mut rng = StdRng::seed_from_u64(seed);
    let values = (0..n * d)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect();
    UnitEmbeddings::normalize(Embeddings::from_row_major_vec(n, d, values).unwrap()).unwrap()
}

fn pairwise(c: &mut Criterion) {
    let d = 512;
    let mut group = c.benchmark_group("pairwise_f32_d512");
    group.sample_size(10);
    for n in [256, 1024] {
        let (a, b) = (gaussian::<Image>(n, d, 1), gaussian::<Text>(n, d, 2));
        group.throughput(Throughput::Elements((n * (n - 1) / 2) as u64));
        group.bench_with_input(BenchmarkId::new("uniform_loss", n), &n, |bench, _| {
            bench.iter(|| uniform_loss(&a, 2.0).unwrap())
        });
        group.throughput(Throughput::Elements((n * n) as u64));
        group.bench_with_input(BenchmarkId::new("contrastive_loss", n), &n, |bench, _| {
            bench.iter(|| contrastive_loss(&a, &b, 0.01).unwrap())
        });
    }
    group.finish();
}

fn linear(c: &mut Criterion) {
    let d = 512;
    let mut group = c.benchmark_group("linear_f32_d512");
    for n in [1024, 16384] {
        let (a, b) = (gaussian::<Image>(n, d, 3), gaussian::<Text>(n, d, 4));
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("gap", n), &n, |bench, _| {
            bench.iter(|| gap(&a, &b).unwrap())
        });
        group.bench_with_input(
            BenchmarkId::new("mean_pairwise_cosine", n),
            &n,
            |bench, _| bench.iter(|| mean_pairwise_cosine(&a, Diagonal::Excluded).unwrap()),
        );
        group.bench_with_input(BenchmarkId::new("align_loss", n), &n, |bench, _| {
            bench.iter(|| align_loss(&a, &b, 2.0).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, pairwise, linear);
criterion_main!(benches);
