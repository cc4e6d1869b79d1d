//! The jackknife of each metric that is an estimate from a sample: the same value as the
//! metric, with the deviations of its leave-one-out values, from the same pass wherever the
//! formula allows. Each function has the name and arguments of the metric it measures and
//! returns a [`Jackknife`](crate::Jackknife): [`estimate`](crate::Jackknife::estimate) gives
//! the standard error, [`difference`](crate::Jackknife::difference) compares two models on the
//! same samples. The k-NN metrics, whose delete-one jackknife would cost n passes, leave out
//! seeded groups instead and take two more arguments: the number of groups and their seed.
//!
//! | metric | leave-one-out values | cost beyond the metric |
//! |---|---|---|
//! | means over samples ([`align_loss`]) | δᵢ = (θ − xᵢ)/(n − 1): SE = s/√n | none |
//! | k-NN metrics ([`mutual_knn`], [`cknna`]) | the metric without each of g seeded groups (delete-a-group; the bootstrap is invalid) | g evaluations of the metric |
//!
//! `docs/uncertainty.md` in the repository gives each formula, when it is valid and its
//! coverage measured by simulation.

mod knn;
mod means;

pub use knn::{cknna, mutual_knn};
pub use means::align_loss;
