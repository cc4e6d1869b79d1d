//! Reading numpy `.npy` files into [`Embeddings`].
//!
//! Accepted: format versions 1.0, 2.0 and 3.0; dtypes float16, float32 and float64 in either
//! byte order (`'<f2'`, `'>f2'`, `'<f4'`, `'>f4'`, `'<f8'`, `'>f8'`; float16, how many CLIP
//! pipelines and LAION store embeddings, is widened exactly); C or Fortran order (a Fortran
//! array is transposed on read: one more pass over the values and one more copy of them,
//! O(n·d) time and memory). Either an `(n, d)` array ([`read`], [`read_from`]) or the
//! stacked pair `[2, n, d]` of the features published with Liang et al. (2022), first modality
//! at index 0 and text at index 1 ([`read_pair`], [`read_pair_from`]); and class labels, a
//! 1-D array of integers (`'<i8'`, numpy's default, or any other integer dtype),
//! through [`read_labels`] and [`read_labels_from`]. [`read_finite_rows`] and
//! [`read_pair_finite_rows`] drop the rows (pairs) that hold a NaN or an infinity and return
//! the indices of those they kept; the other readers refuse such a file. Values are converted to
//! the requested [`Scalar`]: `f32` to `f64` is exact, `f64` to `f32` rounds to nearest (a
//! value beyond `f32`'s range becomes infinite and is reported as [`Error::NonFinite`]).
//!
//! `.npz` archives (`np.savez`, `np.savez_compressed`) are read by name through [`Npz`]
//! (default cargo feature `npz`); handed to the `.npy` readers, one gives
//! [`NpyError::ZipArchive`], whose message says so.
//!
//! The reader trusts nothing in the header: the header length is capped, the shape's byte size
//! is computed with overflow checks, and the data buffer grows only as bytes actually arrive,
//! so a lying header cannot make it allocate. Every defect is a typed [`NpyError`] whose
//! message says whether the file is malformed or valid in a form this reader does not take,
//! and what to do; the path readers name the file ([`Error::File`]), and
//! the pair readers name the set a bad value is in ([`Error::InSet`]).
//! Nothing panics.
//!
//! This is a small hand-written parser rather than a dependency: the format is a magic string,
//! a length and a Python dict literal, the checks that matter (dtype, order, shape against the
//! real byte count, bounded allocation) are specific to this crate, and keeping them here keeps
//! the dependency tree to what the metrics need.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use crate::{Embeddings, Error, Modality, NpyError, Result, Scalar};

mod chunks;
#[cfg(feature = "mmap")]
pub(crate) mod map;
#[cfg(feature = "npz")]
mod npz;
pub use chunks::Chunks;
#[cfg(feature = "mmap")]
pub use map::{map, map_pair};
#[cfg(feature = "npz")]
pub use npz::Npz;

const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// The largest header accepted. numpy itself refuses headers above 10 000 bytes by default;
/// real headers are under 200.
const MAX_HEADER_BYTES: usize = 65_536;

/// Reads an `(n, d)` array: n samples of dimension d.
///
/// # Errors
///
/// [`Error::File`] naming the file, around [`Error::Io`]
/// if it cannot be opened or read, [`Error::Npy`] for a malformed or
/// unsupported file, or [`Error::NonFinite`] for a NaN or infinite
/// value (within [`Error::InSet`], naming the set, for a pair).
///
/// # Examples
///
/// ```no_run
/// use modality_gap::{Image, npy};
///
/// let images = npy::read::<f32, Image>("image_features.npy")?;
/// println!("{} samples of dimension {}", images.len(), images.dim());
/// # Ok::<(), modality_gap::Error>(())
/// ```
pub fn read<T: Scalar, M: Modality>(path: impl AsRef<Path>) -> Result<Embeddings<T, M>> {
    at(path.as_ref(), read_from)
}

