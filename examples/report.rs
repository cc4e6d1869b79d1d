//! Prints the geometry of a pair of embedding sets, the numbers a researcher wants first: the
//! input's row norms (was it normalised?), the gap, matched against unmatched cross-modal
//! cosine, the cones, uniformity, alignment, the contrastive loss and Recall@1/5/10 both ways,
//! each loss and recall beside its chance level.
//!
//! ```text
//! cargo run --release --example report                      # the embedded CLIP image–text pairs
//! cargo run --release --example report -- features.npy      # any [2, n, d] file
//! cargo run --release --example report -- img.npy txt.npy   # two (n, d) files
//! options: --tau 0.01 | --logit-scale 100 (the contrastive loss's temperature), --json
//! ```

#[path = "support/help.rs"]
mod help;
#[path = "support/pair.rs"]
mod pair;
#[path = "support/progress_bar.rs"]
mod progress_bar;

use std::process::ExitCode;

use modality_gap::{
    Diagonal, Embeddings, Modality, Result, Temperature, Text, UnitEmbeddings, align_loss,
    centroid, contrastive_loss, gap, mean_pairwise_cosine, retrieval_ranks, uniform_loss,
};

/// What `--help` prints.
const USAGE: &str = "\
usage: cargo run --release --example report [-- PAIR.npy | -- FIRST.npy TEXT.npy] [options]
The geometry of two embedding sets: row norms, gap, matched and unmatched cosine, cones,
uniformity, alignment, the contrastive loss over the whole set and Recall@1/5/10 both ways,
beside their chance levels. PAIR.npy is [2, n, d] (first modality, then text); two files are
(n, d) each. Without files, the embedded CLIP pairs (500 MSCOCO images and captions).
options: --tau T | --logit-scale S   the loss's temperature (default τ = 0.01, logit scale 100)
         --json                      one JSON object instead of the table (for sweeping checkpoints)
";

/// The command line: the files, the temperature and the output form.
struct Options {
    paths: Vec<String>,
    temperature: Temperature,
    json: bool,
}

fn options() -> std::result::Result<Options, String> {
    let (mut paths, mut temperature, mut json) = (Vec::new(), Temperature::CLIP, false);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| {
            let value = args.next().ok_or(format!("{name} needs a value"))?;
            value
                .parse::<f64>()
                .map_err(|_| format!("bad value for {name}: {value}"))
        };
        match arg.as_str() {
            "--tau" => {
                temperature = Temperature::new(number("--tau")?).map_err(|e| e.to_string())?
            }
            "--logit-scale" => {
                let scale = number("--logit-scale")?;
                temperature = Temperature::from_logit_scale(scale).map_err(|e| e.to_string())?;
            }
            "--json" => json = true,
            other if other.starts_with("--") => return Err(format!("unknown option {other}")),
            _ => paths.push(arg),
        }
    }
    Ok(Options {
        paths,
        temperature,
        json,
    })
}

