//! How similar two representations of the same samples are.

mod cka;
mod knn;
mod svcca;

pub use cka::{HsicEstimator, cka};
pub(crate) use cka::{RowTerms, centre, check_sets, cka_of};
pub use knn::{cknna, mutual_knn};
pub use svcca::svcca;