/// Reads a stacked pair `[2, n, d]`: index 0 is the first modality (image, audio, video),
/// index 1 the second (text); row i of both is a matched pair.
///
/// # Errors
///
/// As [`read`].
///
/// # Examples
///
/// ```no_run
/// use modality_gap::{Image, Text, npy};
///
/// let (img, txt) = npy::read_pair::<f32, Image, Text>("features_clip.npy")?;
/// assert_eq!(img.len(), txt.len());
/// # Ok::<(), modality_gap::Error>(())
/// ```
pub fn read_pair<T: Scalar, A: Modality, B: Modality>(
    path: impl AsRef<Path>,
) -> Result<(Embeddings<T, A>, Embeddings<T, B>)> {
    at(path.as_ref(), read_pair_from)
}

/// [`read`] from any byte source, e.g. an embedded `&[u8]`.
///
/// # Errors
///
/// As [`read`].
///
/// # Examples
///
/// ```
/// use modality_gap::{Text, npy};
///
/// let header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }\n";
/// let mut file = b"\x93NUMPY\x01\x00".to_vec();
/// file.extend_from_slice(&(header.len() as u16).to_le_bytes());
/// file.extend_from_slice(header);
/// for v in [0.6f64, 0.8] {
///     file.extend_from_slice(&v.to_le_bytes());
/// }
/// let t = npy::read_from::<f64, Text, _>(&file[..])?;
/// assert_eq!(t.row(0), &[0.6, 0.8]);
/// # Ok::<(), modality_gap::Error>(())
/// ```
pub fn read_from<T: Scalar, M: Modality, R: Read>(reader: R) -> Result<Embeddings<T, M>> {
    let (n, d, values) = read_floats(reader, Layout::Matrix)?;
    Embeddings::from_row_major_vec(n, d, values)
}

/// [`read_pair`] from any byte source, e.g. an embedded `&[u8]`.
///
/// # Errors
///
/// As [`read`].
///
/// # Examples
///
/// ```
/// use modality_gap::{Image, Text, npy};
///
/// static CLASP: &[u8] = include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/features_clasp.npy"));
/// let (audio, text) = npy::read_pair_from::<f32, Image, Text, _>(CLASP)?;
/// assert_eq!((audio.len(), audio.dim(), text.len()), (99, 768, 99));
/// # Ok::<(), modality_gap::Error>(())
/// ```
pub fn read_pair_from<T: Scalar, A: Modality, B: Modality, R: Read>(
    reader: R,
) -> Result<(Embeddings<T, A>, Embeddings<T, B>)> {
    let (n, d, mut first) = read_floats(reader, Layout::Pair)?;
    let second = first.split_off(n * d);
    let in_set = |set, source| Error::InSet {
        set,
        source: Box::new(source),
    };
    Ok((
        Embeddings::from_row_major_vec(n, d, first).map_err(|e| in_set(A::NAME, e))?,
        Embeddings::from_row_major_vec(n, d, second).map_err(|e| in_set(B::NAME, e))?,
    ))
}

/// [`read`], dropping every row that holds a NaN or an infinity, and saying which rows it
/// kept: their indices in the file, in order. Nothing is dropped silently: compare the kept
/// count with the file's n, or look up which samples went.
///
/// # Errors
///
/// As [`read`], except for non-finite values; [`Error::Empty`] (inside
/// [`Error::File`]) when every row is dropped.
///
/// # Examples
///
/// ```no_run
/// use modality_gap::{Image, npy};
///
/// let (images, kept) = npy::read_finite_rows::<f32, Image>("image_features.npy")?;
/// println!("kept {} rows; the first dropped is {:?}", kept.len(),
///     (0..).zip(&kept).find(|(i, k)| i != *k).map(|(i, _)| i));
/// # let _ = images;
/// # Ok::<(), modality_gap::Error>(())
/// ```
pub fn read_finite_rows<T: Scalar, M: Modality>(
    path: impl AsRef<Path>,
) -> Result<(Embeddings<T, M>, Vec<usize>)> {
    at(path.as_ref(), read_finite_rows_from)
}

