//! Where the values of [`Embeddings`](crate::Embeddings) live: a buffer they own, a region of
//! a memory-mapped file they share (cargo feature `mmap`), or an `ndarray` view they borrow
//! for the length of a call (cargo feature `ndarray`).

/// The row-major values of one set.
pub(crate) enum Storage<T: 'static> {
    /// A buffer of their own.
    Owned(Vec<T>),
    /// A region of a mapped file, shared with every set cut from the same map.
    #[cfg(feature = "mmap")]
    Mapped(crate::npy::map::Region<T>),
    /// The values of a view, borrowed for the length of one call of
    /// [`array::with_view`](crate::array::with_view), which alone makes this variant. The
    /// `'static` is not true: the sets holding it are reached only through a reference that
    /// the call hands out and that cannot outlive it, and a clone copies.
    #[cfg(feature = "ndarray")]
    Borrowed(&'static [T]),
}

impl<T: crate::Scalar> Clone for Storage<T> {
    fn clone(&self) -> Self {
        match self {
            Self::Owned(values) => Self::Owned(values.clone()),
            #[cfg(feature = "mmap")]
            Self::Mapped(region) => Self::Mapped(region.clone()),
            #[cfg(feature = "ndarray")]
            Self::Borrowed(values) => Self::Owned(values.to_vec()),
        }
    }
}

impl<T: crate::Scalar> Storage<T> {
    /// The values.
    #[inline]
    pub(crate) fn as_slice(&self) -> &[T] {
        match self {
            Self::Owned(values) => values,
            #[cfg(feature = "mmap")]
            Self::Mapped(region) => region.values(),
            #[cfg(feature = "ndarray")]
            Self::Borrowed(values) => values,
        }
    }

    /// Tells the storage that a sweep is done with `values` (a range of value indices): a
    /// mapped region lets the pages holding them leave the process's resident memory (see
    /// [`Region::done_with`](crate::npy::map::Region::done_with)); other storage keeps its
    /// values where they are.
    #[inline]
    pub(crate) fn done_with(&self, values: std::ops::Range<usize>) {
        #[cfg(feature = "mmap")]
        if let Self::Mapped(region) = self {
            region.done_with(values);
        }
        #[cfg(not(feature = "mmap"))]
        let _ = values;
    }

    /// The values as a buffer of their own (a copy of a mapped region or a view).
    pub(crate) fn into_vec(self) -> Vec<T> {
        match self {
            Self::Owned(values) => values,
            #[cfg(feature = "mmap")]
            Self::Mapped(region) => region.values().to_vec(),
            #[cfg(feature = "ndarray")]
            Self::Borrowed(values) => values.to_vec(),
        }
    }
}
