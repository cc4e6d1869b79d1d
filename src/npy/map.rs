//! Memory-mapped `.npy` input (cargo feature `mmap`): embeddings that borrow a file's bytes in
//! place, so that a file far larger than RAM feeds every metric and the pairwise kernel, the
//! operating system paging its rows in as a pass reaches them.
//!
//! Mapping a file is `unsafe` because the crate cannot stop another process from changing it
//! (the crate's other `unsafe` code: the kernel's micro-kernels, and the lending of `ndarray`
//! views in `array`).

#![allow(unsafe_code)]

use std::fs::File;
use std::marker::PhantomData;
use std::path::Path;
use std::sync::Arc;

use memmap2::Mmap;

use super::{Dtype, Layout, c_order_floats, read_header};
use crate::storage::Storage;
use crate::{Embeddings, Error, Modality, NpyError, Result, Scalar};

/// `count` values of type `T` starting `offset` bytes into a shared map, the offset a
/// multiple of `T`'s alignment (checked when the region is cut).
pub(crate) struct Region<T> {
    map: Arc<Mmap>,
    offset: usize,
    count: usize,
    values: PhantomData<T>,
}

impl<T> Clone for Region<T> {
    fn clone(&self) -> Self {
        Self {
            map: Arc::clone(&self.map),
            ..*self
        }
    }
}

impl<T: Scalar> Region<T> {
    /// The values, borrowed from the map.
    #[inline]
    pub(crate) fn values(&self) -> &[T] {
        let bytes = &self.map[self.offset..self.offset + self.count * size_of::<T>()];
        // SAFETY: `bytes` holds `count` values' bytes, which live as long as `self` (it holds
        // the map); its start is aligned for `T` (checked in `sets` before any region is made;
        // a map starts on a page); `T` is f32 or f64 (`Scalar` is sealed), for which every bit
        // pattern is a value; and nothing writes the map (`map`'s contract).
        unsafe { std::slice::from_raw_parts(bytes.as_ptr().cast::<T>(), self.count) }
    }

    /// Lets the pages holding `values` (a range of value indices of this region) leave the
    /// process's resident memory: a sweep over rows calls this after each chunk, so that a
    /// mapped file far larger than memory is read without its pages piling up in the process
    /// (`madvise(MADV_DONTNEED)` on Unix, which Linux acts on at once and other kernels may take
    /// as a hint; elsewhere nothing). The pages stay in the operating
    /// system's page cache while memory allows, and a later read of the same values faults
    /// them back in from there (or from the file): the values read are the same.
    ///
    /// The range is widened to whole pages, so a page shared with the next chunk may be let go
    /// while another thread still reads it; that read faults the page back in.
    pub(crate) fn done_with(&self, values: std::ops::Range<usize>) {
        debug_assert!(values.start <= values.end && values.end <= self.count);
        #[cfg(unix)]
        {
            let size = size_of::<T>();
            let (start, len) = (self.offset + values.start * size, values.len() * size);
            // SAFETY: the range lies in the map (a sub-range of this region). The map is a
            // shared, read-only mapping of a file that nothing writes (`map`'s contract), so
            // the next read of a page let go here repopulates it from the same file bytes:
            // values borrowed from it (by this or any other thread) read as before. The advice
            // only drops page-table entries; a failure leaves them, which changes no value,
            // so it is ignored.
            let _ = unsafe {
                self.map
                    .unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, start, len)
            };
        }
        #[cfg(not(unix))]
        let _ = values;
    }
}

/// Maps the `(n, d)` array of the `.npy` file at `path`: the embeddings borrow the file's bytes
/// in place when it holds `T` in the machine's byte order (`'<f4'` for `f32`, `'<f8'` for
/// `f64` on a little-endian machine) in C order. Any other float type, byte order or a
/// Fortran-order array is converted as [`read`](super::read) converts it, into memory (a
/// float16 file is widened exactly). The header, the shape against the file's length, the
/// dtype, the byte order and the alignment are all checked before any value is borrowed, and
/// every value is checked finite once, reading the file through the map.
///
/// The O(n·d) sweeps over a mapped set (this check, `verify_unit`, the centroid, the gap, the
/// cone, the alignment loss) let each chunk of rows' pages go once done with it
/// (`madvise(MADV_DONTNEED)` on Unix: on Linux they leave the process's resident memory at once
/// and stay in the page cache while memory allows; elsewhere the advice is a hint), so a file
/// far larger than RAM adds about one chunk of 2048 rows per thread of resident memory. The
/// pairwise passes, which read rows many times, keep theirs.
///
/// # Safety
///
/// The file must not change while the embeddings (or any clone of them, or any set made from
/// them without a copy) live. The crate cannot enforce this; what happens if it does change:
/// - **truncated** (as `np.save` to the same path does before it writes again): the next read
///   of a page past the new end raises `SIGBUS` and the process dies at once with a bus error,
///   loudly, never with a quietly wrong value;
/// - **rewritten in place**: undefined behaviour in Rust's terms (borrowed values changed
///   under the borrow); in practice the metrics read bytes that the finiteness check never
///   saw, so a NaN can reach a result;
/// - **replaced** by a rename over the path (a new file written beside it and moved there):
///   the map keeps the old file's bytes, and nothing goes wrong. Write new embeddings that way.
///
/// # Errors
///
/// [`Error::File`] naming the path, around the errors of [`read`](super::read) and
/// [`NpyError::Misaligned`] for data that starts at an offset not a multiple of the element's
/// size (numpy's own writer never does this).
///
/// # Examples
///
/// ```
/// use modality_gap::{Image, npy};
///
/// let path = std::env::temp_dir().join("modality_gap_map_doctest.npy");
/// let header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
/// let mut file = b"\x93NUMPY\x01\x00".to_vec();
/// file.extend_from_slice(&118u16.to_le_bytes()); // 10 + 118 bytes: a multiple of 64
/// file.extend_from_slice(header);
/// file.resize(127, b' ');
/// file.push(b'\n');
/// for v in [0.6f32, 0.8, 1.0, 0.0] {
///     file.extend_from_slice(&v.to_le_bytes());
/// }
/// std::fs::write(&path, &file)?;
/// // SAFETY: nothing else writes this file while `images` lives.
/// let images = unsafe { npy::map::<f32, Image>(&path)? };
/// assert_eq!(images.row(1), &[1.0, 0.0]);
/// # drop(images);
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub unsafe fn map<T: Scalar, M: Modality>(path: impl AsRef<Path>) -> Result<Embeddings<T, M>> {
    let path = path.as_ref();
    // SAFETY: the caller keeps the file unchanged (this function's contract).
    let (mut sets, n, d) = in_file(path, unsafe { sets::<T>(path, Layout::Matrix) })?;
    let values = sets.pop().expect("one set");
    in_file(path, Embeddings::from_storage(n, d, values))
}

