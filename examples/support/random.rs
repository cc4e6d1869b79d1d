//! Random unit embeddings for the timing examples, from a small deterministic generator
//! (xorshift64), so that every run times the same rows without a random-number crate.

use modality_gap::{Embeddings, Modality, Scalar, UnitEmbeddings};

/// n × d values uniform in [−½, ½) from `seed`, plus `offset`, each row normalised to unit
/// length. An offset of 0 gives isotropic rows; a positive one a cone around the diagonal
/// direction, of mean cosine about 12·offset²/(1 + 12·offset²) (each value has variance 1/12).
pub fn unit<T: Scalar, M: Modality>(
    n: usize,
    d: usize,
    seed: u64,
    offset: f64,
) -> UnitEmbeddings<T, M> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let values = (0..n * d)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            T::from_f64((state >> 40) as f64 / (1u64 << 24) as f64 - 0.5 + offset)
        })
        .collect();
    UnitEmbeddings::normalize(Embeddings::from_row_major_vec(n, d, values).unwrap()).unwrap()
}
