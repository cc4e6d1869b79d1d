//! Prints the geometry that follow-up papers report for a pair of embedding sets: the gap
//! measured four ways (distance, L2I, RMG, the dimensions that carry it), cross-modal
//! uniformity and modality separability; how alike the two representations are (CKA, mutual
//! k-NN, CKNNA, SVCCA); the spectrum of each set (effective rank, IsoScore); and what centring each
//! modality (C3) does to the gap, RMG and retrieval.
//!
//! ```text
//! cargo run --release --example geometry                      # the embedded CLIP image–text pairs
//! cargo run --release --example geometry -- features.npy      # any [2, n, d] file
//! cargo run --release --example geometry -- img.npy txt.npy   # two (n, d) files
//! options: --k 10 (mutual k-NN, CKNNA), --q 10 (SVCCA), --json
//! ```

#[path = "support/help.rs"]
mod help;
#[path = "support/pair.rs"]
mod pair;

use std::process::ExitCode;

use modality_gap::{
    Centring, Embeddings, HsicEstimator, Modality, Result, Spectrum, Text, UnitEmbeddings,
    align_loss, cka, cknna, cross_modal_uniformity, effective_rank, gap, isoscore, mean_centred,
    modality_separability, mutual_knn, relative_gap, retrieval_recall, svcca,
};

/// What `--help` prints.
const USAGE: &str = "\
usage: cargo run --release --example geometry [-- PAIR.npy | -- FIRST.npy TEXT.npy] [options]
The geometry of two paired embedding sets as follow-up papers report it: gap distance, L2I,
RMG and the dimensions that carry the gap, cross-modal uniformity, modality separability,
CKA (biased and unbiased), mutual k-NN, CKNNA, SVCCA, effective rank and IsoScore of each set, and
the gap, RMG and R@1 before and after centring each modality (C3). PAIR.npy is [2, n, d]
(first modality, then text); two files are (n, d) each, with the same n. Without files, the
embedded CLIP pairs (500 MSCOCO images and captions).
options: --k K    neighbours for mutual k-NN and CKNNA (default 10)
         --q Q    singular directions for SVCCA (default 10)
         --json   one JSON object instead of the table
";

/// The command line.
struct Options {
    paths: Vec<String>,
    k: usize,
    q: usize,
    json: bool,
}

fn options() -> std::result::Result<Options, String> {
    let mut options = Options {
        paths: Vec::new(),
        k: 10,
        q: 10,
        json: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut count = |name: &str| {
            let value = args.next().ok_or(format!("{name} needs a value"))?;
            value
                .parse::<usize>()
                .map_err(|_| format!("bad value for {name}: {value}"))
        };
        match arg.as_str() {
            "--k" => options.k = count("--k")?,
            "--q" => options.q = count("--q")?,
            "--json" => options.json = true,
            other if other.starts_with("--") => return Err(format!("unknown option {other}")),
            _ => options.paths.push(arg),
        }
    }
    Ok(options)
}

impl pair::Report for Options {
    fn run<A: Modality>(
        &self,
        source: &str,
        a: Embeddings<f64, A>,
        t: Embeddings<f64, Text>,
    ) -> Result<()> {
        geometry(source, a, t, self)
    }
}

fn main() -> ExitCode {
    help::on_request(USAGE);
    let options = match options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    pair::run_on_pair(&options.paths, USAGE, &options)
}

/// One line of the report: its JSON key, label, value and note.
type Line = (String, String, f64, String);

/// The report: titled sections of lines.
#[derive(Default)]
struct Report {
    sections: Vec<(String, Vec<Line>)>,
}

impl Report {
    fn section(&mut self, title: impl Into<String>) {
        self.sections.push((title.into(), Vec::new()));
    }

    fn line(
        &mut self,
        key: impl Into<String>,
        label: impl Into<String>,
        value: f64,
        note: impl Into<String>,
    ) {
        let lines = &mut self.sections.last_mut().expect("a section first").1;
        lines.push((key.into(), label.into(), value, note.into()));
    }
}

