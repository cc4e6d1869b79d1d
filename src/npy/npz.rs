//! `.npz` archives: the zip files of `np.savez` and `np.savez_compressed`, several named
//! `.npy` arrays.

use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::path::{Path, PathBuf};

use zip::ZipArchive;
use zip::result::ZipError;

use super::{read_from, read_labels_from, read_pair_from};
use crate::{Embeddings, Error, Modality, NpyError, Result, Scalar};

/// Deflate expands at most 1032-fold; a member that claims more than this many bytes per
/// compressed byte (plus a little for tiny members) is refused before it is read, so an
/// archive cannot make the reader produce more than its own size justifies.
const MAX_EXPANSION: u64 = 1100;

/// An `.npz` archive (`np.savez(path, img=…, txt=…)` or `np.savez_compressed`): read its
/// arrays by name, each as [`read`](super::read) and its siblings read a `.npy` file.
///
/// Members are stored (`np.savez`) or deflated (`np.savez_compressed`); a name may be given
/// with or without its `.npy` suffix. Behind the default cargo feature `npz`.
///
/// # Examples
///
/// ```no_run
/// use modality_gap::{Image, Text, npy::Npz};
///
/// // np.savez("features.npz", img=image_features, txt=text_features)
/// let mut npz = Npz::open("features.npz")?;
/// let images = npz.read::<f32, Image>("img")?;
/// let texts = npz.read::<f32, Text>("txt")?;
/// println!("{} arrays: {:?}", npz.names().len(), npz.names());
/// # let _ = (images, texts);
/// # Ok::<(), modality_gap::Error>(())
/// ```
pub struct Npz<R> {
    archive: ZipArchive<R>,
    path: Option<PathBuf>,
}

impl Npz<BufReader<File>> {
    /// Opens the archive at `path`.
    ///
    /// # Errors
    ///
    /// [`Error::File`] naming the file, around [`Error::Io`] if it cannot be opened or
    /// [`NpyError::Zip`] if it is not a zip archive.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let npz = modality_gap::npy::Npz::open("features.npz")?;
    /// # let _ = npz;
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let opened = File::open(path)
            .map_err(Error::from)
            .and_then(|file| Self::new(BufReader::new(file)));
        let mut npz = opened.map_err(|source| in_file(path, source))?;
        npz.path = Some(path.to_path_buf());
        Ok(npz)
    }
}

impl<R: Read + Seek> Npz<R> {
    /// The archive in `reader` (a file, or a `std::io::Cursor` over bytes).
    ///
    /// # Errors
    ///
    /// [`NpyError::Zip`] if the bytes are not a zip archive, [`Error::Io`] if reading fails.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Error, NpyError, npy::Npz};
    ///
    /// let not_zip = std::io::Cursor::new(b"\x93NUMPY".to_vec());
    /// assert!(matches!(Npz::new(not_zip), Err(Error::Npy(NpyError::Zip { .. }))));
    /// ```
    pub fn new(reader: R) -> Result<Self> {
        Ok(Self {
            archive: ZipArchive::new(reader).map_err(zip_error)?,
            path: None,
        })
    }

    /// The names of the arrays, as stored (`img.npy`, …), in archive order.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let npz = modality_gap::npy::Npz::open("features.npz")?;
    /// assert!(npz.names().iter().all(|name| name.ends_with(".npy")));
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn names(&self) -> Vec<String> {
        self.archive
            .file_names()
            .filter_map(|name| name.ok().map(|name| name.into_owned()))
            .collect()
    }

    /// The `(n, d)` array `name`, as [`read`](super::read).
    ///
    /// # Errors
    ///
    /// [`NpyError::NoSuchArray`] (listing the names there are), [`NpyError::Zip`] for a
    /// damaged or over-expanding member, and the errors of [`read`](super::read); all inside
    /// [`Error::File`] when the archive was opened from a path.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use modality_gap::{Image, npy::Npz};
    ///
    /// let images = Npz::open("features.npz")?.read::<f32, Image>("img")?;
    /// # let _ = images;
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn read<T: Scalar, M: Modality>(&mut self, name: &str) -> Result<Embeddings<T, M>> {
        self.member(name, |entry| read_from(entry))
    }

    /// The `[2, n, d]` pair `name`, as [`read_pair`](super::read_pair).
    ///
    /// # Errors
    ///
    /// As [`Npz::read`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use modality_gap::{Image, Text, npy::Npz};
    ///
    /// let (img, txt) = Npz::open("features.npz")?.read_pair::<f32, Image, Text>("pair")?;
    /// # let _ = (img, txt);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn read_pair<T: Scalar, A: Modality, B: Modality>(
        &mut self,
        name: &str,
    ) -> Result<(Embeddings<T, A>, Embeddings<T, B>)> {
        self.member(name, |entry| read_pair_from(entry))
    }

    /// The labels `name`, as [`read_labels`](super::read_labels).
    ///
    /// # Errors
    ///
    /// As [`Npz::read`], with those of [`read_labels`](super::read_labels).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let labels = modality_gap::npy::Npz::open("features.npz")?.read_labels("labels")?;
    /// # let _ = labels;
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn read_labels(&mut self, name: &str) -> Result<Vec<usize>> {
        self.member(name, |entry| read_labels_from(entry))
    }

    /// Runs `read` on the member `name` (or `name.npy`), after checking its claimed size
    /// against its compressed size; names the file in any error.
    fn member<V>(
        &mut self,
        name: &str,
        read: impl FnOnce(&mut dyn Read) -> Result<V>,
    ) -> Result<V> {
        let result = self.find(name).and_then(|index| {
            let mut entry = self.archive.by_index(index).map_err(zip_error)?;
            let (size, compressed) = (entry.size(), entry.compressed_size());
            if size
                > compressed
                    .saturating_mul(MAX_EXPANSION)
                    .saturating_add(4096)
            {
                return Err(NpyError::Zip {
                    reason: format!(
                        "member {name:?} claims {size} bytes from {compressed} compressed"
                    ),
                }
                .into());
            }
            read(&mut entry)
        });
        match &self.path {
            Some(path) => result.map_err(|source| in_file(path, source)),
            None => result,
        }
    }

    /// The index of the member `name` or `name.npy`.
    fn find(&self, name: &str) -> Result<usize> {
        let with_suffix = format!("{name}.npy");
        [name, with_suffix.as_str()]
            .into_iter()
            .find_map(|n| self.archive.index_for_name(n))
            .ok_or_else(|| {
                NpyError::NoSuchArray {
                    name: name.to_owned(),
                    available: self.names(),
                }
                .into()
            })
    }
}

impl<R: Read + Seek> std::fmt::Debug for Npz<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Npz")
            .field("path", &self.path)
            .field("names", &self.names())
            .finish()
    }
}

/// A zip error as this crate's: reading failures stay i/o errors.
fn zip_error(e: ZipError) -> Error {
    match e {
        ZipError::Io(io) => Error::Io(io),
        other => NpyError::Zip {
            reason: other.to_string(),
        }
        .into(),
    }
}

/// `source`, with the file named.
fn in_file(path: &Path, source: Error) -> Error {
    Error::File {
        path: path.to_path_buf(),
        source: Box::new(source),
    }
}
