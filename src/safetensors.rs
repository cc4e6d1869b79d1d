//! Embeddings from `.safetensors` files, Hugging Face's tensor format: an 8-byte little-endian
//! header length, a JSON header naming each tensor's dtype, shape and byte range, then the raw
//! little-endian data. The header is parsed and checked by the `safetensors` crate (its
//! offsets must tile the data exactly); this module checks each tensor's dtype and shape and
//! converts its values. Behind the cargo feature `safetensors`.

use std::path::Path;

use safetensors::{Dtype, SafeTensors};

use crate::npy::f16_to_f64;
use crate::{Embeddings, Error, Modality, Result, Scalar};

/// A `.safetensors` file held in memory: read its 2-D tensors by name as embeddings.
///
/// `F32` and `F64` tensors are read as they are (rounded to `T`); `F16` and `BF16`, the usual
/// stored precisions of published embeddings, are widened exactly (every half and bfloat16
/// value is an f32). Each tensor must have the shape `[n, d]`, n, d ≥ 1, one sample per row.
///
/// # Examples
///
/// ```
/// use modality_gap::{Image, Text, safetensors::Tensors};
///
/// // A file with an image tensor [2, 3] in F32 and a text tensor [2, 3] in BF16.
/// let file = modality_gap::safetensors::encode(&[
///     ("image_embeds", "F32", &[2, 3], &[1f32, 0.0, 0.0, 0.0, 1.0, 0.0].map(f32::to_le_bytes).concat()),
///     ("text_embeds", "BF16", &[2, 3], &[0x3f80u16, 0, 0, 0, 0, 0x3f80].map(u16::to_le_bytes).concat()),
/// ]);
/// let tensors = Tensors::from_bytes(file)?;
/// assert_eq!(tensors.names(), ["image_embeds", "text_embeds"]);
/// let images = tensors.read::<f32, Image>("image_embeds")?;
/// let texts = tensors.read::<f32, Text>("text_embeds")?;
/// assert_eq!((texts.len(), texts.row(1)), (2, &[0.0, 0.0, 1.0][..]));
/// # let _ = images;
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// The format: huggingface/safetensors (its README and the `safetensors` crate).
pub struct Tensors {
    bytes: Vec<u8>,
}

impl Tensors {
    /// Reads the file at `path` into memory and checks its header.
    ///
    /// # Errors
    ///
    /// [`Error::File`] naming the file, around [`Error::Io`] if it cannot be read or
    /// [`SafeTensorsError::Malformed`] if its header is not a valid safetensors header.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let tensors = modality_gap::safetensors::Tensors::open("embeddings.safetensors")?;
    /// println!("{:?}", tensors.names());
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let in_file = |source: Error| Error::File {
            path: path.to_path_buf(),
            source: Box::new(source),
        };
        let bytes = std::fs::read(path).map_err(|e| in_file(Error::Io(e)))?;
        Self::from_bytes(bytes).map_err(in_file)
    }

    /// The file's bytes, its header checked.
    ///
    /// # Errors
    ///
    /// [`SafeTensorsError::Malformed`] if the bytes are not a safetensors file (a header
    /// length past the end, a header that is not the format's JSON, offsets that do not tile
    /// the data).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Error, SafeTensorsError, safetensors::Tensors};
    ///
    /// let junk = Tensors::from_bytes(vec![1, 2, 3]);
    /// assert!(matches!(junk, Err(Error::SafeTensors(SafeTensorsError::Malformed { .. }))));
    /// ```
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self> {
        parse(&bytes)?;
        Ok(Self { bytes })
    }

    /// The names of the tensors, sorted.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::safetensors::{Tensors, encode};
    ///
    /// let file = encode(&[("b", "F32", &[1, 1], &[0; 4]), ("a", "F64", &[1, 1], &[0; 8])]);
    /// assert_eq!(Tensors::from_bytes(file)?.names(), ["a", "b"]);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .parsed()
            .names()
            .into_iter()
            .map(str::to_string)
            .collect();
        names.sort();
        names
    }

    /// The 2-D tensor `name` as n embeddings of dimension d, its values converted to `T`.
    ///
    /// # Errors
    ///
    /// [`SafeTensorsError::MissingTensor`] (with the names there are),
    /// [`SafeTensorsError::UnsupportedDtype`] for a dtype other than F16, BF16, F32 and F64,
    /// [`SafeTensorsError::UnexpectedShape`] unless the shape is `[n, d]` with n, d ≥ 1,
    /// [`Error::NonFinite`] for a NaN or infinite value.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Error, Image, SafeTensorsError, safetensors::{Tensors, encode}};
    ///
    /// let file = encode(&[("x", "F16", &[1, 2], &[0x3c00u16, 0xc000].map(u16::to_le_bytes).concat())]);
    /// let tensors = Tensors::from_bytes(file)?;
    /// assert_eq!(tensors.read::<f64, Image>("x")?.row(0), &[1.0, -2.0]);
    /// let missing = tensors.read::<f64, Image>("y");
    /// assert!(matches!(missing, Err(Error::SafeTensors(SafeTensorsError::MissingTensor { .. }))));
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn read<T: Scalar, M: Modality>(&self, name: &str) -> Result<Embeddings<T, M>> {
        let parsed = self.parsed();
        let view = parsed
            .tensor(name)
            .map_err(|_| SafeTensorsError::MissingTensor {
                name: name.to_string(),
                available: self.names(),
            })?;
        let widen_all = match view.dtype() {
            Dtype::F32 => widen::<T, 4>(|b| f64::from(f32::from_le_bytes(b))),
            Dtype::F64 => widen::<T, 8>(f64::from_le_bytes),
            Dtype::F16 => widen::<T, 2>(|b| f16_to_f64(u16::from_le_bytes(b))),
            Dtype::BF16 => {
                widen::<T, 2>(|b| f64::from(f32::from_bits(u32::from(u16::from_le_bytes(b)) << 16)))
            }
            other => Err(SafeTensorsError::UnsupportedDtype {
                name: name.to_string(),
                dtype: format!("{other:?}"),
            })?,
        };
        let (n, d) = match *view.shape() {
            [n, d] if n > 0 && d > 0 => (n, d),
            _ => Err(SafeTensorsError::UnexpectedShape {
                name: name.to_string(),
                shape: view.shape().to_vec(),
            })?,
        };
        let values = widen_all(view.data());
        Embeddings::from_row_major_vec(n, d, values)
    }

    /// The header, parsed again (it was checked when the bytes came in; parsing is O(header)).
    fn parsed(&self) -> SafeTensors<'_> {
        parse(&self.bytes).expect("checked in from_bytes")
    }
}

