//! The jackknife of each metric that is an estimate from a sample: the same value as the
//! metric, with the deviations of its leave-one-out values, from the same pass wherever the
//! formula allows. Each function has the name of the metric it measures and its arguments
//! (one quantile instead of a slice of them for the cosine quantiles), and returns a
//! [`Jackknife`](crate::Jackknife): [`estimate`](crate::Jackknife::estimate) gives the
//! standard error, [`difference`](crate::Jackknife::difference) compares two models on the
//! same samples. Where leaving one sample out has no closed form and would cost n evaluations
//! (SVCCA, the COCO retrieval and loss) or is not valid (the k-NN metrics, the quantiles),
//! seeded groups are left out instead, and the function takes two more arguments: the number
//! of groups and their seed. The contrastive loss has both: the exact delete-one jackknife
//! from a second pass, and a grouped one over runs of consecutive pairs from the metric's own
//! pass.
//!
//! | metric | leave-one-out values | cost beyond the metric |
//! |---|---|---|
//! | means over samples ([`align_loss`]) | δᵢ = (θ − xᵢ)/(n − 1): SE = s/√n | none |
//! | U-statistics over pairs ([`mean_pairwise_cosine`]) | from the row sums rᵢ = uᵢ·Σu − 1 | O(n·d) |
//! | functions of them ([`relative_gap`], [`gap`]) | the formula on the leave-one-out parts | O(n·d) |
//! | ratios of cross products ([`cka`], biased or unbiased) | rank-one updates of the d × d cross products | O(n·(d_a + d_b)²), as the metric |
//! | ratios of the scatter's trace and Frobenius norm ([`isoscore`]) | rank-one updates of the d × d scatter | O(n·d²), as the metric |
//! | entropies of the spectrum ([`effective_rank`]) | the eigenvalues of each rank-one downdate, from the secular equation | O(n·d²) per secular iteration |
//! | [`retrieval_recall`] (both directions) | the hits, and the queries of rank K that a left-out candidate outranked | the same kernel pass (each query's first K outrankers kept) |
//! | logs of U-statistics ([`uniform_loss`], [`cross_modal_uniformity`]) | each sample's sum of potentials, from the kernel pass | O(n) memory per task, the same pass |
//! | the COCO metrics of [`Captioned`](crate::Captioned) ([`captioned::align_loss`], [`captioned::relative_gap`]) | one image and all its captions left out, from per-image sums | O(m·d) |
//! | k-NN metrics ([`mutual_knn`], [`cknna`]) | the metric without each of g seeded groups (delete-a-group; the bootstrap is invalid) | g evaluations of the metric |
//! | [`svcca`] | the metric without each of g seeded groups | g evaluations |
//! | quantiles ([`cosine_quantile_within`], [`cosine_quantile_between`]) | without each of g seeded groups (delete-d: a quantile is not smooth) | g exact quantile passes |
//! | [`modality_separability`] (held-out accuracy) | the test outcomes' mean: SE = s/√n_test, given the fitted boundary | none |
//! | COCO retrieval and loss ([`captioned::retrieval_recall`], [`captioned::contrastive_loss`]) | without each of g seeded groups of images, with their captions | g evaluations |
//! | means of log-sum-exps ([`contrastive_loss`]) | what each row and column loses with the left-out column (row), given the final log-sum-exps | a second pass: 2.3× in all |
//! | the same, g runs of consecutive pairs left out ([`contrastive_loss_grouped`]) | what each row and column loses with a run of columns (rows): its log-sum-exp over every run, from the metric's pass | O(n·g) memory, the same pass |
//!
//! `docs/uncertainty.md` in the repository gives each formula, when it is valid and its
//! coverage measured by simulation.

pub mod captioned;
mod cka;
mod cone;
mod contrastive;
mod downdate;
mod gap;
mod grouped;
mod means;
mod products;
mod retrieval;
mod spectrum;
mod uniform;

pub use cka::cka;
pub(crate) use cone::{
    WithinSums, excluded_deviations, included_bias, included_deviations, included_row,
    least_samples, relative_gap_deviations, within_row,
};
pub use cone::{mean_pairwise_cosine, relative_gap};
pub(crate) use contrastive::from_left_out as contrastive_from_left_out;
pub use contrastive::{contrastive_loss, contrastive_loss_grouped};
pub use gap::gap;
pub(crate) use gap::gap_deviation;
pub use grouped::{cknna, cosine_quantile_between, cosine_quantile_within, mutual_knn, svcca};
pub use means::{align_loss, modality_separability};
pub use retrieval::{RecallJackknife, retrieval_recall};
pub use spectrum::{effective_rank, isoscore};
pub(crate) use uniform::from_shares as uniformity_from_shares;
pub use uniform::{cross_modal_uniformity, uniform_loss};
