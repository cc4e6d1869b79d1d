//! Fig. 2b of Liang et al. (2022): the cone effect at random initialisation. Random inputs
//! pass through a freshly initialised MLP (weights and biases from N(0, 1/d)); the mean
//! pairwise cosine grows with depth, for every activation, as the infinite-width ReLU theory
//! predicts. Two encoders that differ only in their seed put the same inputs into two
//! different cones: a gap before any training.
//!
//! ```text
//! cargo run --release --example cone_effect [-- --n 1024 --dim 512 --depth 10 --seeds 5 --svg PATH]
//! cargo run --release --example cone_effect -- FEATURES.npy   # its first modality as the inputs
//! ```
//!
//! Prints the layer-by-layer mean cosine (diagonal included, as Fig. 2b) of each activation and
//! of the theory, the ReLU curve as mean ± 95 % confidence interval over seeds, and the gap
//! between two seeded encoders; draws the curves to `target/figures/cone_effect.svg`.

mod support;

use modality_gap::experiments::{Activation, RandomMlp, relu_cone_theory};
use modality_gap::stats::confidence_interval;
use modality_gap::{Diagonal, Embeddings, Image, Text, gap, mean_pairwise_cosine};
use rand::{SeedableRng, rngs::StdRng};
use rand_distr::{Distribution, StandardNormal};
use support::{Args, Mark, Panel, Series};

/// What `--help` prints.
const USAGE: &str = "\
usage: cargo run --release --example cone_effect [-- --n 1024 --dim 512 --depth 10 --seeds 5 --svg PATH]
       cargo run --release --example cone_effect -- FEATURES.npy   (its first modality as the inputs)
Fig. 2b: the mean cosine layer by layer of random MLPs, five activations, the ReLU theory,
mean ± 95 % CI over seeds, and the gap between two seeded encoders.
";

const ACTIVATIONS: [(Activation, &str); 5] = [
    (Activation::Relu, "ReLU"),
    (Activation::LeakyRelu, "LeakyReLU"),
    (Activation::Sigmoid, "Sigmoid"),
    (Activation::Tanh, "Tanh"),
    (Activation::Identity, "linear"),
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse(USAGE);
    let depth: usize = args.get("depth", 10);
    let seeds: u64 = args.get("seeds", 5);
    let x = inputs(&args)?;
    let (n, d) = (x.len(), x.dim());
    println!(
        "inputs: {n} samples of dimension {d}; {depth} layers of Linear({d}, {d}) + activation"
    );

    let mut panel = Panel::new(
        "cone effect at initialisation",
        "layer",
        "mean cosine (diagonal included)",
    );
    let mut curves = Vec::new();
    for (activation, name) in ACTIVATIONS {
        let cone =
            RandomMlp::random(d, depth, activation, 0)?.layerwise_cone(&x, Diagonal::Included)?;
        panel = panel.with(Series::new(name, enumerate(&cone), Mark::Line));
        curves.push((name, cone));
    }
    // Infinite width, from the inputs' own cosine, with the diagonal's (1 − ρ)/n added.
    let rho0 = mean_pairwise_cosine(
        &modality_gap::UnitEmbeddings::normalize(x.clone())?,
        Diagonal::Excluded,
    )?;
    let theory: Vec<f64> = relu_cone_theory(rho0, depth, 1.0 / d as f64)?
        .into_iter()
        .map(|rho| rho + (1.0 - rho) / n as f64)
        .collect();
    panel = panel.with(Series::new("ReLU theory", enumerate(&theory), Mark::Dashed));
    curves.push(("ReLU theory", theory));

    print!("{:>5}", "layer");
    for (name, _) in &curves {
        print!(" {name:>11}");
    }
    println!();
    for layer in 0..=depth {
        print!("{layer:>5}");
        for (_, cone) in &curves {
            print!(" {:>11.4}", cone[layer]);
        }
        println!();
    }
    println!("paper (d = 512, n = 1024, ReLU, layers 1–3): 0.3195 0.4943 0.6069");

    relu_over_seeds(&x, depth, seeds)?;
    two_encoders(&x, depth)?;
    support::draw(&args.svg("cone_effect"), &[panel])
}

/// The inputs: the first modality of a given file, or n samples of N(0, I_d).
fn inputs(args: &Args) -> modality_gap::Result<Embeddings<f64, Image>> {
    if let Some(path) = args.paths.first() {
        return Ok(support::load_pair(Some(path))?.images.into_inner());
    }
    let (n, d): (usize, usize) = (args.get("n", 1024), args.get("dim", 512));
    let mut rng = StdRng::seed_from_u64(2022);
    let values = (0..n * d)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect();
    Embeddings::from_row_major_vec(n, d, values)
}

/// The ReLU curve over several seeds: mean ± t·s/√n, the paper's summary over runs.
fn relu_over_seeds(
    x: &Embeddings<f64, Image>,
    depth: usize,
    seeds: u64,
) -> modality_gap::Result<()> {
    let runs = (0..seeds)
        .map(|seed| {
            RandomMlp::random(x.dim(), depth, Activation::Relu, seed)?
                .layerwise_cone(x, Diagonal::Included)
        })
        .collect::<modality_gap::Result<Vec<_>>>()?;
    println!("\nReLU over {seeds} seeds, mean ± 95 % confidence interval (Student t):");
    for layer in 1..=depth {
        let values: Vec<f64> = runs.iter().map(|run| run[layer]).collect();
        let ci = confidence_interval(&values, 0.95)?;
        println!("layer {layer:>2}: {:.4} ± {:.4}", ci.mean, ci.half_width);
    }
    Ok(())
}

/// Two encoders, seeds 1 and 2, on the same inputs: a gap between their outputs.
fn two_encoders(x: &Embeddings<f64, Image>, depth: usize) -> modality_gap::Result<()> {
    let encode = |seed| RandomMlp::random(x.dim(), depth, Activation::Relu, seed)?.encode(x);
    let first = encode(1)?;
    let second = encode(2)?.with_modality::<Text>();
    println!(
        "\ntwo ReLU encoders (seeds 1 and 2) on the same inputs: gap distance {:.4}, cones {:.4} and {:.4}",
        gap(&first, &second)?.distance(),
        mean_pairwise_cosine(&first, Diagonal::Excluded)?,
        mean_pairwise_cosine(&second, Diagonal::Excluded)?,
    );
    Ok(())
}

fn enumerate(values: &[f64]) -> Vec<(f64, f64)> {
    values
        .iter()
        .enumerate()
        .map(|(l, &v)| (l as f64, v))
        .collect()
}
