//! Two models on the same image–text pairs: every metric with its jackknife standard error,
//! and the difference between the models with its paired jackknife standard error, a 95 %
//! interval and a two-sided p-value (is the gap of one model different from the other's?).
//!
//! `cargo run --release --example compare -- A.npy B.npy`, each file `[2, n, d]` (images or
//! another non-text modality at index 0, texts at index 1), row i of both files the same
//! pair. With no files: the embedded CLIP ViT-B/16 features of 500 MSCOCO pairs against the
//! same architecture at random initialisation on the same pairs (`data/README.md`).

#[path = "support/help.rs"]
mod help;

use std::process::ExitCode;

use modality_gap::{
    Centring, Diagonal, HsicEstimator, Image, Jackknife, Result, Spectrum, Temperature, Text,
    UnitEmbeddings, jackknife, npy,
};

/// What `--help` prints.
const USAGE: &str = "\
usage: cargo run --release --example compare -- [A.npy B.npy]
Every metric of two models on the same pairs, with standard errors, the difference A − B,
its 95 % interval and p-value. Each file is [2, n, d]: images (or another modality) at
index 0, texts at index 1, row i the same pair in both files. With no files: CLIP ViT-B/16
against the same architecture at random initialisation, on the same 500 MSCOCO pairs.
";

static CLIP: &[u8] = include_bytes!("../data/features_clip.npy");
static CLIP_RANDOM: &[u8] = include_bytes!("../data/features_clip_random.npy");

/// One model's embeddings of the pairs.
struct Model {
    name: String,
    images: UnitEmbeddings<f32, Image>,
    texts: UnitEmbeddings<f32, Text>,
}

impl Model {
    fn from_bytes(name: &str, bytes: &[u8]) -> Result<Self> {
        let (images, texts) = npy::read_pair_from(bytes)?;
        Self::new(name.to_string(), images, texts)
    }

    fn from_file(path: &str) -> Result<Self> {
        let (images, texts) = npy::read_pair(path)?;
        Self::new(path.to_string(), images, texts)
    }

    fn new(
        name: String,
        images: modality_gap::Embeddings<f32, Image>,
        texts: modality_gap::Embeddings<f32, Text>,
    ) -> Result<Self> {
        Ok(Self {
            name,
            images: UnitEmbeddings::normalize(images)?,
            texts: UnitEmbeddings::normalize(texts)?,
        })
    }
}

/// A metric of a model, with its jackknife over the pairs.
type Metric = fn(&Model) -> Result<Jackknife>;

/// The metrics compared, each with its jackknife.
const METRICS: [(&str, Metric); 19] = [
    ("gap ‖Δ‖", |m| jackknife::gap(&m.images, &m.texts)),
    ("relative gap (RMG)", |m| {
        jackknife::relative_gap(&m.images, &m.texts)
    }),
    ("cone: images", |m| {
        jackknife::mean_pairwise_cosine(&m.images, Diagonal::Excluded)
    }),
    ("cone: texts", |m| {
        jackknife::mean_pairwise_cosine(&m.texts, Diagonal::Excluded)
    }),
    ("alignment (α = 2)", |m| {
        jackknife::align_loss(&m.images, &m.texts, 2.0)
    }),
    ("uniformity: images (t = 2)", |m| {
        jackknife::uniform_loss(&m.images, 2.0)
    }),
    ("uniformity: texts (t = 2)", |m| {
        jackknife::uniform_loss(&m.texts, 2.0)
    }),
    ("cross-modal uniformity (t = 2)", |m| {
        jackknife::cross_modal_uniformity(&m.images, &m.texts, 2.0)
    }),
    ("contrastive loss (τ = 0.01)", |m| {
        jackknife::contrastive_loss(&m.images, &m.texts, Temperature::CLIP)
    }),
    ("R@1 image → text", |m| {
        Ok(jackknife::retrieval_recall(&m.images, &m.texts, 1)?.a_to_b)
    }),
    ("R@1 text → image", |m| {
        Ok(jackknife::retrieval_recall(&m.images, &m.texts, 1)?.b_to_a)
    }),
    ("CKA images ↔ texts (unbiased)", |m| {
        jackknife::cka(&m.images, &m.texts, HsicEstimator::Unbiased)
    }),
    ("mutual k-NN images ↔ texts (k = 10; 50 groups)", |m| {
        jackknife::mutual_knn(&m.images, &m.texts, 10, 50, 13)
    }),
    ("SVCCA images ↔ texts (q = 10; 50 groups)", |m| {
        jackknife::svcca(&m.images, &m.texts, 10, 50, 13)
    }),
    ("effective rank (σ): images", |m| {
        jackknife::effective_rank(&m.images, Spectrum::SingularValues, Centring::Mean)
    }),
    ("effective rank (σ): texts", |m| {
        jackknife::effective_rank(&m.texts, Spectrum::SingularValues, Centring::Mean)
    }),
    ("IsoScore: images", |m| jackknife::isoscore(&m.images)),
    ("IsoScore: texts", |m| jackknife::isoscore(&m.texts)),
    ("median cosine images ↔ texts (20 groups)", |m| {
        jackknife::cosine_quantile_between(&m.images, &m.texts, 0.5, 20, 13)
    }),
];

/// Prints the table of the metrics of `a` and `b` and their differences.
fn compare(a: &Model, b: &Model) -> Result<()> {
    println!("A: {}\nB: {}", a.name, b.name);
    println!(
        "n = {} pairs; value ± jackknife standard error; A − B by the paired jackknife, its 95 % \
         t interval and two-sided p-value\n",
        a.images.len()
    );
    println!("| metric | A | B | A − B | 95 % interval of A − B | p |");
    println!("|---|---|---|---|---|---|");
    for (name, metric) in METRICS {
        let (jk_a, jk_b) = (metric(a)?, metric(b)?);
        let (ea, eb) = (jk_a.estimate(), jk_b.estimate());
        let difference = jk_a.difference(&jk_b)?.estimate();
        let interval = difference.interval(0.95)?;
        println!(
            "| {name} | {:.5} ± {:.5} | {:.5} ± {:.5} | {:+.5} ± {:.5} | [{:+.5}, {:+.5}] | {} |",
            ea.value,
            ea.standard_error,
            eb.value,
            eb.standard_error,
            difference.value,
            difference.standard_error,
            interval.lower,
            interval.upper,
            p_value(difference.p_value(0.0)?)
        );
    }
    Ok(())
}

/// A p-value in two significant digits, or "< 1e-300" where it is too small to compute.
fn p_value(p: f64) -> String {
    if p < 1e-300 {
        "< 1e-300".to_string()
    } else {
        format!("{p:.1e}")
    }
}

fn main() -> ExitCode {
    help::on_request(USAGE);
    let paths: Vec<String> = std::env::args().skip(1).collect();
    let models = match &paths[..] {
        [] => Model::from_bytes(
            "CLIP ViT-B/16, 500 MSCOCO pairs (data/features_clip.npy, embedded)",
            CLIP,
        )
        .and_then(|a| {
            let b = Model::from_bytes(
                "the same architecture at random initialisation, the same pairs \
                 (data/features_clip_random.npy, embedded)",
                CLIP_RANDOM,
            )?;
            Ok((a, b))
        }),
        [first, second] => Model::from_file(first).and_then(|a| Ok((a, Model::from_file(second)?))),
        _ => {
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    // Models of different n fail in the paired difference (Error::LengthMismatch).
    match models.and_then(|(a, b)| compare(&a, &b)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
