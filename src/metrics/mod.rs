//! The metrics: each a short formula over the types, the O(n·d) reductions and the doors of
//! the pairwise kernel.

mod align;
mod batched;
mod captioned;
mod centring;
mod classification;
mod cone;
mod contrastive;
mod distribution;
mod gap;
pub mod jackknife;
mod pairing;
mod pairwise;
mod quantiles;
pub mod raw;
mod relative_gap;
mod retrieval;
mod separability;
pub mod shard;
mod similarity;
mod spectrum;
pub mod stream;
pub mod subsample;
mod top_k;
mod uniform;

pub use align::align_loss;
pub use batched::batched_contrastive_loss;
pub use centring::{Centring, mean_centred};
pub use classification::{hit_rates, predict};
pub use cone::{Diagonal, mean_pairwise_cosine};
pub use contrastive::{ContrastiveLoss, contrastive_loss, contrastive_loss_with_targets};
pub use distribution::CosineHistogram;
pub use gap::{DimensionShare, Gap, centroid, gap};
pub use pairwise::pairwise_cosine;
pub use quantiles::{cosine_quantiles_between, cosine_quantiles_within};
pub use relative_gap::{RelativeGap, relative_gap};
pub use retrieval::{Recall, RetrievalRanks, retrieval_ranks, retrieval_recall};
pub use separability::{Separability, modality_separability};
pub use similarity::{HsicEstimator, cka, cknna, mutual_knn, svcca};
pub use spectrum::{EffectiveRank, Spectrum, effective_rank, isoscore};
pub use top_k::{TopK, top_k};
pub use uniform::{cross_modal_uniformity, uniform_loss};
