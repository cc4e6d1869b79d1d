//! How similar two representations of the same samples are.

mod cka;
mod knn;
mod svcca;

pub use cka::{HsicEstimator, cka};
pub(crate) use cka::{RowTerms, centre, check_sets, cka_of};
pub(crate) use knn::{Neighbours, cknna_count, cknna_of, mutual_knn_count, mutual_knn_of};
pub use knn::{cknna, mutual_knn};
pub use svcca::svcca;
pub(crate) use svcca::{checked_q, subspace_map, svcca_of, varying_columns};
