//! Metric throughput. `cargo bench --bench metrics [-- FILTER]`.
//!
//! Throughput is counted in the pairs each pairwise metric visits (n(n−1)/2 for uniformity,
//! n² for the contrastive loss; multiply by 2d for flops) and in rows for the O(n·d) metrics
//! (multiply by 4d bytes per f32 set read). Each run first prints this machine's f32 FMA peak,
//! the rate of the kernel's bare micro-kernel fed from cache, and the read bandwidth, measured
//! then (`examples/support/probe.rs`, shared with `cargo run --release --example peak`), so
//! that the medians can be stated as a fraction of the peak of the same run;
//! `docs/benchmarks.md` turns them into GFLOP/s and GB/s. Benchmark ids:
//! `pairwise/{metric}/{f32|f64}/d{d}/{n}`, `epilogues/…`,
//! `captions/{metric}/f32/d512/{images}`, `geometry/{metric}/{n}`, `spectral/{metric}/{n}` and
//! `linear/{metric}/{n}` and `errors/{metric}/{value|jackknife}/{n}` (f32, d = 512).

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group};
use modality_gap::{
    Captioned, Centring, CosineHistogram, Diagonal, Embeddings, HsicEstimator, Image, Modality,
    Scalar, Spectrum, Temperature, Text, UnitEmbeddings, align_loss, cka, cknna, contrastive_loss,
    cross_modal_uniformity, effective_rank, gap, isoscore, jackknife, mean_centred,
    mean_pairwise_cosine, modality_separability, mutual_knn, relative_gap, retrieval_recall, svcca,
    top_k, uniform_loss,
};
use std::cell::OnceCell;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, StandardNormal};

#[path = "../examples/support/probe.rs"]
mod probe;

/// n standard-normal samples of dimension d, normalised, from a fixed seed.
fn gaussian<T: Scalar, M: Modality>(n: usize, d: usize, seed: u64) -> UnitEmbeddings<T, M> {
    let mut rng = StdRng::seed_from_u64(seed);
    let values = (0..n * d)
        .map(|_| T::from_f64(StandardNormal.sample(&mut rng)))
        .collect();
    UnitEmbeddings::normalize(Embeddings::from_row_major_vec(n, d, values).unwrap()).unwrap()
}

/// An image and a text set of n × d, made on first use (criterion runs no closure of a
/// benchmark its filter leaves out, so filtered runs skip the large sets).
type Pair<T> = OnceCell<(UnitEmbeddings<T, Image>, UnitEmbeddings<T, Text>)>;

fn pair<T: Scalar>(
    cell: &Pair<T>,
    n: usize,
    d: usize,
) -> &(UnitEmbeddings<T, Image>, UnitEmbeddings<T, Text>) {
    cell.get_or_init(|| (gaussian(n, d, 1), gaussian(n, d, 2)))
}

/// Uniformity and the contrastive loss at the sizes, in one precision.
fn pairwise_in<T: Scalar>(c: &mut Criterion) {
    let mut group = c.benchmark_group("pairwise");
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    let sizes = |d| match d {
        512 => &[1024, 4096, 8192, 16384][..], // 8192 × 512: the targets
        _ => &[1024, 4096, 16384][..],
    };
    for d in [512, 768] {
        for &n in sizes(d) {
            let data = Pair::<T>::new();
            let id = |metric: &str| BenchmarkId::new(format!("{metric}/{}/d{d}", T::NAME), n);
            group.throughput(Throughput::Elements((n * (n - 1) / 2) as u64));
            group.bench_function(id("uniform_loss"), |bench| {
                let (a, _) = pair(&data, n, d);
                bench.iter(|| uniform_loss(a, 2.0).unwrap())
            });
            group.throughput(Throughput::Elements((n * n) as u64));
            group.bench_function(id("contrastive_loss"), |bench| {
                let (a, b) = pair(&data, n, d);
                bench.iter(|| contrastive_loss(a, b, Temperature::CLIP).unwrap())
            });
        }
    }
    group.finish();
}

fn pairwise(c: &mut Criterion) {
    pairwise_in::<f32>(c);
    pairwise_in::<f64>(c);
}