/// [`read_finite_rows`] from any byte source.
///
/// # Errors
///
/// As [`read_finite_rows`].
///
/// # Examples
///
/// ```
/// use modality_gap::{Text, npy};
///
/// let header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }\n";
/// let mut file = b"\x93NUMPY\x01\x00".to_vec();
/// file.extend_from_slice(&(header.len() as u16).to_le_bytes());
/// file.extend_from_slice(header);
/// for v in [0.6f64, 0.8, f64::NAN, 1.0, 1.0, 0.0] {
///     file.extend_from_slice(&v.to_le_bytes());
/// }
/// let (t, kept) = npy::read_finite_rows_from::<f64, Text, _>(&file[..])?;
/// assert_eq!(kept, [0, 2]);
/// assert_eq!(t.row(1), &[1.0, 0.0]);
/// # Ok::<(), modality_gap::Error>(())
/// ```
pub fn read_finite_rows_from<T: Scalar, M: Modality, R: Read>(
    reader: R,
) -> Result<(Embeddings<T, M>, Vec<usize>)> {
    let (n, d, values) = read_floats::<T, _>(reader, Layout::Matrix)?;
    let kept = finite_rows(&[&values], n, d);
    let x = Embeddings::from_row_major_vec(kept.len(), d, gather(&values, d, &kept))?;
    Ok((x, kept))
}

/// [`read_pair`], dropping every pair of which either row holds a NaN or an infinity, and
/// saying which pairs it kept: their indices in the file, in order (the same rows of both
/// sets, so the pairs stay matched).
///
/// # Errors
///
/// As [`read_pair`], except for non-finite values; [`Error::Empty`]
/// (inside [`Error::File`]) when every pair is dropped.
///
/// # Examples
///
/// ```no_run
/// use modality_gap::{Image, Text, npy};
///
/// let (img, txt, kept) = npy::read_pair_finite_rows::<f32, Image, Text>("features.npy")?;
/// assert_eq!((img.len(), txt.len()), (kept.len(), kept.len()));
/// # Ok::<(), modality_gap::Error>(())
/// ```
#[allow(clippy::type_complexity)] // the pair of `read_pair` and the kept rows
pub fn read_pair_finite_rows<T: Scalar, A: Modality, B: Modality>(
    path: impl AsRef<Path>,
) -> Result<(Embeddings<T, A>, Embeddings<T, B>, Vec<usize>)> {
    at(path.as_ref(), read_pair_finite_rows_from)
}

/// [`read_pair_finite_rows`] from any byte source.
///
/// # Errors
///
/// As [`read_pair_finite_rows`].
///
/// # Examples
///
/// ```
/// use modality_gap::{Image, Text, npy};
///
/// let header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 1), }\n";
/// let mut file = b"\x93NUMPY\x01\x00".to_vec();
/// file.extend_from_slice(&(header.len() as u16).to_le_bytes());
/// file.extend_from_slice(header);
/// for v in [1.0f32, 2.0, f32::INFINITY, 4.0] { // images 1, 2; texts ∞, 4
///     file.extend_from_slice(&v.to_le_bytes());
/// }
/// let (img, txt, kept) = npy::read_pair_finite_rows_from::<f32, Image, Text, _>(&file[..])?;
/// assert_eq!((kept, img.as_slice(), txt.as_slice()), (vec![1], &[2.0][..], &[4.0][..]));
/// # Ok::<(), modality_gap::Error>(())
/// ```
#[allow(clippy::type_complexity)] // the pair of `read_pair` and the kept rows
pub fn read_pair_finite_rows_from<T: Scalar, A: Modality, B: Modality, R: Read>(
    reader: R,
) -> Result<(Embeddings<T, A>, Embeddings<T, B>, Vec<usize>)> {
    let (n, d, values) = read_floats::<T, _>(reader, Layout::Pair)?;
    let (first, second) = values.split_at(n * d);
    let kept = finite_rows(&[first, second], n, d);
    Ok((
        Embeddings::from_row_major_vec(kept.len(), d, gather(first, d, &kept))?,
        Embeddings::from_row_major_vec(kept.len(), d, gather(second, d, &kept))?,
        kept,
    ))
}

