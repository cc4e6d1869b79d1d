//! # modality-gap
//!
//! Exact, fast measurements of the geometry of multi-modal embedding spaces: the modality gap
//! and the cone effect of Liang et al. (NeurIPS 2022), and the alignment and uniformity of
//! Wang & Isola (ICML 2020), with one set of documented conventions.
//!
//! ```
//! use modality_gap::{Image, Temperature, Text, UnitEmbeddings, npy};
//!
//! // The 500 MSCOCO image–text pairs of CLIP ViT-B/16 published with the paper, [2, n, d]
//! // float32 (or: npy::read_pair("features.npy")).
//! static CLIP: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/features_clip.npy"));
//! let (images, texts) = npy::read_pair_from::<f32, Image, Text, _>(CLIP)?;
//! let (images, texts) = (UnitEmbeddings::normalize(images)?, UnitEmbeddings::normalize(texts)?);
//!
//! let gap = modality_gap::gap(&images, &texts)?; // centroid(images) − centroid(texts)
//! let recall = modality_gap::retrieval_recall(&images, &texts, 1)?;
//! let loss = modality_gap::contrastive_loss(&images, &texts, Temperature::CLIP)?; // τ = 0.01 (logit scale 100)
//! assert!((gap.distance() - 0.85135).abs() < 1e-5);
//! assert_eq!((recall.a_to_b, recall.b_to_a), (0.552, 0.506)); // R@1 both ways
//! assert!((loss.symmetric - 1.80089).abs() < 1e-5);
//! # Ok::<(), modality_gap::Error>(())
//! ```
//!
//! ## The crate in layers
//!
//! Each layer uses only the layers above it in this list, and every layer may use the shared
//! argument checks (a private module, the one place where the crate's typed errors are made).
//!
//! 1. **Types.** [`Scalar`] (`f32` or `f64`), [`Modality`] markers ([`Image`], [`Text`],
//!    [`Audio`], [`Video`], or your own in one line), one [`Error`], and how sure a number
//!    is: an [`Estimate`] (value, standard error, [`Method`]) with its t [`Interval`] and
//!    p-value, and the [`Jackknife`] most standard errors come from.
//! 2. **The pairwise kernel** (internal): every metric over pairs runs on one cache-tiled,
//!    rayon-parallel kernel with register-blocked SIMD micro-kernels chosen at run time
//!    (AVX-512, AVX2 + FMA, or portable code), which hands each block of dot products to a
//!    fused epilogue while it is hot and never holds an n × m matrix. One set with itself
//!    visits the pairs i < j only. Metrics reach it through one function per kind of pass,
//!    on row-major slices; it knows nothing of the types below.
//! 3. **Embeddings**: [`Embeddings`] (n samples of dimension d, finite, one contiguous row per
//!    sample), [`UnitEmbeddings`] (every row unit-norm, checked once), and [`npy`] input
//!    (`.npy`, `.npz`, or a chunk of rows at a time from any reader; `.safetensors` with the
//!    cargo feature `safetensors`; `.npy` files mapped in place with the feature `mmap`;
//!    `ndarray` views borrowed through `modality_gap::array` with the feature `ndarray`). Long
//!    pairwise passes report their progress and stop on request through
//!    [`progress::observe`].
//! 4. **Metrics**, each a short documented formula: [`gap`] and [`centroid`],
//!    [`mean_pairwise_cosine`], [`align_loss`], [`uniform_loss`], [`contrastive_loss`] (over
//!    the whole set, with label targets, or over batches), [`retrieval_recall`] (or [`retrieval_ranks`], for every K from one pass), zero-shot
//!    [`predict`] and [`hit_rates`], the similarity distribution [`CosineHistogram`] and its
//!    exact quantiles ([`cosine_quantiles_within`], [`cosine_quantiles_between`]),
//!    [`top_k`] neighbours, and the explicit [`pairwise_cosine`] matrix for who really wants
//!    it; the unnormalised alignment and uniformity of align_uniform's code in [`raw`]. The
//!    geometry of follow-up papers: the relative modality gap [`relative_gap`] (RMG) and the
//!    gap [by dimension](Gap::by_dimension), the [`cross_modal_uniformity`] of two paired
//!    sets, the [`modality_separability`] of a linear classifier, representational similarity
//!    ([`cka`], [`svcca`], the [`mutual_knn`] alignment and its kernel form [`cknna`]), the
//!    spread of a spectrum ([`effective_rank`], [`isoscore`]) from d × d cross products,
//!    closing the gap by [`mean_centred`] modalities, and [`Captioned`] images with several
//!    captions each (MSCOCO) for retrieval and losses over the true pairs.
//!    Each metric that is an estimate from a sample has its [`jackknife`]: the same value,
//!    with the deviations of its leave-one-out values, from the metric's own pass wherever
//!    the formula allows (uniformity's kernel pass adds each pair to both of its samples),
//!    and their estimates at any scale from a budget of random pairs in [`subsample`].
//!    Passes cut into tiles that other processes compute and merge into the same bits:
//!    [`shard`]; the O(n·d) metrics of rows that arrive a chunk at a time: [`stream`]. Both
//!    at scale: `docs/scale.md`.
//! 5. **Statistics and experiments**, clients of the public API: [`stats`] (Student's t,
//!    confidence intervals, ROC-AUC, per-group rates, paired sample ids, the bootstrap and
//!    permutation nulls of any metric) and [`experiments`], the paper's
//!    protocols: 2-D views (Fig. 1), the cone of random networks (Fig. 2b), the embedding
//!    shift along the gap (Fig. 3b–d), the mismatched-data simulations (Fig. 3e–g), zero-shot
//!    accuracy as the gap moves (Table 1) and the Procrustes gap amendment. The examples draw
//!    each figure.
//!
//! ## Conventions
//!
//! - **Layout.** Sample i is row i of a numpy `(n, d)` array in C order, i.e. column i of a
//!   nalgebra `d × n` matrix. Constructors name the layout they read
//!   ([`Embeddings::from_row_major_slice`], [`Embeddings::from_sample_rows`],
//!   [`Embeddings::from_sample_columns`]).
//! - **Sign and order.** Two-set functions take `a` and `b`, by convention the image (or other
//!   non-text) set first and text second; the gap is centroid(a) − centroid(b), and two-way
//!   results name their halves `a_to_b` and `b_to_a`.
//! - **Sphere.** Metrics defined on the hypersphere take [`UnitEmbeddings`]; centroids are
//!   *not* renormalised.
//! - **Pairs.** The cone excludes the diagonal i = j by default ([`Diagonal`]); uniformity uses
//!   the n(n−1)/2 pairs i < j, the cross-modal uniformity the n(n−1) pairs i ≠ j of A × B;
//!   the contrastive loss uses the diagonal as the target; k-nearest neighbours within one set
//!   exclude the sample itself.
//! - **Temperature.** Logits are cosine similarities divided by τ. CLIP's logit
//!   scale 100 is τ = 0.01. Functions take a [`Temperature`], built from either number, so
//!   the two cannot be confused.
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
//! `docs/metrics.md` in the repository lists every formula beside the reference code
//! (Weixin-Liang/Modality-Gap, SsnL/align_uniform) and where they differ.
//!
//! ## References
//!
//! - W. Liang, Y. Zhang, Y. Kwon, S. Yeung, J. Zou. *Mind the Gap: Understanding the Modality
//!   Gap in Multi-modal Contrastive Representation Learning.* NeurIPS 2022. Code:
//!   Weixin-Liang/Modality-Gap.
//! - T. Wang, P. Isola. *Understanding Contrastive Representation Learning through Alignment
//!   and Uniformity on the Hypersphere.* ICML 2020. Code: SsnL/align_uniform.

