//! Where the values of [`Embeddings`](crate::Embeddings) live: a buffer they own, or (with the
//! cargo feature `mmap`) a region of a memory-mapped file they share.

/// The row-major values of one set.
#[derive(Clone)]
pub(crate) enum Storage<T> {
    /// A buffer of their own.
    Owned(Vec<T>),
    /// A region of a mapped file, shared with every set cut from the same map.
    #[cfg(feature = "mmap")]
    Mapped(crate::npy::map::Region<T>),
}

impl<T: crate::Scalar> Storage<T> {
    /// The values.
    #[inline]
    pub(crate) fn as_slice(&self) -> &[T] {
        match self {
            Self::Owned(values) => values,
            #[cfg(feature = "mmap")]
            Self::Mapped(region) => region.values(),
        }
    }

    /// The values as a buffer of their own (a copy of a mapped region).
    pub(crate) fn into_vec(self) -> Vec<T> {
        match self {
            Self::Owned(values) => values,
            #[cfg(feature = "mmap")]
            Self::Mapped(region) => region.values().to_vec(),
        }
    }
}