/// The rows i < n whose values are finite in every one of `sets` (row-major, dimension d).
fn finite_rows<T: Scalar>(sets: &[&[T]], n: usize, d: usize) -> Vec<usize> {
    let finite = |set: &[T], i: usize| set[i * d..][..d].iter().all(|v| v.to_f64().is_finite());
    (0..n)
        .filter(|&i| sets.iter().all(|set| finite(set, i)))
        .collect()
}

/// Rows `rows` of a row-major buffer of dimension d, one after another.
fn gather<T: Scalar>(values: &[T], d: usize, rows: &[usize]) -> Vec<T> {
    rows.iter()
        .flat_map(|&i| &values[i * d..][..d])
        .copied()
        .collect()
}

/// Reads class labels: a 1-D array `(n,)` of non-negative integers, such as numpy's default
/// `int64` (`'<i8'`); `'<i4'`, `'<i2'`, `'|i1'` and the unsigned `'<u8'`, `'<u4'`, `'<u2'`,
/// `'|u1'` are read too, and each of them big-endian (`'>i8'`, …).
///
/// # Errors
///
/// [`Error::File`] naming the file, around [`Error::Io`]
/// if it cannot be opened or read, or [`Error::Npy`] for a malformed file,
/// a float dtype, or a label that is negative or beyond `usize`
/// ([`NpyError::NegativeLabel`]).
///
/// # Examples
///
/// ```no_run
/// use modality_gap::npy;
///
/// let labels = npy::read_labels("labels.npy")?; // np.save("labels.npy", np.array([3, 0, 7]))
/// println!("{} labels, the first is class {}", labels.len(), labels[0]);
/// # Ok::<(), modality_gap::Error>(())
/// ```
pub fn read_labels(path: impl AsRef<Path>) -> Result<Vec<usize>> {
    at(path.as_ref(), read_labels_from)
}

/// [`read_labels`] from any reader holding the bytes of a `.npy` file.
///
/// # Errors
///
/// As [`read_labels`], without the file system.
///
/// # Examples
///
/// ```
/// use modality_gap::npy;
///
/// // np.save(f, np.array([2, 0, 1])): int64, shape (3,).
/// let header = "{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }";
/// let mut file = b"\x93NUMPY\x01\x00".to_vec();
/// file.extend((header.len() as u16).to_le_bytes());
/// file.extend(header.as_bytes());
/// for label in [2i64, 0, 1] {
///     file.extend(label.to_le_bytes());
/// }
/// assert_eq!(npy::read_labels_from(&file[..])?, [2, 0, 1]);
/// # Ok::<(), modality_gap::Error>(())
/// ```
pub fn read_labels_from<R: Read>(reader: R) -> Result<Vec<usize>> {
    let (_, _, dtype, bytes, _) = read_array(reader, Layout::Labels)?;
    let Dtype::Integer {
        bytes: width,
        signed,
        big_endian,
    } = dtype
    else {
        unreachable!("Layout::Labels accepts integer dtypes only")
    };
    bytes
        .chunks_exact(width)
        .enumerate()
        .map(|(index, b)| {
            let mut raw = [0u8; 8];
            raw[..width].copy_from_slice(b);
            if big_endian {
                raw[..width].reverse();
            }
            let negative = signed && raw[width - 1] & 0x80 != 0;
            if negative {
                raw[width..].fill(0xff); // sign extension
            }
            let value = if negative {
                i128::from(i64::from_le_bytes(raw))
            } else {
                i128::from(u64::from_le_bytes(raw))
            };
            usize::try_from(value).map_err(|_| NpyError::NegativeLabel { index, value }.into())
        })
        .collect()
}