/// The other epilogues of the kernel at one size, f32, d = 512.
fn epilogues(c: &mut Criterion) {
    let (n, d) = (4096, 512);
    let data = Pair::<f32>::new();
    let mut group = c.benchmark_group("epilogues");
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements((n * n) as u64));
    group.bench_function(BenchmarkId::new("retrieval_recall/f32/d512", n), |bench| {
        let (a, b) = pair(&data, n, d);
        bench.iter(|| retrieval_recall(a, b, 5).unwrap())
    });
    group.bench_function(BenchmarkId::new("top_k/f32/d512", n), |bench| {
        let (a, b) = pair(&data, n, d);
        bench.iter(|| top_k(a, b, 10).unwrap())
    });
    group.bench_function(
        BenchmarkId::new("cross_modal_uniformity/f32/d512", n),
        |bench| {
            let (a, b) = pair(&data, n, d);
            bench.iter(|| cross_modal_uniformity(a, b, 2.0).unwrap())
        },
    );
    // Two top-k passes of one set with itself each (n² dot products per set).
    group.throughput(Throughput::Elements((2 * n * n) as u64));
    group.bench_function(BenchmarkId::new("mutual_knn/f32/d512", n), |bench| {
        let (a, b) = pair(&data, n, d);
        bench.iter(|| mutual_knn(a, b, 10).unwrap())
    });
    group.bench_function(BenchmarkId::new("cknna/f32/d512", n), |bench| {
        let (a, b) = pair(&data, n, d);
        bench.iter(|| cknna(a, b, 10).unwrap())
    });
    group.throughput(Throughput::Elements((n * (n - 1) / 2) as u64));
    group.bench_function(BenchmarkId::new("cosine_histogram/f32/d512", n), |bench| {
        let (a, _) = pair(&data, n, d);
        bench.iter(|| CosineHistogram::within(a, 2000).unwrap())
    });
    group.finish();
}

/// Images with five captions each at the size of MSCOCO's 5k test split (5,000 images, 25,000
/// captions, d = 512, f32): the COCO-protocol retrieval ranks and the multi-positive loss, one
/// pass of n × m each.
fn captions(c: &mut Criterion) {
    let (n, per_image, d) = (5000, 5, 512);
    let data = OnceCell::new();
    let coco = || {
        data.get_or_init(|| {
            let images = gaussian::<f32, Image>(n, d, 3);
            let captions = gaussian::<f32, Text>(n * per_image, d, 4);
            let image_of = (0..n * per_image).map(|j| j / per_image).collect();
            Captioned::new(images, captions, image_of).unwrap()
        })
    };
    let mut group = c.benchmark_group("captions");
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements((n * n * per_image) as u64));
    group.bench_function(BenchmarkId::new("retrieval_ranks/f32/d512", n), |bench| {
        let coco = coco();
        bench.iter(|| coco.retrieval_ranks())
    });
    group.bench_function(BenchmarkId::new("contrastive_loss/f32/d512", n), |bench| {
        let coco = coco();
        bench.iter(|| coco.contrastive_loss(Temperature::CLIP).unwrap())
    });
    group.finish();
}

