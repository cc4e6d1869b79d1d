//! The Euclidean norm, safe from overflow and underflow.

use crate::Scalar;

/// ‖v‖₂ kept as `scale · root`, so that dividing by it never overflows: v / ‖v‖ is computed as
/// (v / scale) / root. For vectors whose squared norm is a normal f64 (every realistic
/// embedding), scale = 1 and root = √(Σ vₖ²), summed in order; otherwise the values are first
/// divided by scale = max |vₖ|.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Norm {
    scale: f64,
    root: f64,
}

impl Norm {
    /// The norm of the values `values()` yields (called twice on the rescaled path).
    pub(crate) fn of<I: Iterator<Item = f64>>(values: impl Fn() -> I) -> Self {
        let squares: f64 = values().map(|v| v * v).sum();
        if squares.is_normal() {
            return Self {
                scale: 1.0,
                root: squares.sqrt(),
            };
        }
        let scale = values().fold(0.0, |m: f64, v| m.max(v.abs()));
        if scale == 0.0 {
            return Self {
                scale: 0.0,
                root: 0.0,
            };
        }
        let rescaled: f64 = values().map(|v| (v / scale).powi(2)).sum();
        Self {
            scale,
            root: rescaled.sqrt(),
        }
    }

    /// The norm of a row of scalars.
    pub(crate) fn of_row<T: Scalar>(row: &[T]) -> Self {
        Self::of(|| row.iter().map(|v| v.to_f64()))
    }

    /// ‖v‖₂ itself (may be +∞ when the norm exceeds `f64::MAX`).
    pub(crate) fn value(self) -> f64 {
        self.scale * self.root
    }

    /// Whether v = 0.
    pub(crate) fn is_zero(self) -> bool {
        self.scale == 0.0
    }

    /// vₖ / ‖v‖₂, without overflow (v ≠ 0).
    pub(crate) fn divide(self, v: f64) -> f64 {
        v / self.scale / self.root
    }
}

#[cfg(test)]
mod tests {
    use super::Norm;

    #[test]
    fn ordinary_vectors_take_the_plain_path() {
        let n = Norm::of_row(&[3.0f32, 4.0]);
        assert_eq!((n.value(), n.divide(3.0), n.divide(4.0)), (5.0, 0.6, 0.8));
    }

    #[test]
    fn huge_and_tiny_vectors_are_rescaled() {
        let huge = Norm::of_row(&[f64::MAX, f64::MAX]);
        assert_eq!(huge.value(), f64::INFINITY);
        assert!((huge.divide(f64::MAX) - 0.5f64.sqrt()).abs() <= f64::EPSILON);
        let tiny = Norm::of_row(&[3e-320, 4e-320]);
        assert!((tiny.value() - 5e-320).abs() <= 1e-323);
        assert!((tiny.divide(3e-320) - 0.6).abs() < 1e-3); // subnormal inputs carry few digits
        let small = Norm::of_row(&[3e-300, 4e-300]);
        assert!((small.divide(3e-300) - 0.6).abs() < 1e-15);
    }

    #[test]
    fn zero_is_zero() {
        assert!(Norm::of_row(&[0.0f64; 4]).is_zero());
        assert!(!Norm::of_row(&[0.0, 1e-310]).is_zero());
    }
}