/// The array shapes this module reads.
#[derive(Debug, Clone, Copy)]
enum Layout {
    /// `(n, d)`.
    Matrix,
    /// `[2, n, d]`.
    Pair,
    /// `(n,)` of integers.
    Labels,
}

impl Layout {
    /// (sets, n, d): the number of sets of n samples of dimension d an array of this layout
    /// holds.
    fn sets(self, n: usize, d: usize) -> (usize, usize, usize) {
        match self {
            Layout::Pair => (2, n, d),
            Layout::Matrix | Layout::Labels => (1, n, d),
        }
    }

    /// (n, d) of an accepted shape, checked before any data is read.
    fn samples(self, shape: &[u64]) -> Result<(usize, usize), NpyError> {
        let (n, d) = match (self, shape) {
            (Layout::Matrix, &[n, d]) | (Layout::Pair, &[2, n, d]) => (n, d),
            (Layout::Labels, &[n]) => (n, 1),
            _ => return Err(self.unexpected(shape)),
        };
        match (usize::try_from(n), usize::try_from(d)) {
            (Ok(n), Ok(d)) if n > 0 && d > 0 => Ok((n, d)),
            _ => Err(self.unexpected(shape)),
        }
    }

    fn unexpected(self, shape: &[u64]) -> NpyError {
        NpyError::UnexpectedShape {
            shape: shape.to_vec(),
            expected: match self {
                Layout::Matrix => "(n, d) with n, d ≥ 1",
                Layout::Pair => "[2, n, d] with n, d ≥ 1",
                Layout::Labels => "(n,) with n ≥ 1",
            },
        }
    }

    /// The element type named by `descr`, if this layout reads it.
    fn dtype(self, descr: &[u8]) -> Result<Dtype, NpyError> {
        let unsupported = |supported| NpyError::UnsupportedDtype {
            descr: String::from_utf8_lossy(descr).into_owned(),
            supported,
        };
        // One-byte types have no byte order ('|'); the others say '<' or '>'.
        let (order, kind, size) = match descr {
            [order @ (b'<' | b'>' | b'|'), kind, size] => (*order, *kind, *size),
            _ => (0, 0, 0),
        };
        let big_endian = order == b'>';
        let bytes = usize::from(size.wrapping_sub(b'0'));
        let ordered = (order == b'|') == (bytes == 1);
        match (self, kind, bytes) {
            (Layout::Matrix | Layout::Pair, b'f', 2 | 4 | 8) if ordered => {
                Ok(Dtype::Float { bytes, big_endian })
            }
            (Layout::Labels, b'i' | b'u', 1 | 2 | 4 | 8) if ordered || bytes == 1 => {
                Ok(Dtype::Integer {
                    bytes,
                    signed: kind == b'i',
                    big_endian,
                })
            }
            (Layout::Matrix | Layout::Pair, ..) => Err(unsupported(
                "floats: '<f2', '<f4', '<f8' and the big-endian '>f2', '>f4', '>f8'",
            )),
            (Layout::Labels, ..) => Err(unsupported(
                "integers: 'i8', 'i4', 'i2', 'i1', 'u8', 'u4', 'u2', 'u1', either byte order",
            )),
        }
    }
}

/// The element type named by the header's `descr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dtype {
    /// An IEEE float of `bytes` bytes (2, 4 or 8).
    Float { bytes: usize, big_endian: bool },
    /// An integer of `bytes` bytes.
    Integer {
        bytes: usize,
        signed: bool,
        big_endian: bool,
    },
}

impl Dtype {
    fn size(self) -> usize {
        match self {
            Dtype::Float { bytes, .. } | Dtype::Integer { bytes, .. } => bytes,
        }
    }
}

