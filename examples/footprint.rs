//! Time and extra memory of one metric on random unit embeddings: the peak resident memory
//! while the metric runs, above what the inputs already hold (Linux: the peak is reset through
//! `/proc/self/clear_refs` after the inputs are made, then read from `/proc/self/status`).
//!
//! `cargo run --release --example footprint -- METRIC N D` with METRIC one of `uniform`,
//! `uniform-jackknife`, `contrastive`, `recall`, `cone`, `gap`, `align`; f32 rows.

#[path = "support/help.rs"]
mod help;
#[path = "support/progress_bar.rs"]
mod progress_bar;
#[path = "support/random.rs"]
mod random;

use std::time::Instant;

use modality_gap::{
    Diagonal, Image, Temperature, Text, align_loss, contrastive_loss, gap, jackknife,
    mean_pairwise_cosine, retrieval_recall, uniform_loss,
};

/// What `--help` prints.
const USAGE: &str = "\
usage: cargo run --release --example footprint -- METRIC N D
Time and extra peak memory of one metric on N random unit rows of dimension D (f32).
METRIC: uniform, uniform-jackknife (its standard error), contrastive, recall, cone, gap,
align.
";

/// A field of `/proc/self/status` in bytes (Linux).
fn status_bytes(field: &str) -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .expect("field");
    let kib: usize = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

fn main() {
    help::on_request(USAGE);
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: footprint METRIC N D (METRIC: uniform uniform-jackknife contrastive recall cone gap align)";
    let metric = args.get(1).expect(usage).as_str();
    let n: usize = args.get(2).expect(usage).parse().expect(usage);
    let d: usize = args.get(3).expect(usage).parse().expect(usage);
    let (a, b) = (
        random::unit::<f32, Image>(n, d, 1, 0.0),
        random::unit::<f32, Text>(n, d, 2, 0.0),
    );
    std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak resident size");
    let before = status_bytes("VmRSS:");
    let start = Instant::now();
    let value = progress_bar::with_bar("footprint", || {
        Ok(match metric {
            "uniform" => uniform_loss(&a, 2.0)?,
            "uniform-jackknife" => jackknife::uniform_loss(&a, 2.0)?.standard_error(),
            "contrastive" => contrastive_loss(&a, &b, Temperature::CLIP)?.symmetric,
            "recall" => retrieval_recall(&a, &b, 1)?.a_to_b,
            "cone" => mean_pairwise_cosine(&a, Diagonal::Excluded)?,
            "gap" => gap(&a, &b)?.distance(),
            "align" => align_loss(&a, &b, 2.0)?,
            _ => panic!("{usage}"),
        })
    })
    .unwrap();
    let seconds = start.elapsed().as_secs_f64();
    let extra = status_bytes("VmHWM:").saturating_sub(before);
    let set_gb = (n * d * 4) as f64 / 1e9;
    let sets_read = if metric == "cone" || metric == "uniform" {
        1.0
    } else {
        2.0
    };
    println!(
        "{metric} n={n} d={d}: {value:.6} in {seconds:.3} s; inputs {:.1} MB a set; \
         extra peak memory {:.1} MB; {:.1} GB/s if each input is read once",
        set_gb * 1e3,
        extra as f64 / 1e6,
        sets_read * set_gb / seconds
    );
}
