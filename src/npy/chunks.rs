//! Reading an `(n, d)` array a chunk of rows at a time, from any byte source: the O(n·d)
//! metrics of a file larger than memory ([`crate::stream`]) in memory of one chunk.

use std::io::Read;
use std::marker::PhantomData;

use super::{Dtype, Layout, floats, read_header};
use crate::{Embeddings, Error, Modality, NpyError, Result, Scalar};

/// The rows of an `(n, d)` `.npy` array read `rows` at a time from any [`Read`], each chunk
/// checked and converted as [`read_from`](super::read_from) checks and converts the whole
/// array (every float dtype and byte order; C order only).
///
/// An iterator of `Result<Embeddings>`: chunks of `rows` rows, the last one shorter; after an
/// error it ends. A non-finite value is named by its row in the file; a file that ends early
/// is [`NpyError::Truncated`] at the chunk that misses bytes (with the file's expected
/// length), and bytes after the data are
/// [`NpyError::TrailingBytes`] after the last chunk. It holds one buffer of a chunk's bytes
/// (grown as the first chunk's bytes arrive, then reused) and makes one chunk's values at a
/// time.
///
/// # Examples
///
/// ```
/// use modality_gap::{Image, npy};
///
/// let header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }\n";
/// let mut file = b"\x93NUMPY\x01\x00".to_vec();
/// file.extend_from_slice(&(header.len() as u16).to_le_bytes());
/// file.extend_from_slice(header);
/// for v in [1.0f32, 0.0, 0.0, 1.0, 0.6, 0.8] {
///     file.extend_from_slice(&v.to_le_bytes());
/// }
/// let chunks = npy::Chunks::<f32, Image, _>::new(&file[..], 2)?;
/// assert_eq!((chunks.rows(), chunks.dim()), (3, 2));
/// let sizes: Vec<usize> = chunks.map(|chunk| chunk.map(|c| c.len())).collect::<Result<_, _>>()?;
/// assert_eq!(sizes, [2, 1]);
/// # Ok::<(), modality_gap::Error>(())
/// ```
pub struct Chunks<T: Scalar, M: Modality, R: Read> {
    reader: R,
    dtype: Dtype,
    n: usize,
    d: usize,
    /// Rows per chunk.
    per_chunk: usize,
    /// Rows read so far, the byte offset in the file where the next chunk starts, and where
    /// the data ends.
    done: usize,
    offset: u64,
    end: u64,
    /// The bytes of the last chunk: its buffer, grown as the first chunk's bytes arrived, is
    /// reused for every chunk after it.
    bytes: Vec<u8>,
    failed: bool,
    values: PhantomData<fn() -> (T, M)>,
}

impl<T: Scalar, M: Modality, R: Read> Chunks<T, M, R> {
    /// Reads and checks the header; chunks of `rows` rows follow.
    ///
    /// # Errors
    ///
    /// The header's errors of [`read_from`](super::read_from), [`NpyError::FortranOrder`], and
    /// [`Error::InvalidParameter`] for `rows` = 0.
    pub fn new(mut reader: R, rows: usize) -> Result<Self> {
        crate::check::count_within("rows", rows, 1, usize::MAX, "at least 1")?;
        let header = read_header(&mut reader, Layout::Matrix)?;
        if header.fortran {
            return Err(NpyError::FortranOrder.into());
        }
        Ok(Self {
            reader,
            dtype: header.dtype,
            n: header.n,
            d: header.d,
            per_chunk: rows,
            done: 0,
            offset: header.data_offset,
            end: header.data_offset + header.byte_count,
            bytes: Vec::new(),
            failed: false,
            values: PhantomData,
        })
    }

    /// The number of rows of the array (n), read or not.
    pub fn rows(&self) -> usize {
        self.n
    }

    /// The dimension of the rows (d).
    pub fn dim(&self) -> usize {
        self.d
    }

    /// The next chunk, or after the last one the check that the file ends there.
    fn next_chunk(&mut self) -> Result<Option<Embeddings<T, M>>> {
        if self.done == self.n {
            let mut extra = [0u8; 1];
            return match self.reader.read(&mut extra) {
                Ok(0) => Ok(None),
                Ok(_) => {
                    let rest = std::io::copy(&mut self.reader, &mut std::io::sink())?;
                    Err(NpyError::TrailingBytes { extra: rest + 1 }.into())
                }
                Err(e) => Err(e.into()),
            };
        }
        let count = self.per_chunk.min(self.n - self.done);
        let width = match self.dtype {
            Dtype::Float { bytes, .. } | Dtype::Integer { bytes, .. } => bytes,
        };
        // The buffer grows as bytes arrive (a header's claim allocates nothing); `count · d ·
        // width` fits, being at most the data's byte count, which the header check bounds.
        let wanted = (count * self.d * width) as u64;
        let bytes = &mut self.bytes;
        bytes.clear();
        (&mut self.reader).take(wanted).read_to_end(bytes)?;
        if (bytes.len() as u64) < wanted {
            return Err(NpyError::Truncated {
                expected: self.end,
                found: self.offset + bytes.len() as u64,
            }
            .into());
        }
        let values = floats::<T>(bytes, self.dtype);
        let chunk = Embeddings::from_row_major_vec(count, self.d, values).map_err(|e| match e {
            Error::NonFinite { row, column } => Error::NonFinite {
                row: row + self.done,
                column,
            },
            other => other,
        })?;
        self.done += count;
        self.offset += wanted;
        Ok(Some(chunk))
    }
}

impl<T: Scalar, M: Modality, R: Read> Iterator for Chunks<T, M, R> {
    type Item = Result<Embeddings<T, M>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let next = self.next_chunk();
        self.failed = next.is_err();
        next.transpose()
    }
}