/// An IEEE binary16 value widened to f64, exactly (every half is an f64).
pub(crate) fn f16_to_f64(bits: u16) -> f64 {
    let sign = if bits & 0x8000 == 0 { 1.0 } else { -1.0 };
    let exponent = i32::from((bits >> 10) & 0x1f);
    let mantissa = f64::from(bits & 0x3ff);
    match exponent {
        0 => sign * mantissa * 2f64.powi(-24), // zero and subnormals: m · 2⁻²⁴
        31 if mantissa == 0.0 => sign * f64::INFINITY,
        31 => f64::NAN,
        e => sign * (1.0 + mantissa / 1024.0) * 2f64.powi(e - 15),
    }
}

/// Reads one floating-point array of the given layout: (n, d) and all its values in C order.
fn read_floats<T: Scalar, R: Read>(reader: R, layout: Layout) -> Result<(usize, usize, Vec<T>)> {
    let (n, d, dtype, bytes, fortran) = read_array(reader, layout)?;
    Ok((
        n,
        d,
        c_order_floats(&bytes, dtype, fortran, layout.sets(n, d)),
    ))
}

/// The values of the data `bytes` of an array of `sets` sets of n × d floats of type `dtype`,
/// in C order (transposed from Fortran order when `fortran`).
fn c_order_floats<T: Scalar>(
    bytes: &[u8],
    dtype: Dtype,
    fortran: bool,
    (sets, n, d): (usize, usize, usize),
) -> Vec<T> {
    let values = floats(bytes, dtype);
    if fortran {
        c_order(values, sets, n, d)
    } else {
        values
    }
}

/// The values of `bytes`, IEEE floats of the float type `dtype`, converted to `T` (widened
/// exactly, or rounded to nearest).
fn floats<T: Scalar>(bytes: &[u8], dtype: Dtype) -> Vec<T> {
    let Dtype::Float {
        bytes: width,
        big_endian,
    } = dtype
    else {
        unreachable!("float layouts accept float dtypes only")
    };
    // One loop per type and byte order, each a plain map the compiler vectorises.
    fn each<T: Scalar, const N: usize>(bytes: &[u8], value: impl Fn([u8; N]) -> f64) -> Vec<T> {
        let (values, _) = bytes.as_chunks::<N>();
        values.iter().map(|&b| T::from_f64(value(b))).collect()
    }
    match (width, big_endian) {
        (2, false) => each(bytes, |b| f16_to_f64(u16::from_le_bytes(b))),
        (2, true) => each(bytes, |b| f16_to_f64(u16::from_be_bytes(b))),
        (4, false) => each(bytes, |b| f32::from_le_bytes(b).into()),
        (4, true) => each(bytes, |b| f32::from_be_bytes(b).into()),
        (_, false) => each(bytes, f64::from_le_bytes),
        (_, true) => each(bytes, f64::from_be_bytes),
    }
}

/// The values of a Fortran-order array of shape (n, d), or [sets, n, d], in C order. Element
/// (k, i, j) sits at k + sets·(i + n·j) in Fortran order and at (k·n + i)·d + j in C order.
fn c_order<T: Copy>(fortran: Vec<T>, sets: usize, n: usize, d: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(fortran.len());
    for k in 0..sets {
        for i in 0..n {
            out.extend((0..d).map(|j| fortran[k + sets * (i + n * j)]));
        }
    }
    out
}

/// Runs `read` on the file at `path`, naming the file in any error.
fn at<V>(path: &Path, read: impl FnOnce(BufReader<File>) -> Result<V>) -> Result<V> {
    File::open(path)
        .map_err(Error::from)
        .and_then(|file| read(BufReader::new(file)))
        .map_err(|source| Error::File {
            path: path.to_path_buf(),
            source: Box::new(source),
        })
}