/// Every metric of the follow-up geometry on one input, f32, n = 10 000, d = 512 (the size at
/// which `benches/geometry_baseline.sh` times the reference code and numpy), and 1,000 images
/// with 5 captions each.
fn geometry(c: &mut Criterion) {
    let (n, d) = (10_000, 512);
    let data = Pair::<f32>::new();
    let mut group = c.benchmark_group("geometry");
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    let id = |metric: &str| BenchmarkId::new(metric, n);
    group.bench_function(id("l2i"), |bench| {
        let (a, b) = pair(&data, n, d);
        bench.iter(|| align_loss(a, b, 1.0).unwrap())
    });
    group.bench_function(id("relative_gap"), |bench| {
        let (a, b) = pair(&data, n, d);
        bench.iter(|| relative_gap(a, b).unwrap())
    });
    group.bench_function(id("cross_modal_uniformity"), |bench| {
        let (a, b) = pair(&data, n, d);
        bench.iter(|| cross_modal_uniformity(a, b, 2.0).unwrap())
    });
    for estimator in [HsicEstimator::Biased, HsicEstimator::Unbiased] {
        let name = format!("cka_{estimator:?}").to_lowercase();
        group.bench_function(id(&name), |bench| {
            let (a, b) = pair(&data, n, d);
            bench.iter(|| cka(a, b, estimator).unwrap())
        });
    }
    group.bench_function(id("mutual_knn"), |bench| {
        let (a, b) = pair(&data, n, d);
        bench.iter(|| mutual_knn(a, b, 10).unwrap())
    });
    group.bench_function(id("cknna"), |bench| {
        let (a, b) = pair(&data, n, d);
        bench.iter(|| cknna(a, b, 10).unwrap())
    });
    group.bench_function(id("svcca"), |bench| {
        let (a, b) = pair(&data, n, d);
        bench.iter(|| svcca(a, b, 10).unwrap())
    });
    group.bench_function(id("effective_rank"), |bench| {
        let (a, _) = pair(&data, n, d);
        bench.iter(|| effective_rank(a, Spectrum::SingularValues, Centring::None).unwrap())
    });
    group.bench_function(id("isoscore"), |bench| {
        let (a, _) = pair(&data, n, d);
        bench.iter(|| isoscore(a).unwrap())
    });
    group.bench_function(id("modality_separability"), |bench| {
        let (a, b) = pair(&data, n, d);
        bench.iter(|| modality_separability(a, b).unwrap())
    });
    group.bench_function(id("mean_centred"), |bench| {
        let (a, _) = pair(&data, n, d);
        bench.iter(|| mean_centred(a).unwrap())
    });
    let (images, per_image) = (1000, 5);
    let coco = OnceCell::<Captioned<f32>>::new();
    let coco = || {
        coco.get_or_init(|| {
            let image_of = (0..images * per_image).map(|j| j / per_image).collect();
            let captions = gaussian::<f32, Text>(images * per_image, d, 4);
            Captioned::new(gaussian(images, d, 3), captions, image_of).unwrap()
        })
    };
    let id = |metric: &str| BenchmarkId::new(metric, format!("{images}x{per_image}"));
    group.bench_function(id("captions_l2i"), |bench| {
        let coco = coco();
        bench.iter(|| coco.align_loss(1.0).unwrap())
    });
    group.bench_function(id("captions_relative_gap"), |bench| {
        let coco = coco();
        bench.iter(|| coco.relative_gap().unwrap())
    });
    group.bench_function(id("captions_recall"), |bench| {
        let coco = coco();
        bench.iter(|| coco.retrieval_recall(5).unwrap())
    });
    group.finish();
}

/// The O(n·d²) metrics (d × d cross products, then an O(d³) eigendecomposition), f32,
/// d = 512, at n = 10⁵ and 10⁶ (2 GB a set).
fn spectral(c: &mut Criterion) {
    let d = 512;
    let mut group = c.benchmark_group("spectral");
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    for n in [100_000, 1_000_000] {
        let data = Pair::<f32>::new();
        group.throughput(Throughput::Elements(n as u64));
        for estimator in [HsicEstimator::Biased, HsicEstimator::Unbiased] {
            let name = format!("cka_{estimator:?}").to_lowercase();
            group.bench_function(BenchmarkId::new(name, n), |bench| {
                let (a, b) = pair(&data, n, d);
                bench.iter(|| cka(a, b, estimator).unwrap())
            });
        }
        group.bench_function(BenchmarkId::new("svcca", n), |bench| {
            let (a, b) = pair(&data, n, d);
            bench.iter(|| svcca(a, b, 10).unwrap())
        });
        group.bench_function(BenchmarkId::new("effective_rank", n), |bench| {
            let (a, _) = pair(&data, n, d);
            bench.iter(|| effective_rank(a, Spectrum::SingularValues, Centring::Mean).unwrap())
        });
        group.bench_function(BenchmarkId::new("isoscore", n), |bench| {
            let (a, _) = pair(&data, n, d);
            bench.iter(|| isoscore(a).unwrap())
        });
        group.bench_function(BenchmarkId::new("modality_separability", n), |bench| {
            let (a, b) = pair(&data, n, d);
            bench.iter(|| modality_separability(a, b).unwrap())
        });
    }
    group.finish();
}

