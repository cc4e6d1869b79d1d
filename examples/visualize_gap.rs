//! Fig. 1 of Liang et al. (2022): the two modalities of a multi-modal model, projected to
//! 2-D, sit apart. One panel per feature file, as the figure's CLIP, VideoCLIP, ConVIRT and
//! CLASP panels.
//!
//! ```text
//! cargo run --release --example visualize_gap                      # the embedded CLIP pairs
//! cargo run --release --example visualize_gap -- ../shared/data/modality-gap-features/features_*.npy
//! options: --pca true (a centred PCA instead of the figure's uncentred SVD), --svg PATH
//! ```
//!
//! Prints, per file, the gap and the cones, how much of the data the two axes explain, the
//! 2-D centre of each modality, and the gap left after the orthogonal Procrustes rotation of
//! the texts onto the images; draws the points to `target/figures/visualize_gap.svg`.

mod support;

use modality_gap::Centring;
use modality_gap::experiments::{procrustes, project};
use modality_gap::{Diagonal, gap, mean_pairwise_cosine};
use support::{Args, Mark, Panel, Series};

/// What `--help` prints.
const USAGE: &str = "\
usage: cargo run --release --example visualize_gap [-- PAIR.npy ...] [--pca true] [--svg PATH]
Fig. 1: each [2, n, d] file projected to 2-D (uncentred SVD; --pca true: centred PCA), its
gap, cones and the gap left after a Procrustes rotation. Without files, the embedded CLIP
pairs.
";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse(USAGE);
    let centring = if args.get("pca", false) {
        Centring::Mean
    } else {
        Centring::None
    };
    let paths: Vec<Option<&std::path::Path>> = match &args.paths[..] {
        [] => vec![None],
        paths => paths.iter().map(|p| Some(p.as_path())).collect(),
    };
    let mut panels = Vec::new();
    for path in paths {
        let pair = support::load_pair(path)?;
        let (images, texts) = (&pair.images, &pair.texts);
        let view = project(images, texts, 2, centring)?;
        let rotated = procrustes(images, texts)?.rotate(texts)?;
        let points = |m: nalgebra::DMatrixView<'_, f64>| -> Vec<(f64, f64)> {
            m.row_iter().map(|r| (r[0], r[1])).collect()
        };
        let (image_points, text_points) = (points(view.images()), points(view.texts()));
        let centre = |p: &[(f64, f64)]| {
            let n = p.len() as f64;
            (
                p.iter().map(|q| q.0).sum::<f64>() / n,
                p.iter().map(|q| q.1).sum::<f64>() / n,
            )
        };
        println!(
            "\n{}: {} pairs of dimension {}",
            pair.name,
            images.len(),
            images.dim()
        );
        println!(
            "  gap distance {:.4}; cones (mean cosine) {:.4} and {:.4}",
            gap(images, texts)?.distance(),
            mean_pairwise_cosine(images, Diagonal::Excluded)?,
            mean_pairwise_cosine(texts, Diagonal::Excluded)?
        );
        let ratio = view.explained_variance_ratio();
        let view_name = match centring {
            Centring::None => "uncentred SVD",
            Centring::Mean => "centred PCA",
        };
        println!(
            "  {view_name}: the two axes explain {:.3} and {:.3} of Σ S²",
            ratio[0], ratio[1]
        );
        let (ci, ct) = (centre(&image_points), centre(&text_points));
        println!(
            "  2-D centres: first modality ({:.3}, {:.3}), text ({:.3}, {:.3})",
            ci.0, ci.1, ct.0, ct.1
        );
        println!(
            "  gap after rotating the texts onto the images (Procrustes): {:.4}",
            gap(images, &rotated)?.distance()
        );
        panels.push(
            Panel::new(&pair.name, "component 1", "component 2")
                .with(Series::new("first modality", image_points, Mark::Points))
                .with(Series::new("text", text_points, Mark::Points)),
        );
    }
    support::draw(&args.svg("visualize_gap"), &panels)
}
