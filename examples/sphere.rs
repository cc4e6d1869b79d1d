//! Fig. 3e–g of Liang et al. (2022): six image–text pairs on the 3-D sphere. Move the texts
//! by Δθ away from the images and record the contrastive loss. With two pairs mismatched, the
//! loss at low temperature is lowest at a gap; with every pair matched, at no gap.
//!
//! ```text
//! cargo run --release --example sphere [-- --svg PATH]
//! ```
//!
//! Prints the loss at Δθ = 0 beside the paper's numbers, the optimum of each curve, and the
//! curves every 10°; writes the two panels to `target/figures/sphere.svg`.

mod support;

use modality_gap::Temperature;
use modality_gap::experiments::{LandscapePoint, Pairing, sphere_landscape};
use support::{Args, Mark, Panel, Series};

/// What `--help` prints.
const USAGE: &str = "\
usage: cargo run --release --example sphere [-- --svg PATH]
Fig. 3e–g: the contrastive loss of six image–text pairs on the sphere as the texts move by
Δθ, mismatched and matched.
";

/// The paper's logit scales s = 1/τ, and its mismatched losses at Δθ = 0 (Fig. 3g).
const SCALES: [(f64, f64); 5] = [
    (1.0, 1.548),
    (5.0, 1.095),
    (35.0, 0.887),
    (50.0, 1.083),
    (100.0, 2.014),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse(USAGE);
    let angles: Vec<f64> = (-90..=90).rev().map(f64::from).collect();
    let mut panels = Vec::new();
    for (pairing, name) in [
        (Pairing::Mismatched, "mismatched"),
        (Pairing::Matched, "matched"),
    ] {
        println!("\n{name} pairs: loss against Δθ (degrees) at logit scale s = 1/τ");
        let mut panel = Panel::new(
            format!("{name} pairs"),
            "signed gap distance",
            "contrastive loss",
        );
        let mut curves = Vec::new();
        for (scale, printed) in SCALES {
            let curve: Vec<_> =
                sphere_landscape(&angles, Temperature::from_logit_scale(scale)?, pairing)?
                    .collect::<Result<_, _>>()?;
            let at_zero = curve
                .iter()
                .find(|p| p.position == 0.0)
                .expect("Δθ = 0 is swept");
            let best = curve
                .iter()
                .min_by(|p, q| p.loss.total_cmp(&q.loss))
                .expect("points");
            print!("s = {scale:>5}: loss at Δθ = 0 is {:.4}", at_zero.loss);
            if pairing == Pairing::Mismatched {
                print!(" (paper {printed:.3})");
            }
            println!(
                ", minimum {:.4} at Δθ = {:+} (gap {:.3})",
                best.loss, best.position, best.signed_gap_distance
            );
            let points = curve
                .iter()
                .map(|p| (p.signed_gap_distance, p.loss))
                .collect();
            panel = panel.with(Series::new(format!("s = {scale}"), points, Mark::Line));
            curves.push(curve);
        }
        print_table(&angles, &curves);
        panels.push(panel);
    }
    support::draw(&args.svg("sphere"), &panels)
}

/// Every 10th angle: Δθ, the signed gap distance, and the loss at each scale.
fn print_table(angles: &[f64], curves: &[Vec<LandscapePoint>]) {
    print!("{:>6} {:>8}", "Δθ", "gap");
    for (scale, _) in SCALES {
        print!(" {:>9}", format!("s={scale}"));
    }
    println!();
    for (k, angle) in angles.iter().enumerate().step_by(10) {
        print!("{angle:>6} {:>8.4}", curves[0][k].signed_gap_distance);
        for curve in curves {
            print!(" {:>9.4}", curve[k].loss);
        }
        println!();
    }
}
