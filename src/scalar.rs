//! The element types embeddings may hold.

pub(crate) use sealed::Pair;

mod sealed {
    /// Two slices of one element type, as the pairwise kernel receives them: the crate's
    /// generic code meets the kernel's two compiled element types here.
    #[derive(Debug, Clone, Copy)]
    pub enum Pair<'a> {
        F32(&'a [f32], &'a [f32]),
        F64(&'a [f64], &'a [f64]),
    }

    pub trait Sealed: Sized {
        /// The two slices as their concrete type.
        fn pair<'a>(a: &'a [Self], b: &'a [Self]) -> Pair<'a>;

        /// The unit roundoff u: the largest relative error of rounding a real to the type
        /// (2⁻²⁴ for `f32`, 2⁻⁵³ for `f64`).
        const UNIT_ROUNDOFF: f64;
    }

    impl Sealed for f32 {
        const UNIT_ROUNDOFF: f64 = 1.0 / (1u64 << 24) as f64;

        fn pair<'a>(a: &'a [f32], b: &'a [f32]) -> Pair<'a> {
            Pair::F32(a, b)
        }
    }

    impl Sealed for f64 {
        const UNIT_ROUNDOFF: f64 = 1.0 / (1u64 << 53) as f64;

        fn pair<'a>(a: &'a [f64], b: &'a [f64]) -> Pair<'a> {
            Pair::F64(a, b)
        }
    }
}

/// An element type of [`Embeddings`](crate::Embeddings): `f32` or `f64`, and nothing else.
///
/// The trait is sealed, so the crate can rely on IEEE-754 binary32/binary64 semantics.
/// Whatever the input type, every reduction in this crate accumulates in `f64` and every
/// metric returns `f64` (the convention of numkong, and of numpy code that casts to float64 first).
/// `f32` input therefore costs half the memory traffic without losing accumulation accuracy;
/// only the rounding of the stored values themselves remains.
///
/// # Examples
///
/// ```
/// use modality_gap::Scalar;
///
/// assert_eq!(0.1_f32.to_f64(), 0.100_000_001_490_116_12);
/// assert_eq!(f32::from_f64(0.1), 0.1_f32);
/// assert_eq!(<f64 as Scalar>::NAME, "f64");
/// ```
pub trait Scalar:
    nalgebra::Scalar + Copy + PartialOrd + Send + Sync + sealed::Sealed + 'static
{
    /// The Rust name of the type, `"f32"` or `"f64"`.
    const NAME: &'static str;

    /// Widens to `f64` (exact for both types).
    fn to_f64(self) -> f64;

    /// Rounds an `f64` to this type (round to nearest even; exact for `f64`).
    fn from_f64(value: f64) -> Self;
}

impl Scalar for f32 {
    const NAME: &'static str = "f32";

    #[inline(always)]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }

    #[inline(always)]
    fn from_f64(value: f64) -> Self {
        value as f32
    }
}

impl Scalar for f64 {
    const NAME: &'static str = "f64";

    #[inline(always)]
    fn to_f64(self) -> f64 {
        self
    }

    #[inline(always)]
    fn from_f64(value: f64) -> Self {
        value
    }
}

/// `a` and `b` as the kernel's concrete element type.
pub(crate) fn pair<'a, T: Scalar>(a: &'a [T], b: &'a [T]) -> Pair<'a> {
    <T as sealed::Sealed>::pair(a, b)
}

/// The unit roundoff of `T` (2⁻²⁴ for `f32`, 2⁻⁵³ for `f64`).
pub(crate) fn unit_roundoff<T: Scalar>() -> f64 {
    <T as sealed::Sealed>::UNIT_ROUNDOFF
}