/// An array's header, checked: its shape as (n, d), element type, order, and where its data
/// starts and how many bytes it holds.
struct Header {
    n: usize,
    d: usize,
    dtype: Dtype,
    /// The data is in Fortran order (else C order).
    fortran: bool,
    data_offset: u64,
    byte_count: u64,
}

/// Reads and checks the header of one array of the given layout, leaving `reader` at its data.
fn read_header<R: Read>(reader: &mut R, layout: Layout) -> Result<Header> {
    let mut prefix = [0u8; 8];
    read_exactly(reader, &mut prefix, 0)?;
    if &prefix[..6] != MAGIC {
        // A zip archive (np.savez) starts with a local file header, or is an empty archive.
        let zip = prefix.starts_with(b"PK\x03\x04") || prefix.starts_with(b"PK\x05\x06");
        return Err(if zip {
            NpyError::ZipArchive
        } else {
            NpyError::BadMagic
        }
        .into());
    }
    let (major, minor) = (prefix[6], prefix[7]);
    let length_bytes = match (major, minor) {
        (1, 0) => 2,
        (2, 0) | (3, 0) => 4,
        _ => return Err(NpyError::UnsupportedVersion { major, minor }.into()),
    };
    let mut length = [0u8; 4];
    read_exactly(reader, &mut length[..length_bytes], 8)?;
    let header_len = u32::from_le_bytes(length) as usize;
    if header_len > MAX_HEADER_BYTES {
        return Err(NpyError::HeaderTooLong {
            length: header_len,
            limit: MAX_HEADER_BYTES,
        }
        .into());
    }
    let mut header = vec![0u8; header_len];
    let data_offset = 8 + length_bytes;
    read_exactly(reader, &mut header, data_offset as u64)?;
    let (descr, shape, fortran) = parse_header(&header)?;
    let dtype = layout.dtype(&descr)?;
    let (n, d) = layout.samples(&shape)?;
    let data_offset = (data_offset + header_len) as u64;
    let byte_count = shape
        .iter()
        .try_fold(dtype.size() as u64, |acc, &s| acc.checked_mul(s))
        .filter(|&b| usize::try_from(b).is_ok() && data_offset.checked_add(b).is_some())
        .ok_or_else(|| NpyError::ShapeOverflow {
            shape: shape.clone(),
        })?;
    Ok(Header {
        n,
        d,
        dtype,
        fortran,
        data_offset,
        byte_count,
    })
}

/// Reads one array of the given layout: (n, d), its element type, and its data bytes, checked
/// against the header's shape.
/// The data is C order unless `fortran` (the last value).
fn read_array<R: Read>(
    mut reader: R,
    layout: Layout,
) -> Result<(usize, usize, Dtype, Vec<u8>, bool)> {
    let header = read_header(&mut reader, layout)?;
    let (data_offset, byte_count) = (header.data_offset, header.byte_count);
    let mut bytes = Vec::new();
    (&mut reader).take(byte_count).read_to_end(&mut bytes)?;
    if (bytes.len() as u64) < byte_count {
        return Err(NpyError::Truncated {
            expected: data_offset + byte_count,
            found: data_offset + bytes.len() as u64,
        }
        .into());
    }
    let extra = io::copy(&mut reader, &mut io::sink())?;
    if extra > 0 {
        return Err(NpyError::TrailingBytes { extra }.into());
    }
    Ok((header.n, header.d, header.dtype, bytes, header.fortran))
}

