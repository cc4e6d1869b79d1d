//! # modality-gap
//!
//! Exact, fast measurements of the geometry of multi-modal embedding spaces: the modality gap
//! and the cone effect of Liang et al. (NeurIPS 2022), and the alignment and uniformity of
//! Wang & Isola (ICML 2020), with one set of documented conventions.
//!
//! ```
//! use modality_gap::{Audio, Diagonal, Text, UnitEmbeddings, npy};
//!
//! // Real CLASP audio–text features, [2, n, d] float32 (or: npy::read_pair("features.npy")).
//! static CLASP: &[u8] = include_bytes!("../data/features_clasp.npy");
//! let (audio, text) = npy::pair_from_reader::<f32, Audio, Text, _>(CLASP)?;
//! let (audio, text) = (UnitEmbeddings::normalize(audio)?, UnitEmbeddings::normalize(text)?);
//!
//! let gap = modality_gap::gap(&audio, &text)?; // centroid(audio) − centroid(text)
//! let cone = modality_gap::mean_pairwise_cosine(&audio, Diagonal::Excluded)?;
//! let loss = modality_gap::contrastive_loss(&audio, &text, 0.01)?; // CLIP: τ = 0.01
//! assert!((gap.distance() - 1.04466).abs() < 1e-5);
//! assert!((cone - 0.60718).abs() < 1e-5);
//! assert!((loss.symmetric - 9.76858).abs() < 1e-4);
//! # Ok::<(), modality_gap::Error>(())
//! ```
//!
//! ## The crate in four layers
//!
//! 1. **Types.** [`Scalar`] (`f32` or `f64`), [`Modality`] markers ([`Image`], [`Text`],
//!    [`Audio`], [`Video`], or your own in one line), [`Embeddings`] (n samples of dimension
//!    d, finite, one contiguous row per sample), [`UnitEmbeddings`] (every row unit-norm,
//!    checked once), and one [`Error`].
//! 2. **The pairwise kernel** (internal): every metric over pairs runs on one cache-tiled,
//!    rayon-parallel kernel with register-blocked SIMD micro-kernels chosen at run time
//!    (AVX-512, AVX2 + FMA, or portable code), which hands each block of dot products to a
//!    fused epilogue while it is hot and never holds an n × m matrix. One set with itself
//!    visits the pairs i < j only.
//! 3. **Metrics**, each a short documented formula: [`gap`], [`mean_pairwise_cosine`],
//!    [`align_loss`], [`uniform_loss`], [`contrastive_loss`], [`retrieval_recall`], the
//!    similarity distribution [`CosineHistogram`], [`top_k`] neighbours, and the explicit
//!    [`pairwise_cosine`] matrix for who really wants it; the unnormalised alignment and
//!    uniformity of the peers' code in [`raw`].
//! 4. **Experiments**: the paper's protocols built from the metrics, in [`experiments`]: 2-D
//!    views (Fig. 1), the cone of random networks (Fig. 2b), the embedding shift along the gap
//!    (Fig. 3b–d), the mismatched-data simulations (Fig. 3e–g), zero-shot accuracy as the gap
//!    moves (Table 1), the Procrustes gap amendment, and the summaries the paper reports (mean
//!    ± CI over seeds, per-group rates, ROC-AUC). The examples draw each figure.
//!
//! Input comes from numpy `.npy` files through [`npy`].
//!
//! ## Conventions
//!
//! - **Layout.** Sample i is row i of a numpy `(n, d)` array in C order, i.e. column i of a
//!   nalgebra `d × n` matrix. Constructors name the layout they read
//!   ([`Embeddings::from_row_major_slice`], [`Embeddings::from_sample_rows`],
//!   [`Embeddings::from_sample_columns`]).
//! - **Sign and order.** Two-set metrics take the image (or other non-text) set first and text
//!   second; the gap is image centroid minus text centroid.
//! - **Sphere.** Metrics defined on the hypersphere take [`UnitEmbeddings`]; centroids are
//!   *not* renormalised.
//! - **Pairs.** The cone excludes the diagonal i = j by default ([`Diagonal`]); uniformity uses
//!   the n(n−1)/2 pairs i < j; the contrastive loss uses the diagonal as the target.
//! - **Temperature.** Logits are cosine similarities divided by τ. CLIP's logit
//!   scale 100 is τ = 0.01.
//! - **Precision.** Inputs may be `f32` or `f64`. Dot products between samples are fused
//!   multiply-add chains in the input precision (for `f32`, as sgemm does: about 1e-7
//!   relative); everything after them, and every O(n·d) reduction, accumulates in `f64`, and
//!   every metric returns `f64`.
//! - **Errors, not NaN.** Empty sets, dimension or length mismatches, zero or non-finite rows,
//!   out-of-domain parameters and malformed files are typed [`Error`]s.
//! - **Determinism.** Results do not depend on the number of threads (pairwise passes split
//!   into fixed tasks whose partial results merge in a fixed order). Passes run in the
//!   caller's rayon pool, so `pool.install(|| …)` chooses the threads; small pairwise
//!   passes (below 4·10⁶ multiply-adds) run on the calling thread.
//!
//! `docs/metrics.md` in the repository lists every formula beside the peers' code and where
//! they differ.
//!
//! ## References
//!
//! - W. Liang, Y. Zhang, Y. Kwon, S. Yeung, J. Zou. *Mind the Gap: Understanding the Modality
//!   Gap in Multi-modal Contrastive Representation Learning.* NeurIPS 2022.
//! - T. Wang, P. Isola. *Understanding Contrastive Representation Learning through Alignment
//!   and Uniformity on the Hypersphere.* ICML 2020.

