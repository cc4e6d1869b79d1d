//! The input of the report examples: the embedded CLIP pair, one `[2, n, d]` file, or two
//! `(n, d)` files, handed to a report whatever the first set's modality.

use std::process::ExitCode;

use modality_gap::{Embeddings, Image, Modality, Result, Text, npy};

/// The non-text modality of a file given on the command line, whatever it is.
pub enum First {}
impl Modality for First {
    const NAME: &'static str = "first";
}

static CLIP: &[u8] = include_bytes!("../../data/features_clip.npy");

/// What an example prints for a pair of sets.
pub trait Report {
    /// Measures and prints the pair `a`, `t` read from `source`.
    fn run<A: Modality>(
        &self,
        source: &str,
        a: Embeddings<f64, A>,
        t: Embeddings<f64, Text>,
    ) -> Result<()>;
}

/// Runs `report` on the pair that `paths` name (none: the embedded CLIP pair) and turns the
/// outcome into the exit code: usage (2) for more than two paths, failure with the error's
/// message.
pub fn run_on_pair(paths: &[String], usage: &str, report: &impl Report) -> ExitCode {
    let outcome = match paths {
        [] => npy::read_pair_from::<f64, Image, Text, _>(CLIP).and_then(|(a, t)| {
            let source = "data/features_clip.npy (embedded; CLIP ViT-B/16 on 500 MSCOCO pairs)";
            report.run(source, a, t)
        }),
        [pair] => {
            npy::read_pair::<f64, First, Text>(pair).and_then(|(a, t)| report.run(pair, a, t))
        }
        [first, second] => npy::read::<f64, First>(first).and_then(|a| {
            let t = npy::read::<f64, Text>(second)?;
            report.run(&format!("{first} + {second}"), a, t)
        }),
        _ => {
            eprintln!("{usage}");
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