/// The O(n·d) metrics, f32, d = 512, up to n = 10⁶ (2 GB a set).
fn linear(c: &mut Criterion) {
    let d = 512;
    let mut group = c.benchmark_group("linear");
    group.sample_size(10);
    for n in [10_000, 100_000, 1_000_000] {
        let data = Pair::<f32>::new();
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(BenchmarkId::new("mean_pairwise_cosine", n), |bench| {
            let (a, _) = pair(&data, n, d);
            bench.iter(|| mean_pairwise_cosine(a, Diagonal::Excluded).unwrap())
        });
        group.bench_function(BenchmarkId::new("gap", n), |bench| {
            let (a, b) = pair(&data, n, d);
            bench.iter(|| gap(a, b).unwrap())
        });
        group.bench_function(BenchmarkId::new("align_loss", n), |bench| {
            let (a, b) = pair(&data, n, d);
            bench.iter(|| align_loss(a, b, 2.0).unwrap())
        });
        group.bench_function(BenchmarkId::new("relative_gap", n), |bench| {
            let (a, b) = pair(&data, n, d);
            bench.iter(|| relative_gap(a, b).unwrap())
        });
        group.bench_function(BenchmarkId::new("mean_centred", n), |bench| {
            let (a, _) = pair(&data, n, d);
            bench.iter(|| mean_centred(a).unwrap())
        });
    }
    group.finish();
}