/// Fills `buf`, or reports how far the file got (`offset` is where `buf` starts).
fn read_exactly<R: Read>(reader: &mut R, buf: &mut [u8], offset: u64) -> Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => {
                return Err(NpyError::Truncated {
                    expected: offset + buf.len() as u64,
                    found: offset + filled as u64,
                }
                .into());
            }
            Ok(k) => filled += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Parses the header, a Python dict literal such as
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 99, 768), }`.
/// Returns (descr, shape, fortran_order).
fn parse_header(header: &[u8]) -> Result<(Vec<u8>, Vec<u64>, bool), NpyError> {
    let mut p = Parser { s: header, pos: 0 };
    p.expect(b'{', "expected '{'")?;
    let (mut descr, mut fortran_order, mut shape) = (None, None, None);
    while !p.eat(b'}') {
        let key = p.string()?;
        p.expect(b':', "expected ':' after a key")?;
        let duplicate = match key {
            b"descr" => descr.replace(p.string()?).is_some(),
            b"fortran_order" => fortran_order.replace(p.boolean()?).is_some(),
            b"shape" => shape.replace(p.tuple()?).is_some(),
            _ => return Err(bad("unknown key")),
        };
        if duplicate {
            return Err(bad("duplicate key"));
        }
        if !p.eat(b',') {
            p.expect(b'}', "expected ',' or '}'")?;
            break;
        }
    }
    p.skip_whitespace();
    if p.pos != header.len() {
        return Err(bad("text after the closing '}'"));
    }
    let descr = descr.ok_or(bad("missing 'descr'"))?.to_vec();
    let fortran = fortran_order.ok_or(bad("missing 'fortran_order'"))?;
    Ok((descr, shape.ok_or(bad("missing 'shape'"))?, fortran))
}

fn bad(reason: &'static str) -> NpyError {
    NpyError::BadHeader { reason }
}

/// A cursor over the header's bytes.
struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn skip_whitespace(&mut self) {
        while self.s.get(self.pos).is_some_and(u8::is_ascii_whitespace) {
            self.pos += 1;
        }
    }

    /// Consumes `c` (after whitespace) if it is next.
    fn eat(&mut self, c: u8) -> bool {
        self.skip_whitespace();
        let found = self.s.get(self.pos) == Some(&c);
        self.pos += usize::from(found);
        found
    }

    fn expect(&mut self, c: u8, reason: &'static str) -> Result<(), NpyError> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(bad(reason))
        }
    }

    /// A quoted string without escapes: `'…'` or `"…"`.
    fn string(&mut self) -> Result<&'a [u8], NpyError> {
        self.skip_whitespace();
        let quote = *self
            .s
            .get(self.pos)
            .filter(|&&q| q == b'\'' || q == b'"')
            .ok_or(bad("expected a quoted string"))?;
        let start = self.pos + 1;
        let len = self.s[start..]
            .iter()
            .position(|&c| c == quote)
            .ok_or(bad("unterminated string"))?;
        self.pos = start + len + 1;
        Ok(&self.s[start..start + len])
    }

    /// A run of ASCII letters and digits.
    fn word(&mut self) -> &'a [u8] {
        self.skip_whitespace();
        let start = self.pos;
        while self.s.get(self.pos).is_some_and(u8::is_ascii_alphanumeric) {
            self.pos += 1;
        }
        &self.s[start..self.pos]
    }

    fn boolean(&mut self) -> Result<bool, NpyError> {
        match self.word() {
            b"True" => Ok(true),
            b"False" => Ok(false),
            _ => Err(bad("'fortran_order' is not True or False")),
        }
    }

    /// A tuple of non-negative integers: `()`, `(5,)`, `(2, 99, 768)`.
    fn tuple(&mut self) -> Result<Vec<u64>, NpyError> {
        self.expect(b'(', "'shape' is not a tuple")?;
        let mut items = Vec::new();
        while !self.eat(b')') {
            let digits = self.word();
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return Err(bad("a 'shape' entry is not a non-negative integer"));
            }
            let value = std::str::from_utf8(digits)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or(bad("a 'shape' entry does not fit in 64 bits"))?;
            items.push(value);
            if items.len() > 32 {
                return Err(bad("'shape' has more than 32 axes"));
            }
            if !self.eat(b',') {
                self.expect(b')', "expected ',' or ')' in 'shape'")?;
                break;
            }
        }
        Ok(items)
    }
}
