//! Fig. 3b–d of Liang et al. (2022): move real image and text embeddings towards each other
//! (δ > 0) or apart (δ < 0) along their gap, and record the contrastive loss at several
//! temperatures. At CLIP's temperature the loss is lowest near the gap the model learned, not
//! at zero gap.
//!
//! ```text
//! cargo run --release --example gap_shift                   # the embedded CLIP image–text pairs
//! cargo run --release --example gap_shift -- ../shared/data/modality-gap-features/features_clip.npy
//! options: --notebook true (the notebook's image→text-only batched loss), --svg PATH
//! ```
//!
//! Prints, for every δ, the gap distance and the validation loss (batches of 50) at logit
//! scales 100, 50 and 1, and each curve's minimum; draws one panel per scale to
//! `target/figures/gap_shift.svg`.

mod support;

use modality_gap::Temperature;
use modality_gap::experiments::{Shift, ShiftPoint, ValidationLoss, shift_sweep};
use support::{Args, Mark, Panel, Series};

/// What `--help` prints.
const USAGE: &str = "\
usage: cargo run --release --example gap_shift [-- PAIR.npy] [--notebook true] [--svg PATH]
Fig. 3b–d: the gap distance and the validation loss (contrastive, batches of 50) as the
modalities move along their gap, at τ = 1/100, 1/50 and 1. PAIR.npy is [2, n, d]; without it,
the embedded CLIP pairs. --notebook true: the notebook's image→text-only batched loss.
";

/// The logit scales s = 1/τ of Fig. 3b–d.
const SCALES: [f64; 3] = [100.0, 50.0, 1.0];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse(USAGE);
    let pair = support::load_pair(args.paths.first().map(|p| p.as_path()))?;
    let protocol = if args.get("notebook", false) {
        ValidationLoss::BatchedImageToText { size: 50 }
    } else {
        ValidationLoss::default()
    };
    println!(
        "{}: {} pairs of dimension {}; loss protocol {protocol:?}",
        pair.name,
        pair.images.len(),
        pair.images.dim()
    );
    let deltas = support::peer_deltas();
    let mut sweeps: Vec<Vec<ShiftPoint>> = Vec::new();
    for scale in SCALES {
        let sweep = shift_sweep(
            &pair.images,
            &pair.texts,
            &deltas,
            Temperature::from_logit_scale(scale)?,
            Shift::Both,
            protocol,
        )?;
        sweeps.push(sweep.collect::<modality_gap::Result<_>>()?);
    }

    print!("{:>6} {:>9}", "δ", "gap");
    for scale in SCALES {
        print!(" {:>10}", format!("τ=1/{scale}"));
    }
    println!();
    for (k, delta) in deltas.iter().enumerate() {
        print!("{delta:>6.2} {:>9.4}", sweeps[0][k].signed_gap_distance);
        for sweep in &sweeps {
            print!(" {:>10.4}", sweep[k].loss);
        }
        println!();
    }
    let mut panels = Vec::new();
    for (scale, sweep) in SCALES.iter().zip(&sweeps) {
        let at_zero = sweep
            .iter()
            .find(|p| p.delta == 0.0)
            .expect("δ = 0 is swept");
        let best = sweep
            .iter()
            .min_by(|p, q| p.loss.total_cmp(&q.loss))
            .expect("points");
        println!(
            "s = {scale:>3}: the learned gap {:.3} has loss {:.4}; the minimum {:.4} is at gap {:.3} (δ = {})",
            at_zero.signed_gap_distance,
            at_zero.loss,
            best.loss,
            best.signed_gap_distance,
            best.delta
        );
        let points = sweep
            .iter()
            .map(|p| (p.signed_gap_distance, p.loss))
            .collect();
        let panel = Panel::new(
            format!("τ = 1/{scale}"),
            "signed gap distance",
            "validation loss",
        );
        let learned = vec![(at_zero.signed_gap_distance, at_zero.loss)];
        panels.push(
            panel
                .with(Series::new(&pair.name, points, Mark::Line))
                .with(Series::new("learned gap (δ = 0)", learned, Mark::Points)),
        );
    }
    support::draw(&args.svg("gap_shift"), &panels)
}
