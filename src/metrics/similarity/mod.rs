//! How similar two representations of the same samples are.

mod knn;

pub use knn::{cknna, mutual_knn};
