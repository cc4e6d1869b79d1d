//! The throughput of the two pairwise passes, uniformity and the contrastive loss, as a
//! fraction of this machine's fused multiply-add peak and of its bare micro-kernel's rate (fed
//! from cache, no packing, no epilogue: `support/probe.rs`), both measured in the same run.
//!
//! `cargo run --release --example throughput -- [--sizes 8192x512,16384x768] [--dtypes
//! f32,f64] [--repeats 5] [--json]` times each metric on random unit rows (`--repeats` runs,
//! the median) and prints its flop rate: n(n−1)·d useful flops for uniformity (the pairs
//! i < j, two flops per multiply-add) and 2n²·d for the contrastive loss. The f64 peak is half
//! the measured f32 one: every instruction set here issues as many f64 as f32 vector
//! multiply-adds per cycle, with half the lanes. `benches/side_by_side.sh` runs this beside
//! numpy and torch; `--json` prints one object for it.

#[path = "support/help.rs"]
mod help;
#[allow(dead_code)] // the FMA peak only, not the read bandwidth
#[path = "support/probe.rs"]
mod probe;
#[path = "support/random.rs"]
mod random;

use std::time::Instant;

use modality_gap::{Image, Scalar, Temperature, Text, contrastive_loss, uniform_loss};

/// What `--help` prints.
const USAGE: &str = "\
usage: cargo run --release --example throughput -- [--sizes NxD,...] [--dtypes f32,f64]
       [--repeats R] [--metrics uniform_loss,contrastive_loss] [--no-peak] [--json]
The median time of uniform_loss (t = 2) and contrastive_loss (CLIP's temperature) on N
random unit rows of dimension D, and its flop rate against the FMA peak and the bare
micro-kernel's rate measured in the same run (--no-peak skips both, for
.ci/instruction_budget under valgrind). Defaults: --sizes 1024x512,8192x512,16384x768
--dtypes f32,f64 --repeats 5, both metrics.
";

/// The value after `flag` on the command line, or `default`.
fn option(flag: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == flag)
        .and_then(|k| args.get(k + 1).cloned())
        .unwrap_or_else(|| default.to_owned())
}

/// One timed metric.
struct Timing {
    metric: &'static str,
    dtype: &'static str,
    n: usize,
    d: usize,
    seconds: f64,
    flops: f64,
}

/// The median of `repeats` runs of `f`, in seconds.
fn median_seconds(repeats: usize, mut f: impl FnMut()) -> f64 {
    let mut times: Vec<f64> = (0..repeats)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// The chosen metrics (`uniform_loss`, `contrastive_loss`) at one size and precision.
fn time_metrics<T: Scalar>(metrics: &[&str], n: usize, d: usize, repeats: usize) -> Vec<Timing> {
    let (a, b) = (
        random::unit::<T, Image>(n, d, 1, 0.0),
        random::unit::<T, Text>(n, d, 2, 0.0),
    );
    let (nf, df) = (n as f64, d as f64);
    let timing = |metric, seconds, flops| Timing {
        metric,
        dtype: T::NAME,
        n,
        d,
        seconds,
        flops,
    };
    let mut timings = Vec::new();
    if metrics.contains(&"uniform_loss") {
        let seconds = median_seconds(repeats, || {
            std::hint::black_box(uniform_loss(&a, 2.0).unwrap());
        });
        timings.push(timing("uniform_loss", seconds, nf * (nf - 1.0) * df));
    }
    if metrics.contains(&"contrastive_loss") {
        let seconds = median_seconds(repeats, || {
            std::hint::black_box(contrastive_loss(&a, &b, Temperature::CLIP).unwrap());
        });
        timings.push(timing("contrastive_loss", seconds, 2.0 * nf * nf * df));
    }
    timings
}

fn main() {
    help::on_request(USAGE);
    let sizes = option("--sizes", "1024x512,8192x512,16384x768");
    let dtypes = option("--dtypes", "f32,f64");
    let repeats: usize = option("--repeats", "5").parse().expect("--repeats R");
    let metrics = option("--metrics", "uniform_loss,contrastive_loss");
    let metrics: Vec<&str> = metrics.split(',').collect();
    let json = std::env::args().any(|a| a == "--json");
    let measure_peak = !std::env::args().any(|a| a == "--no-peak");
    // (the instruction set, the f32 FMA peak, the bare micro-kernel's f32 rate), all threads.
    let limits = || {
        if measure_peak {
            let (isa, _, peak) = probe::fma_peak_f32(0.5);
            (isa, peak, probe::tile_rate_f32(0.5).1)
        } else {
            ("not measured".to_owned(), f64::NAN, f64::NAN)
        }
    };
    let (isa, peak_f32, tile_f32) = limits();
    let mut timings = Vec::new();
    for size in sizes.split(',') {
        let (n, d) = size.split_once('x').expect("--sizes NxD,...");
        let (n, d): (usize, usize) = (n.parse().expect("N"), d.parse().expect("D"));
        for dtype in dtypes.split(',') {
            timings.extend(match dtype {
                "f32" => time_metrics::<f32>(&metrics, n, d, repeats),
                "f64" => time_metrics::<f64>(&metrics, n, d, repeats),
                other => panic!("--dtypes: {other} is neither f32 nor f64"),
            });
        }
    }
    let (_, peak_after, tile_after) = limits();
    let threads = rayon::current_num_threads();
    // The f64 limits are half the f32 ones.
    let of_dtype = |dtype: &str, f32_rate: f64| {
        if dtype == "f64" {
            f32_rate / 2.0
        } else {
            f32_rate
        }
    };
    if json {
        let rows: Vec<String> = timings
            .iter()
            .map(|t| {
                format!(
                    "{{\"metric\": \"{}\", \"dtype\": \"{}\", \"n\": {}, \"d\": {}, \
                     \"seconds\": {:e}, \"flops\": {:e}}}",
                    t.metric, t.dtype, t.n, t.d, t.seconds, t.flops
                )
            })
            .collect();
        println!(
            "{{\"isa\": \"{isa}\", \"threads\": {threads}, \"peak_f32\": {peak_f32:e}, \
             \"peak_f32_after\": {peak_after:e}, \"tile_f32\": {tile_f32:e}, \
             \"tile_f32_after\": {tile_after:e}, \"timings\": [{}]}}",
            rows.join(", ")
        );
        return;
    }
    println!(
        "{isa}, {threads} threads: f32 FMA peak {:.1} GFLOP/s before the runs, {:.1} after; \
         the bare micro-kernel {:.1} and {:.1}",
        peak_f32 / 1e9,
        peak_after / 1e9,
        tile_f32 / 1e9,
        tile_after / 1e9
    );
    for t in &timings {
        let rate = t.flops / t.seconds;
        println!(
            "{:<17} {} n={:<6} d={:<4} {:>9.2} ms  {:>6.1} GFLOP/s  {:>5.1} % of peak  \
             {:>5.1} % of the bare micro-kernel",
            t.metric,
            t.dtype,
            t.n,
            t.d,
            t.seconds * 1e3,
            rate / 1e9,
            100.0 * rate / of_dtype(t.dtype, peak_f32),
            100.0 * rate / of_dtype(t.dtype, tile_f32)
        );
    }
}