/// [`map`] for a stacked pair `[2, n, d]` (as [`read_pair`](super::read_pair)): both sets
/// borrow the one map.
///
/// # Safety
///
/// As [`map`].
///
/// # Errors
///
/// As [`map`]; a non-finite value is named with its set ([`Error::InSet`]).
///
/// # Examples
///
/// ```no_run
/// use modality_gap::{Image, Text, npy};
///
/// // SAFETY: the feature file is not written while the sets live.
/// let (images, texts) = unsafe { npy::map_pair::<f32, Image, Text>("features.npy")? };
/// assert_eq!(images.len(), texts.len());
/// # Ok::<(), modality_gap::Error>(())
/// ```
pub unsafe fn map_pair<T: Scalar, A: Modality, B: Modality>(
    path: impl AsRef<Path>,
) -> Result<(Embeddings<T, A>, Embeddings<T, B>)> {
    let path = path.as_ref();
    // SAFETY: the caller keeps the file unchanged (this function's contract).
    let (mut sets, n, d) = in_file(path, unsafe { sets::<T>(path, Layout::Pair) })?;
    let (second, first) = (sets.pop().expect("two sets"), sets.pop().expect("two sets"));
    let in_set = |set, source| Error::InSet {
        set,
        source: Box::new(source),
    };
    let first = Embeddings::from_storage(n, d, first).map_err(|e| in_set(A::NAME, e));
    let second = Embeddings::from_storage(n, d, second).map_err(|e| in_set(B::NAME, e));
    in_file(path, first.and_then(|first| Ok((first, second?))))
}

/// Names the file in an error.
fn in_file<V>(path: &Path, result: Result<V>) -> Result<V> {
    result.map_err(|source| Error::File {
        path: path.to_path_buf(),
        source: Box::new(source),
    })
}

/// Maps the file and cuts its array (of `layout`) into its sets of n × d values each: regions
/// of the map, or converted copies.
///
/// # Safety
///
/// The file stays unchanged while the regions live.
unsafe fn sets<T: Scalar>(path: &Path, layout: Layout) -> Result<(Vec<Storage<T>>, usize, usize)> {
    let file = File::open(path)?;
    // SAFETY: the caller keeps the file unchanged.
    let map = Arc::new(unsafe { Mmap::map(&file)? });
    let header = read_header(&mut &map[..], layout)?;
    let (data, end) = (header.data_offset, header.data_offset + header.byte_count);
    let length = map.len() as u64;
    if length < end {
        return Err(NpyError::Truncated {
            expected: end,
            found: length,
        }
        .into());
    }
    if length > end {
        return Err(NpyError::TrailingBytes {
            extra: length - end,
        }
        .into());
    }
    let (n, d) = (header.n, header.d);
    let (sets, ..) = layout.sets(n, d);
    let native = Dtype::Float {
        bytes: size_of::<T>(),
        big_endian: cfg!(target_endian = "big"),
    };
    // Both are at most the file's length: they fit in a usize.
    let (data, set_bytes) = (data as usize, header.byte_count as usize / sets);
    if header.dtype != native || header.fortran {
        let shape = layout.sets(n, d);
        let mut values = c_order_floats::<T>(&map[data..], header.dtype, header.fortran, shape);
        let mut owned = Vec::with_capacity(sets);
        while values.len() > n * d {
            owned.push(Storage::Owned(values.split_off(values.len() - n * d)));
        }
        owned.push(Storage::Owned(values));
        owned.reverse();
        return Ok((owned, n, d));
    }
    if !data.is_multiple_of(align_of::<T>()) {
        return Err(NpyError::Misaligned {
            offset: data as u64,
            align: align_of::<T>(),
        }
        .into());
    }
    let regions = (0..sets).map(|k| {
        Storage::Mapped(Region {
            map: Arc::clone(&map),
            offset: data + k * set_bytes,
            count: n * d,
            values: PhantomData,
        })
    });
    Ok((regions.collect(), n, d))
}