impl pair::Report for Options {
    fn run<A: Modality>(
        &self,
        source: &str,
        a: Embeddings<f64, A>,
        t: Embeddings<f64, Text>,
    ) -> Result<()> {
        // A bar on the terminal for any pass of a large input that runs over a second.
        progress_bar::with_bar("report", || report(source, a, t, self))
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

/// One line of the report: a label, a value, and what it means.
struct Line {
    key: String,
    label: String,
    value: f64,
    note: String,
}

fn report<A: Modality>(
    source: &str,
    a: Embeddings<f64, A>,
    t: Embeddings<f64, Text>,
    options: &Options,
) -> Result<()> {
    let (first, second) = (A::NAME, Text::NAME);
    let (a, a_norms) = UnitEmbeddings::normalize_and_get(a)?;
    let (t, t_norms) = UnitEmbeddings::normalize_and_get(t)?;
    let mut lines = Vec::new();
    let mut add = |key: &str, label: String, value: f64, note: String| {
        lines.push(Line {
            key: key.to_owned(),
            label,
            value,
            note,
        })
    };
    for (name, norms) in [(first, a_norms), (second, t_norms)] {
        let (min, median, max) = spread(norms);
        let note = "input row norms: min, median, max (1 = already normalised)";
        add(
            &format!("{name}_norm_min"),
            format!("‖{name}‖ min"),
            min,
            note.into(),
        );
        add(
            &format!("{name}_norm_median"),
            format!("‖{name}‖ median"),
            median,
            String::new(),
        );
        add(
            &format!("{name}_norm_max"),
            format!("‖{name}‖ max"),
            max,
            String::new(),
        );
    }
    add(
        "gap",
        "gap distance".into(),
        gap(&a, &t)?.distance(),
        format!("‖centroid({first}) − centroid({second})‖"),
    );
    for (key, label, value, note) in one_set(&a)?.into_iter().chain(one_set(&t)?) {
        add(&key, label, value, note);
    }
    let n = a.len();
    let mut skipped = Vec::new();
    if n == t.len() {
        // Matched pairs against all others, in O(n·d): the mean over all n² pairs is
        // centroid(a)·centroid(t).
        let matched: f64 = a
            .rows()
            .zip(t.rows())
            .map(|(x, y)| x.iter().zip(y).map(|(p, q)| p * q).sum::<f64>())
            .sum::<f64>()
            / n as f64;
        let all: f64 = centroid(&a)
            .iter()
            .zip(centroid(&t))
            .map(|(p, q)| p * q)
            .sum();
        let unmatched = (n as f64 * all - matched) / (n as f64 - 1.0);
        add(
            "cosine_matched",
            "cosine matched".into(),
            matched,
            format!("mean {first}ᵢ·{second}ᵢ"),
        );
        add(
            "cosine_unmatched",
            "cosine unmatched".into(),
            unmatched,
            format!("mean {first}ᵢ·{second}ⱼ, i ≠ j"),
        );
        add(
            "align",
            "align".into(),
            align_loss(&a, &t, 2.0)?,
            format!("α = 2: mean ‖{first}ᵢ − {second}ᵢ‖²"),
        );
        let loss = contrastive_loss(&a, &t, options.temperature)?;
        let chance = (n as f64).ln();
        let whole = format!("whole set, {}", options.temperature);
        add(
            "loss",
            "contrastive".into(),
            loss.symmetric,
            format!("symmetric, {whole}; chance ln n = {chance:.4}"),
        );
        add(
            "loss_a_to_b",
            format!("  {first}→{second}"),
            loss.a_to_b,
            "cross-entropy over rows".into(),
        );
        add(
            "loss_b_to_a",
            format!("  {second}→{first}"),
            loss.b_to_a,
            "cross-entropy over columns".into(),
        );
        let ranks = retrieval_ranks(&a, &t)?;
        for k in [1, 5, 10] {
            let recall = ranks.recall(k)?;
            let chance = format!("chance K/n = {:.4}", (k as f64 / n as f64).min(1.0));
            add(
                &format!("r{k}_a_to_b"),
                format!("R@{k} {first}→{second}"),
                recall.a_to_b,
                chance.clone(),
            );
            add(
                &format!("r{k}_b_to_a"),
                format!("R@{k} {second}→{first}"),
                recall.b_to_a,
                chance,
            );
        }
    } else {
        skipped.push(format!(
            "the sets differ in n ({} {first}, {} {second}), so they are not paired: matched \
             cosine, align, the contrastive loss and retrieval are skipped",
            n,
            t.len()
        ));
    }
    if options.json {
        let mut object = serde_json::Map::new();
        object.insert("source".into(), source.into());
        object.insert("n".into(), n.into());
        object.insert("d".into(), a.dim().into());
        object.insert("tau".into(), options.temperature.tau().into());
        for line in &lines {
            object.insert(line.key.clone(), line.value.into());
        }
        object.insert("skipped".into(), skipped.into());
        println!("{}", serde_json::Value::Object(object));
    } else {
        println!("source: {source}");
        println!("n = {n} {first}, {} {second}; d = {}\n", t.len(), a.dim());
        for line in &lines {
            println!("{:<22}{:>10.6}   {}", line.label, line.value, line.note);
        }
        for message in skipped {
            println!("\n{message}");
        }
    }
    Ok(())
}

/// The cone and the uniformity of one set, as (key, label, value, note).
fn one_set<M: Modality>(x: &UnitEmbeddings<f64, M>) -> Result<[(String, String, f64, String); 2]> {
    let name = M::NAME;
    Ok([
        (
            format!("cone_{name}"),
            format!("cone {name}"),
            mean_pairwise_cosine(x, Diagonal::Excluded)?,
            "mean cosine over pairs i ≠ j".into(),
        ),
        (
            format!("uniform_{name}"),
            format!("uniform {name}"),
            uniform_loss(x, 2.0)?,
            "t = 2".into(),
        ),
    ])
}

/// (min, median, max) of some values.
fn spread(mut values: Vec<f64>) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    let median = values[values.len() / 2];
    (values[0], median, values[values.len() - 1])
}