#![deny(missing_docs)]
#![doc(test(attr(deny(warnings))))]
#![deny(unsafe_code)]

mod embeddings;
mod error;
pub mod experiments;
mod kernel;
mod metrics;
mod modality;
mod norm;
pub mod npy;
pub mod raw;
mod reduce;
mod scalar;
mod unit;

pub use embeddings::Embeddings;
pub use error::{Error, NpyError, Result};
pub use metrics::{
    ContrastiveLoss, CosineHistogram, Diagonal, Gap, Recall, TopK, align_loss, contrastive_loss,
    gap, mean_pairwise_cosine, pairwise_cosine, retrieval_recall, top_k, uniform_loss,
};
pub use modality::{Audio, Image, Modality, Text, Video};
pub use scalar::Scalar;
pub use unit::UnitEmbeddings;

/// The README's usage example, compiled as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// Not part of the API: the measurements the benchmarks state their results against.
#[doc(hidden)]
pub mod bench {
    use crate::kernel::{Isa, peak_flops};

    /// (the kernel's instruction set, f32 flops per second of 1 thread, of every thread of the
    /// current rayon pool), each over about `seconds`, from the micro-kernel's own
    /// register-only fused multiply-add loop.
    pub fn fma_peak_f32(seconds: f64) -> (String, f64, f64) {
        let isa = Isa::detect();
        let x = 1.0 - f32::EPSILON; // acc·x + x stays near 1/ε, finite forever
        let probe = 1 << 16;
        let (rate, flops_per_iteration) = peak_flops(isa, 1, probe, x);
        let iterations = (seconds * rate / flops_per_iteration).max(1.0) as usize;
        let threads = rayon::current_num_threads();
        let (one, _) = peak_flops(isa, 1, iterations, x);
        let (all, _) = peak_flops(isa, threads, iterations, x);
        (format!("{isa:?}"), one, all)
    }

    /// Bytes per second that the current rayon pool reads from memory, summing a buffer of
    /// `bytes` (far beyond the caches) in chunks of 1 MiB: what an O(n·d) metric can reach.
    pub fn read_bandwidth(bytes: usize) -> f64 {
        use rayon::prelude::*;
        let data = vec![1.0f32; bytes / 4];
        let sum = |chunk: &[f32]| {
            let mut lanes = [0.0f32; 16];
            for block in chunk.chunks_exact(16) {
                for (l, v) in lanes.iter_mut().zip(block) {
                    *l += v;
                }
            }
            lanes.iter().sum::<f32>()
        };
        let start = std::time::Instant::now();
        let total: f32 = data.par_chunks(1 << 18).map(sum).sum();
        let seconds = start.elapsed().as_secs_f64();
        assert!(total > 0.0);
        (data.len() * 4) as f64 / seconds
    }
}

/// The types and metrics most programs need: `use modality_gap::prelude::*;`.
pub mod prelude {
    pub use crate::{
        Audio, CosineHistogram, Diagonal, Embeddings, Error, Image, Modality, Text, UnitEmbeddings,
        Video, align_loss, contrastive_loss, gap, mean_pairwise_cosine, pairwise_cosine,
        retrieval_recall, top_k, uniform_loss,
    };
}