fn geometry<A: Modality>(
    source: &str,
    a: Embeddings<f64, A>,
    t: Embeddings<f64, Text>,
    options: &Options,
) -> Result<()> {
    let (first, second) = (A::NAME, Text::NAME);
    let (raw_a, raw_t) = (a.clone(), t.clone());
    let (a, t) = (UnitEmbeddings::normalize(a)?, UnitEmbeddings::normalize(t)?);
    let mut report = Report::default();

    report.section("the gap (unit rows)");
    let g = gap(&a, &t)?;
    report.line(
        "gap",
        "gap distance (L2M)",
        g.distance(),
        format!("‖centroid({first}) − centroid({second})‖"),
    );
    report.line(
        "l2i",
        "L2I",
        align_loss(&a, &t, 1.0)?,
        format!("mean ‖{first}ᵢ − {second}ᵢ‖"),
    );
    let rmg = relative_gap(&a, &t)?;
    report.line(
        "rmg",
        "RMG",
        rmg.value,
        format!(
            "matched {:.4} / (matched + mean within {:.4}, {:.4})",
            rmg.matched, rmg.within_a, rmg.within_b
        ),
    );
    for (rank, dim) in g.by_dimension()?.iter().take(3).enumerate() {
        report.line(
            format!("gap_dimension_{}_share", rank + 1),
            format!("  share of dimension {}", dim.dimension),
            dim.share,
            format!("Δ = {:+.4}", dim.difference),
        );
    }
    report.line(
        "cross_uniformity",
        "cross-modal uniformity",
        cross_modal_uniformity(&a, &t, 2.0)?,
        "log mean exp(−2‖aᵢ − bⱼ‖²) over i ≠ j; lower is more spread",
    );
    let separable = modality_separability(&a, &t)?;
    report.line(
        "separability",
        "modality separability",
        separable.accuracy,
        "held-out accuracy of a linear classifier; chance 0.5",
    );

    report.section("how alike the two representations are");
    for (key, label, estimator) in [
        ("cka_biased", "CKA, biased", HsicEstimator::Biased),
        ("cka_unbiased", "CKA, unbiased", HsicEstimator::Unbiased),
    ] {
        report.line(
            key,
            label,
            cka(&raw_a, &raw_t, estimator)?,
            "linear kernel on the rows as given",
        );
    }
    report.line(
        "mutual_knn",
        format!("mutual k-NN, k = {}", options.k),
        mutual_knn(&a, &t, options.k)?,
        "shared neighbours within each set",
    );
    report.line(
        "cknna",
        format!("CKNNA, k = {}", options.k),
        cknna(&a, &t, options.k)?,
        "centred kernel alignment over the mutual neighbours",
    );
    report.line(
        "svcca",
        format!("SVCCA, q = {}", options.q),
        svcca(&raw_a, &raw_t, options.q)?,
        "mean canonical correlation, exact top-q subspaces",
    );

    report.section("the spectrum of each set (rows as given)");
    for (name, x) in [
        (first, raw_a.clone()),
        (second, raw_t.clone().with_modality::<A>()),
    ] {
        let rank = effective_rank(&x, Spectrum::SingularValues, Centring::Mean)?;
        report.line(
            format!("effective_rank_{name}"),
            format!("effective rank {name}"),
            rank.value,
            format!("centred, of the singular values; at most {}", rank.bound),
        );
        report.line(
            format!("isoscore_{name}"),
            format!("IsoScore {name}"),
            isoscore(&x)?,
            "1 isotropic, 0 on a line",
        );
    }

    report.section("after centring each modality (C3)");
    let (ca, ct) = (mean_centred(&a)?, mean_centred(&t)?);
    report.line(
        "c3_gap",
        "gap distance",
        gap(&ca, &ct)?.distance(),
        format!("before {:.4}", g.distance()),
    );
    report.line(
        "c3_rmg",
        "RMG",
        relative_gap(&ca, &ct)?.value,
        format!("before {:.4}", rmg.value),
    );
    let (before, after) = (retrieval_recall(&a, &t, 1)?, retrieval_recall(&ca, &ct, 1)?);
    report.line(
        "c3_r1_a_to_b",
        format!("R@1 {first}→{second}"),
        after.a_to_b,
        format!("before {:.4}", before.a_to_b),
    );
    report.line(
        "c3_r1_b_to_a",
        format!("R@1 {second}→{first}"),
        after.b_to_a,
        format!("before {:.4}", before.b_to_a),
    );

    if options.json {
        let mut object = serde_json::Map::new();
        object.insert("source".into(), source.into());
        object.insert("n".into(), a.len().into());
        object.insert("d".into(), a.dim().into());
        object.insert("k".into(), options.k.into());
        object.insert("q".into(), options.q.into());
        for (key, _, value, _) in report.sections.iter().flat_map(|(_, lines)| lines) {
            object.insert(key.clone(), (*value).into());
        }
        println!("{}", serde_json::Value::Object(object));
    } else {
        println!("source: {source}");
        println!("n = {} pairs; d = {}", a.len(), a.dim());
        for (title, lines) in &report.sections {
            println!("\n{title}");
            for (_, label, value, note) in lines {
                println!("  {label:<30}{value:>10.4}   {note}");
            }
        }
    }
    Ok(())
}
