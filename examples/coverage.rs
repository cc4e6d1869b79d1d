//! The coverage of the jackknife intervals, by simulation: for each metric, `REPS` samples of
//! `N` pairs from a distribution on the sphere S² whose true value is known, and how often the
//! 95 % t interval from the jackknife standard error covers it. The table of
//! `docs/uncertainty.md` comes from this example; `tests/uncertainty.rs` runs a smaller one.
//!
//! `cargo run --release --example coverage -- [REPS [N]]` (default 10 000 replications of
//! n = 100).

#[path = "support/coverage.rs"]
mod coverage;
#[path = "support/help.rs"]
mod help;

/// What `--help` prints.
const USAGE: &str = "\
usage: cargo run --release --example coverage -- [REPS [N]]
How often the 95 % jackknife intervals cover the true value, over REPS samples of N pairs
(default 10000 and 100).
";

fn main() {
    help::on_request(USAGE);
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("REPS and N are counts"))
        .collect();
    let reps = args.first().copied().unwrap_or(10_000);
    let n = args.get(1).copied().unwrap_or(100);
    println!(
        "{reps} replications of n = {n} pairs, 95 % t intervals (n − 1 dof; g − 1 for g runs), seed 13\n"
    );
    println!("| metric | samples | true value | coverage | mean SE | SD of the values |");
    println!("|---|---|---|---|---|---|");
    let rows = coverage::coverage(reps, n, 0.95, 13);
    for c in &rows {
        println!(
            "| {} | {} | {:.6} | {:.1} % | {:.5} | {:.5} |",
            c.metric,
            c.model,
            c.truth,
            100.0 * c.rate(),
            c.mean_standard_error,
            c.spread
        );
    }
    for c in rows.iter().filter(|c| c.degenerate) {
        println!(
            "\n{} on {}: a degenerate U-statistic (its first-order projection is constant), \
             where the jackknife overestimates the variance and the interval is conservative.",
            c.metric, c.model
        );
    }
}
