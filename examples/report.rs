//! Prints the geometry of a pair of embedding sets: gap, cones, alignment, uniformity,
//! contrastive loss and retrieval.
//!
//! ```text
//! cargo run --release --example report                      # the embedded CLIP image–text pair
//! cargo run --release --example report -- features.npy      # any [2, n, d] file
//! cargo run --release --example report -- img.npy txt.npy   # two (n, d) files
//! ```

#[path = "support/help.rs"]
mod help;

use std::process::ExitCode;

use modality_gap::{
    Diagonal, Embeddings, Image, Modality, Result, Temperature, Text, UnitEmbeddings, align_loss,
    contrastive_loss, gap, mean_pairwise_cosine, npy, retrieval_recall, uniform_loss,
};

/// What `--help` prints.
const USAGE: &str = "\
usage: cargo run --release --example report [-- PAIR.npy | -- FIRST.npy TEXT.npy]
The geometry of two embedding sets: gap, cones, uniformity, alignment, the contrastive loss
over the whole set at τ = 0.01 (logit scale 100) and retrieval. PAIR.npy is [2, n, d]
(first modality, then text); two files are (n, d) each. Without files, the embedded CLIP
pairs (500 MSCOCO images and captions).
";

/// The non-text modality of a file given on the command line, whatever it is.
enum First {}
impl Modality for First {
    const NAME: &'static str = "first";
}

static CLIP: &[u8] = include_bytes!("../data/features_clip.npy");

fn main() -> ExitCode {
    help::on_request(USAGE);
    let paths: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match &paths[..] {
        [] => npy::read_pair_from::<f64, Image, Text, _>(CLIP).and_then(|(a, t)| {
            report(
                "data/features_clip.npy (embedded; CLIP ViT-B/16 on 500 MSCOCO pairs, Liang et al. 2022)",
                a,
                t,
            )
        }),
        [pair] => npy::read_pair::<f64, First, Text>(pair).and_then(|(a, t)| report(pair, a, t)),
        [first, second] => npy::read::<f64, First>(first).and_then(|a| {
            let t = npy::read::<f64, Text>(second)?;
            report(&format!("{first} + {second}"), a, t)
        }),
        _ => {
            eprintln!("usage: report [PAIR.npy | FIRST.npy TEXT.npy]");
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn report<A: Modality>(
    source: &str,
    a: Embeddings<f64, A>,
    t: Embeddings<f64, Text>,
) -> Result<()> {
    let (a, t) = (UnitEmbeddings::normalize(a)?, UnitEmbeddings::normalize(t)?);
    let (first, second) = (A::NAME, Text::NAME);
    let line =
        |label: String, value: f64, note: String| println!("{label:<20}{value:>10.6}   {note}");
    println!("source: {source}");
    println!(
        "n = {} {first}, {} {second}; d = {}\n",
        a.len(),
        t.len(),
        a.dim()
    );
    let g = gap(&a, &t)?;
    line(
        "gap distance".into(),
        g.distance(),
        format!("‖mean({first}) − mean({second})‖"),
    );
    let cone_note = || "mean cosine over pairs i ≠ j".to_string();
    line(
        format!("cone {first}"),
        mean_pairwise_cosine(&a, Diagonal::Excluded)?,
        cone_note(),
    );
    line(
        format!("cone {second}"),
        mean_pairwise_cosine(&t, Diagonal::Excluded)?,
        cone_note(),
    );
    line(
        format!("uniform {first}"),
        uniform_loss(&a, 2.0)?,
        "t = 2".into(),
    );
    line(
        format!("uniform {second}"),
        uniform_loss(&t, 2.0)?,
        "t = 2".into(),
    );
    if a.len() != t.len() {
        println!("\nthe sets differ in n, so they are not paired: paired metrics skipped");
        return Ok(());
    }
    line(
        "align".into(),
        align_loss(&a, &t, 2.0)?,
        format!("α = 2: mean ‖{first}ᵢ − {second}ᵢ‖²"),
    );
    let loss = contrastive_loss(&a, &t, Temperature::CLIP)?;
    line(
        "contrastive".into(),
        loss.symmetric,
        format!("symmetric, whole set, {} (CLIP)", Temperature::CLIP),
    );
    line(
        format!("  {first}→{second}"),
        loss.a_to_b,
        "cross-entropy over rows".into(),
    );
    line(
        format!("  {second}→{first}"),
        loss.b_to_a,
        "cross-entropy over columns".into(),
    );
    let top1 = retrieval_recall(&a, &t, 1)?;
    line(format!("top-1 {first}→{second}"), top1.a_to_b, "R@1".into());
    line(format!("top-1 {second}→{first}"), top1.b_to_a, "R@1".into());
    Ok(())
}
