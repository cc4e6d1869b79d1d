//! Statistics for reporting the numbers the metrics give: Student's t distribution, confidence
//! intervals of a mean over seeds or runs, the area under the ROC curve, and per-group
//! prediction rates. Built on the public API only, like [`experiments`](crate::experiments).
//!
//! ## Why our own Student's t
//!
//! statrs (`StudentsT`) is the well-kept Rust crate for the t distribution. This module keeps
//! its own [`t_cdf`] and [`t_quantile`] because they are accurate to a few ulps over every
//! degree of freedom and tail this crate's intervals use: against 40-digit mpmath values, the
//! largest relative error measured is 4.7e-15 for the quantile (ν from 3 to 10⁹, tail
//! probabilities from 1e-20 to 0.4) and 7.5e-15 for the CDF.

mod auc;
mod groups;
mod interval;
mod student_t;

pub use auc::roc_auc;
pub use groups::{GroupRates, group_rates};
pub use interval::{ConfidenceInterval, confidence_interval};
pub use student_t::{t_cdf, t_quantile};
