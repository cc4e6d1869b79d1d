//! The paper's protocols, built from the metrics: moving embeddings along the gap, and
//! zero-shot classification as the gap moves (Liang et al. 2022, Sec. 4.2–4.3, Table 1).

mod shift;
mod zero_shot;

pub use shift::{Shift, shift};
pub use zero_shot::{ZeroShotPoint, hit_rates, predict, zero_shot_sweep};