impl std::fmt::Debug for Tensors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tensors")
            .field("bytes", &self.bytes.len())
            .field("names", &self.names())
            .finish()
    }
}

/// Why a `.safetensors` file was rejected (see [`crate::safetensors`]), carried by
/// [`Error::SafeTensors`].
///
/// # Examples
///
/// ```
/// use modality_gap::{Error, Image, SafeTensorsError, safetensors::{Tensors, encode}};
///
/// let file = encode(&[("ids", "I64", &[2, 1], &[0; 16])]);
/// let read = Tensors::from_bytes(file)?.read::<f32, Image>("ids");
/// assert!(matches!(read, Err(Error::SafeTensors(SafeTensorsError::UnsupportedDtype { .. }))));
/// # Ok::<(), modality_gap::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SafeTensorsError {
    /// Not a safetensors file, or a malformed one.
    #[error("malformed .safetensors file: {reason}")]
    Malformed {
        /// What the `safetensors` crate found.
        reason: String,
    },
    /// No tensor of this name.
    #[error("the .safetensors file has no tensor {name:?}; it has {available:?}")]
    MissingTensor {
        /// The name asked for.
        name: String,
        /// The names there are, sorted.
        available: Vec<String>,
    },
    /// A tensor whose values are not floats this crate reads.
    #[error("tensor {name:?} has dtype {dtype}: this reader takes F16, BF16, F32 and F64")]
    UnsupportedDtype {
        /// The tensor.
        name: String,
        /// Its dtype, as the format names it.
        dtype: String,
    },
    /// A tensor that is not `[n, d]` with n, d ≥ 1.
    #[error("tensor {name:?} has shape {shape:?}: this reader takes [n, d] with n, d ≥ 1")]
    UnexpectedShape {
        /// The tensor.
        name: String,
        /// Its shape.
        shape: Vec<usize>,
    },
}

/// The parsed header of `bytes`, or why it is malformed.
fn parse(bytes: &[u8]) -> Result<SafeTensors<'_>> {
    SafeTensors::deserialize(bytes).map_err(|e| {
        Error::from(SafeTensorsError::Malformed {
            reason: e.to_string(),
        })
    })
}

/// A tensor's data to its values.
type Conversion<T> = Box<dyn Fn(&[u8]) -> Vec<T>>;

/// The conversion of a tensor's data: each `B`-byte little-endian value as f64 (exactly),
/// then rounded to `T`.
fn widen<T: Scalar, const B: usize>(value: impl Fn([u8; B]) -> f64 + 'static) -> Conversion<T> {
    Box::new(move |data| {
        data.chunks_exact(B)
            .map(|b| T::from_f64(value(b.try_into().expect("chunks of B bytes"))))
            .collect()
    })
}

/// A `.safetensors` file of the given tensors (name, dtype as the format names it, shape,
/// little-endian data), in order: for tests and examples, and to write embeddings for
/// other tools. Names and dtypes are written as JSON strings (escaped). The data must hold the
/// shape's number of values of the dtype, or readers (this crate's too) refuse the file.
///
/// # Examples
///
/// ```
/// use modality_gap::{Image, safetensors::{Tensors, encode}};
///
/// let file = encode(&[("x", "F64", &[1, 2], &[0.5f64, 2.0].map(f64::to_le_bytes).concat())]);
/// assert_eq!(Tensors::from_bytes(file)?.read::<f64, Image>("x")?.row(0), &[0.5, 2.0]);
/// # Ok::<(), modality_gap::Error>(())
/// ```
pub fn encode(tensors: &[(&str, &str, &[usize], &[u8])]) -> Vec<u8> {
    let mut header = String::from("{");
    let mut offset = 0;
    for (k, (name, dtype, shape, data)) in tensors.iter().enumerate() {
        let (name, dtype) = (json_string(name), json_string(dtype));
        let shape: Vec<String> = shape.iter().map(usize::to_string).collect();
        header += &format!(
            "{}{name}:{{\"dtype\":{dtype},\"shape\":[{}],\"data_offsets\":[{offset},{}]}}",
            if k == 0 { "" } else { "," },
            shape.join(","),
            offset + data.len()
        );
        offset += data.len();
    }
    header.push('}');
    // The format pads the header with spaces to a multiple of 8 bytes.
    while header.len() % 8 != 0 {
        header.push(' ');
    }
    let mut file = (header.len() as u64).to_le_bytes().to_vec();
    file.extend_from_slice(header.as_bytes());
    tensors
        .iter()
        .for_each(|(.., data)| file.extend_from_slice(data));
    file
}

/// `text` as a JSON string literal: quoted, with `"`, `\` and control characters escaped.
fn json_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
