//! Table 1 of Liang et al. (2022): zero-shot classification as the modality gap is shifted.
//! Images and class prompts move along their gap (δ > 0 closes it) and the accuracy is
//! recorded; the paper reports the best top-1 over the sweep against δ = 0.
//!
//! ```text
//! cargo run --release --example zero_shot                  # a generated task (seeded)
//! cargo run --release --example zero_shot -- IMAGES.npy PROMPTS.npy LABELS.npy [--svg PATH]
//! ```
//!
//! IMAGES.npy is (n, d), PROMPTS.npy (C, d), LABELS.npy (n,) class indices (numpy's int64 or
//! any other integer dtype). Prints Hit@1/5/10 and the gap for every δ, the Table 1 summary,
//! and (for two or more classes) the binary ROC-AUC of classes 0 against 1 at δ = 0; draws
//! accuracy against δ to `target/figures/zero_shot.svg`.

mod support;

use modality_gap::experiments::{ZeroShotPoint, zero_shot_roc_auc, zero_shot_sweep};
use modality_gap::{Embeddings, Image, Modality, Text, UnitEmbeddings, npy};
use rand::{SeedableRng, rngs::StdRng};
use rand_distr::{Distribution, StandardNormal};
use support::{Args, Mark, Panel, Series};

/// What `--help` prints.
const USAGE: &str = "\
usage: cargo run --release --example zero_shot [-- IMAGES.npy PROMPTS.npy LABELS.npy] [--svg PATH]
Table 1: Hit@1/5/10 and the gap as images and class prompts move along their gap.
IMAGES.npy (n, d), PROMPTS.npy (C, d), LABELS.npy (n,) integers. Without files, a generated
task.
";

struct Task {
    images: UnitEmbeddings<f64, Image>,
    prompts: UnitEmbeddings<f64, Text>,
    labels: Vec<usize>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse(USAGE);
    let task = match &args.paths[..] {
        [] => generated(),
        [images, prompts, labels] => Task {
            images: UnitEmbeddings::normalize(npy::read(images)?)?,
            prompts: UnitEmbeddings::normalize(npy::read(prompts)?)?,
            labels: npy::read_labels(labels)?,
        },
        _ => return Err("usage: zero_shot [IMAGES.npy PROMPTS.npy LABELS.npy]".into()),
    };
    let (n, classes) = (task.images.len(), task.prompts.len());
    println!(
        "{n} images, {classes} class prompts, dimension {}",
        task.images.dim()
    );

    let deltas = support::peer_deltas();
    // `None`: shift along the task's own gap (images against class prompts).
    let sweep: Vec<ZeroShotPoint> =
        zero_shot_sweep(&task.images, &task.prompts, &task.labels, &deltas, None)?
            .collect::<modality_gap::Result<_>>()?;
    println!(
        "{:>6} {:>8} {:>7} {:>7} {:>7}",
        "δ", "gap", "Hit@1", "Hit@5", "Hit@10"
    );
    for p in &sweep {
        println!(
            "{:>6.2} {:>8.4} {:>7.3} {:>7.3} {:>7.3}",
            p.delta, p.gap_distance, p.hit_at_1, p.hit_at_5, p.hit_at_10
        );
    }
    let original = sweep
        .iter()
        .find(|p| p.delta == 0.0)
        .expect("δ = 0 is swept");
    let best = sweep
        .iter()
        .max_by(|p, q| p.hit_at_1.total_cmp(&q.hit_at_1))
        .expect("points");
    println!(
        "Table 1: top-1 {:.3} at the learned gap, {:.3} after shifting by δ = {} ({:+.3})",
        original.hit_at_1,
        best.hit_at_1,
        best.delta,
        best.hit_at_1 - original.hit_at_1
    );
    if classes >= 2 {
        println!(
            "binary ROC-AUC, classes 0 against 1: {:.4}",
            binary_auc(&task)?
        );
    }

    let curve = |f: fn(&ZeroShotPoint) -> f64| sweep.iter().map(|p| (p.delta, f(p))).collect();
    let accuracy = Panel::new(
        "zero-shot accuracy",
        "shift δ (δ > 0 closes the gap)",
        "accuracy",
    )
    .with(Series::new("Hit@1", curve(|p| p.hit_at_1), Mark::Line))
    .with(Series::new("Hit@5", curve(|p| p.hit_at_5), Mark::Line));
    let distance = Panel::new("gap after the shift", "shift δ", "gap distance").with(Series::new(
        "‖Δ‖",
        curve(|p| p.gap_distance),
        Mark::Line,
    ));
    support::draw(&args.svg("zero_shot"), &[accuracy, distance])
}

/// A generated task: 10 classes in dimension 64, 50 images each. Each class has a random
/// direction; images and prompts sit in two cones (a shared offset per modality) around it,
/// the images with noise.
fn generated() -> Task {
    let (classes, per_class, d) = (10, 50, 64);
    let mut rng = StdRng::seed_from_u64(2022);
    let mut gaussian = |scale: f64| -> Vec<f64> {
        (0..d)
            .map(|_| {
                let z: f64 = StandardNormal.sample(&mut rng);
                scale * z
            })
            .collect()
    };
    let unit_scale = 1.0 / (d as f64).sqrt();
    let centres: Vec<Vec<f64>> = (0..classes).map(|_| gaussian(unit_scale)).collect();
    let (image_cone, text_cone) = (gaussian(unit_scale), gaussian(unit_scale));
    let add = |parts: &[&[f64]]| -> Vec<f64> {
        (0..d).map(|k| parts.iter().map(|p| p[k]).sum()).collect()
    };
    let prompts: Vec<Vec<f64>> = centres.iter().map(|c| add(&[c, &text_cone])).collect();
    let mut images = Vec::new();
    let mut labels = Vec::new();
    for (label, centre) in centres.iter().enumerate() {
        for _ in 0..per_class {
            images.push(add(&[centre, &image_cone, &gaussian(2.5 * unit_scale)]));
            labels.push(label);
        }
    }
    let unit = |rows: &[Vec<f64>]| {
        UnitEmbeddings::normalize(Embeddings::from_rows(rows).expect("finite rows"))
    };
    Task {
        images: unit(&images).expect("non-zero rows"),
        prompts: unit(&prompts).expect("non-zero rows").with_modality(),
        labels,
    }
}

/// The ROC-AUC of the images of classes 0 and 1 against the prompts of those two classes.
fn binary_auc(task: &Task) -> modality_gap::Result<f64> {
    let kept: Vec<usize> = (0..task.labels.len())
        .filter(|&i| task.labels[i] < 2)
        .collect();
    let labels: Vec<usize> = kept.iter().map(|&i| task.labels[i]).collect();
    zero_shot_roc_auc(
        &subset(&task.images, &kept)?,
        &subset(&task.prompts, &[0, 1])?,
        &labels,
    )
}

/// The rows `keep` of a set of unit embeddings.
fn subset<M: Modality>(
    x: &UnitEmbeddings<f64, M>,
    keep: &[usize],
) -> modality_gap::Result<UnitEmbeddings<f64, M>> {
    let rows: Vec<&[f64]> = keep.iter().map(|&i| x.row(i)).collect();
    UnitEmbeddings::verify_unit(Embeddings::from_rows(&rows)?, 1e-12)
}