/// The pairwise passes with and without standard errors, f32, d = 512: issue 13 asks the
/// jackknife to cost at most 10 % more than the value alone (the uniformities do, and the
/// contrastive loss's grouped jackknife from the metric's pass; its delete-one jackknife and
/// recall's need a second pass).
fn errors(c: &mut Criterion) {
    let mut group = c.benchmark_group("errors");
    group.sample_size(10).sampling_mode(SamplingMode::Flat);
    let d = 512;
    for n in [4096, 8192] {
        let data = Pair::<f32>::new();
        let id = |metric: &str, variant: &str| BenchmarkId::new(format!("{metric}/{variant}"), n);
        group.throughput(Throughput::Elements((n * (n - 1) / 2) as u64));
        group.bench_function(id("uniform_loss", "value"), |bench| {
            let (a, _) = pair(&data, n, d);
            bench.iter(|| uniform_loss(a, 2.0).unwrap())
        });
        group.bench_function(id("uniform_loss", "jackknife"), |bench| {
            let (a, _) = pair(&data, n, d);
            bench.iter(|| jackknife::uniform_loss(a, 2.0).unwrap())
        });
        group.throughput(Throughput::Elements((n * (n - 1)) as u64));
        group.bench_function(id("cross_modal_uniformity", "value"), |bench| {
            let (a, b) = pair(&data, n, d);
            bench.iter(|| cross_modal_uniformity(a, b, 2.0).unwrap())
        });
        group.bench_function(id("cross_modal_uniformity", "jackknife"), |bench| {
            let (a, b) = pair(&data, n, d);
            bench.iter(|| jackknife::cross_modal_uniformity(a, b, 2.0).unwrap())
        });
        group.throughput(Throughput::Elements((n * n) as u64));
        group.bench_function(id("contrastive_loss", "value"), |bench| {
            let (a, b) = pair(&data, n, d);
            bench.iter(|| contrastive_loss(a, b, Temperature::CLIP).unwrap())
        });
        group.bench_function(id("contrastive_loss", "jackknife"), |bench| {
            let (a, b) = pair(&data, n, d);
            bench.iter(|| jackknife::contrastive_loss(a, b, Temperature::CLIP).unwrap())
        });
        group.bench_function(id("contrastive_loss", "grouped_jackknife"), |bench| {
            let (a, b) = pair(&data, n, d);
            let t = Temperature::CLIP;
            bench.iter(|| jackknife::contrastive_loss_grouped(a, b, t, 32).unwrap())
        });
        group.bench_function(id("retrieval_recall", "value"), |bench| {
            let (a, b) = pair(&data, n, d);
            bench.iter(|| retrieval_recall(a, b, 1).unwrap())
        });
        group.bench_function(id("retrieval_recall", "jackknife"), |bench| {
            let (a, b) = pair(&data, n, d);
            bench.iter(|| jackknife::retrieval_recall(a, b, 1).unwrap())
        });
    }
    // Recall's jackknife keeps, in the metric's pass, the first K outrankers of each query and
    // rescans a block row when a count below K moved: rare for the independent sets above
    // (ranks uniform over 0..n), frequent here, where each text is its image plus noise
    // (cosine about 0.18, R@1 0.69, a twelfth of the queries at rank 1).
    let n = 4096;
    let aligned: Pair<f32> = Pair::new();
    let aligned = || {
        aligned.get_or_init(|| {
            let (images, noise) = (
                gaussian::<f32, Image>(n, d, 1),
                gaussian::<f32, Text>(n, d, 3),
            );
            let texts = (images.as_slice().iter().zip(noise.as_slice()))
                .map(|(x, z)| x + 5.4 * z)
                .collect();
            let texts = Embeddings::from_row_major_vec(n, d, texts).unwrap();
            (images, UnitEmbeddings::normalize(texts).unwrap())
        })
    };
    let id = |variant: &str| BenchmarkId::new(format!("retrieval_recall_aligned/{variant}"), n);
    group.throughput(Throughput::Elements((n * n) as u64));
    group.bench_function(id("value"), |bench| {
        let (a, b) = aligned();
        bench.iter(|| retrieval_recall(a, b, 1).unwrap())
    });
    group.bench_function(id("jackknife"), |bench| {
        let (a, b) = aligned();
        bench.iter(|| jackknife::retrieval_recall(a, b, 1).unwrap())
    });
    // The spectra (O(n·d²) metrics): IsoScore's rank-one updates cost about the metric again,
    // the effective rank's d secular solves per row far more.
    let (n, data) = (2048, Pair::<f32>::new());
    let id = |metric: &str, variant: &str| BenchmarkId::new(format!("{metric}/{variant}"), n);
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function(id("isoscore", "value"), |bench| {
        let (a, _) = pair(&data, n, d);
        bench.iter(|| isoscore(a).unwrap())
    });
    group.bench_function(id("isoscore", "jackknife"), |bench| {
        let (a, _) = pair(&data, n, d);
        bench.iter(|| jackknife::isoscore(a).unwrap())
    });
    let (spectrum, centring) = (Spectrum::SingularValues, Centring::Mean);
    group.bench_function(id("effective_rank", "value"), |bench| {
        let (a, _) = pair(&data, n, d);
        bench.iter(|| effective_rank(a, spectrum, centring).unwrap())
    });
    group.bench_function(id("effective_rank", "jackknife"), |bench| {
        let (a, _) = pair(&data, n, d);
        bench.iter(|| jackknife::effective_rank(a, spectrum, centring).unwrap())
    });
    group.finish();
}

criterion_group!(
    benches, pairwise, epilogues, captions, geometry, spectral, linear, errors
);

/// The machine's peak, its bare micro-kernel's rate and its bandwidth, measured now, then the
/// benchmarks (criterion_main's body).
fn main() {
    let (isa, one, all) = probe::fma_peak_f32(0.5);
    let (tile_one, tile_all) = probe::tile_rate_f32(0.5);
    let read = probe::read_bandwidth(1 << 30);
    let threads = rayon::current_num_threads();
    println!(
        "peak ({isa}): {:.1} GFLOP/s f32 on 1 thread, {:.1} on {threads}; the bare \
         micro-kernel {:.1} and {:.1}; reads {:.1} GB/s",
        one / 1e9,
        all / 1e9,
        tile_one / 1e9,
        tile_all / 1e9,
        read / 1e9
    );
    benches();
    Criterion::default().configure_from_args().final_summary();
}
