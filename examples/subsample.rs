//! How long the estimates from random pairs (`modality_gap::subsample`) take at a scale where
//! the exact pairwise passes cannot run: the time to reach a standard error, and the time per
//! pair, on two sets of N random unit f32 rows of dimension D in a cone.
//!
//! `cargo run --release --example subsample -- [N] [D] [SE] [OFFSET]`, defaults 1000000 512
//! 1e-3 0.3 (two sets of 2 GB; the offset 0.3 gives a cone of mean cosine about 0.5, like
//! CLIP's images).

#[path = "support/help.rs"]
mod help;
#[path = "support/random.rs"]
mod random;

use std::time::Instant;

use modality_gap::subsample::{self, Budget};
use modality_gap::{Diagonal, Estimate, Image, Result, Text, mean_pairwise_cosine};

/// What `--help` prints.
const USAGE: &str = "\
usage: cargo run --release --example subsample -- [N] [D] [SE] [OFFSET]
The time of subsample::uniform_loss (t = 2), subsample::cross_modal_uniformity (t = 2) and
subsample::mean_pairwise_cosine to reach a standard error SE, and per pair with a budget of
2^22 pairs, on two sets of N random unit f32 rows of dimension D (values uniform in
[-1/2, 1/2) plus OFFSET, normalised). Defaults: 1000000 512 1e-3 0.3.
";

/// The positional argument `k` (1-based), or `default`.
fn argument<V: std::str::FromStr>(k: usize, default: V) -> V {
    std::env::args()
        .nth(k)
        .map(|a| a.parse().ok().expect("a number"))
        .unwrap_or(default)
}

/// `f` and its wall time in seconds.
fn timed<R>(f: impl FnOnce() -> R) -> (R, f64) {
    let start = Instant::now();
    let out = f();
    (out, start.elapsed().as_secs_f64())
}

fn main() -> Result<()> {
    help::on_request(USAGE);
    let (n, d): (usize, usize) = (argument(1, 1_000_000), argument(2, 512));
    let (se, offset): (f64, f64) = (argument(3, 1e-3), argument(4, 0.3));
    let ((a, b), made) = timed(|| {
        (
            random::unit::<f32, Image>(n, d, 1, offset),
            random::unit::<f32, Text>(n, d, 2, offset),
        )
    });
    println!(
        "{n} x {d} f32 rows per set ({:.1} GB each), made in {made:.1} s",
        (n * d * 4) as f64 / 1e9
    );
    let (exact_cone, seconds) = timed(|| mean_pairwise_cosine(&a, Diagonal::Excluded));
    println!(
        "exact mean_pairwise_cosine (O(n·d)): {:.6} in {seconds:.3} s",
        exact_cone?
    );
    type Run<'a> = Box<dyn Fn(Budget) -> Result<Estimate> + 'a>;
    let metrics: [(&str, Run); 3] = [
        (
            "uniform_loss",
            Box::new(|budget| subsample::uniform_loss(&a, 2.0, budget, 1)),
        ),
        (
            "cross_modal_uniformity",
            Box::new(|budget| subsample::cross_modal_uniformity(&a, &b, 2.0, budget, 1)),
        ),
        (
            "mean_pairwise_cosine",
            Box::new(|budget| subsample::mean_pairwise_cosine(&a, budget, 1)),
        ),
    ];
    let per_pair_budget = 1 << 22;
    for (name, run) in &metrics {
        let (estimate, seconds) = timed(|| run(Budget::StandardError(se)));
        let estimate = estimate?;
        println!(
            "{name}: {:.6} ± {:.2e} (SE) from {} pairs in {seconds:.3} s",
            estimate.value,
            estimate.standard_error,
            estimate.dof + 1
        );
        let (_, seconds) = timed(|| run(Budget::Pairs(per_pair_budget)));
        println!(
            "{name}: {per_pair_budget} pairs in {seconds:.3} s, {:.1} ns per pair",
            seconds * 1e9 / per_pair_budget as f64
        );
    }
    Ok(())
}
