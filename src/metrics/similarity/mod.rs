//! Representational similarity of two sets of paired samples.

mod cka;
mod svcca;

pub use cka::{HsicEstimator, cka};
pub use svcca::svcca;