#![deny(missing_docs)]
#![doc(test(attr(deny(warnings))))]
#![deny(unsafe_code)]

#[cfg(feature = "ndarray")]
pub mod array;
mod captioned;
mod check;
mod embeddings;
mod error;
mod estimate;
pub mod experiments;
mod gram;
mod kernel;
mod metrics;
mod modality;
mod norm;
pub mod npy;
pub mod progress;
mod reduce;
#[cfg(feature = "safetensors")]
pub mod safetensors;
mod scalar;
pub mod stats;
mod storage;
mod student_t;
mod temperature;
mod unit;

pub use captioned::Captioned;
pub use embeddings::Embeddings;
pub use error::{Error, NpyError, Result, ShardError};
pub use estimate::{Estimate, Interval, Jackknife, Method};
pub use metrics::{
    Centring, ContrastiveLoss, CosineHistogram, Diagonal, DimensionShare, EffectiveRank, Gap,
    HsicEstimator, Recall, RelativeGap, RetrievalRanks, Separability, Spectrum, TopK, align_loss,
    batched_contrastive_loss, centroid, cka, cknna, contrastive_loss,
    contrastive_loss_with_targets, cosine_quantiles_between, cosine_quantiles_within,
    cross_modal_uniformity, effective_rank, gap, hit_rates, isoscore, jackknife, mean_centred,
    mean_pairwise_cosine, modality_separability, mutual_knn, pairwise_cosine, predict, raw,
    relative_gap, retrieval_ranks, retrieval_recall, shard, stream, subsample, svcca, top_k,
    uniform_loss,
};
pub use modality::{Audio, Image, Modality, Text, Video};
#[cfg(feature = "safetensors")]
pub use safetensors::SafeTensorsError;
pub use scalar::Scalar;
pub use temperature::Temperature;
pub use unit::UnitEmbeddings;

/// The README's usage example, compiled as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// The types and metrics most programs need: `use modality_gap::prelude::*;`.
pub mod prelude {
    pub use crate::{
        Audio, Captioned, CosineHistogram, Diagonal, Embeddings, Error, Image, Modality, Result,
        Temperature, Text, UnitEmbeddings, Video, align_loss, batched_contrastive_loss, centroid,
        contrastive_loss, cosine_quantiles_within, gap, mean_centred, mean_pairwise_cosine, npy,
        pairwise_cosine, predict, relative_gap, retrieval_ranks, retrieval_recall, top_k,
        uniform_loss,
    };
}
