//! The crate's one error type.

/// Everything that can go wrong, with the facts in the variant.
///
/// Bad input always produces one of these; no function in this crate returns a silent `NaN`
/// and none panics on data (panics are reserved for documented API misuse such as an
/// out-of-range row index).
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Error, Image, Text, UnitEmbeddings, gap};
///
/// let img = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0]])?)?;
/// let txt = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[0.0, 0.0, 1.0]])?)?;
/// let err = gap(&img, &txt).unwrap_err();
/// assert!(matches!(err, Error::DimensionMismatch { expected: 2, found: 3 }));
/// assert_eq!(err.to_string(), "dimension mismatch: expected 2, found 3");
/// # Ok::<(), modality_gap::Error>(())
/// ```
/// `Debug` prints the same message as `Display`, so that `fn main() -> Result<(), Error>`
/// reports what went wrong in words.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A set of embeddings with no samples (n = 0).
    #[error("the embeddings have no samples")]
    Empty,

    /// Samples of dimension zero (d = 0).
    #[error("the samples have dimension 0")]
    ZeroDimension,

    /// A buffer whose length is not `n · d`.
    #[error("the buffer holds {found} values, but n · d = {expected}")]
    BufferLength {
        /// `n · d`.
        expected: usize,
        /// The buffer's length.
        found: usize,
    },

    /// Two sets (or two rows) whose sample dimensions differ.
    #[error("dimension mismatch: expected {expected}, found {found}")]
    DimensionMismatch {
        /// The dimension of the first set (or first row).
        expected: usize,
        /// The dimension that differs.
        found: usize,
    },

    /// Two paired sets whose numbers of samples differ.
    #[error("the paired sets differ in length: expected {expected} samples, found {found}")]
    LengthMismatch {
        /// The number of samples of the first set.
        expected: usize,
        /// The number of samples of the second set.
        found: usize,
    },

    /// A metric that needs more samples than it was given (pairs need n ≥ 2).
    #[error("need at least {required} samples, found {found}")]
    TooFewSamples {
        /// The minimum.
        required: usize,
        /// What was given.
        found: usize,
    },

    /// A row that is all zeros, so it has no direction.
    #[error("row {row} has zero norm and cannot be normalised")]
    ZeroNorm {
        /// The 0-based row index.
        row: usize,
    },

    /// A NaN or infinite value.
    #[error("the value at row {row}, column {column} is not finite")]
    NonFinite {
        /// The 0-based row index.
        row: usize,
        /// The 0-based column index.
        column: usize,
    },

    /// A row offered as unit-norm whose norm is not within the tolerance of 1.
    #[error("row {row} has norm {norm}, which is not within {tolerance} of 1")]
    NotUnitNorm {
        /// The 0-based row index.
        row: usize,
        /// Its L2 norm.
        norm: f64,
        /// The tolerance that was asked for.
        tolerance: f64,
    },

    /// A parameter outside its domain (α ≤ 0, t ≤ 0, τ ≤ 0, k = 0, a non-finite value, …).
    #[error("parameter `{name}` = {value} is out of range: it must be {requirement}")]
    InvalidParameter {
        /// The parameter's name as the function documents it.
        name: &'static str,
        /// The value that was given.
        value: f64,
        /// The domain, in words.
        requirement: &'static str,
    },

    /// A result beyond the range of f64, from inputs of extreme magnitude (entries near
    /// 1e154 and above) or extreme parameters (t or 1/τ near `f64::MAX`).
    #[error("{quantity} overflows f64 for this input")]
    Overflow {
        /// What overflowed.
        quantity: &'static str,
    },

    /// A value the input's rounding leaves unresolved: the most the rounding of the method
    /// can move it, `bound`, exceeds 1. The uniformities give it for rows that reach far from
    /// their mean next to a large t (`t·5(d + 8)·u·maxᵢ ‖xᵢ − x̄‖² > 1`, u the unit roundoff of
    /// the element type): raw rows with an outlier, or unit rows in `f32` at t·(d + 8) above
    /// about 8·10⁵. Normalise the rows, drop the outliers, lower t or use `f64`.
    #[error(
        "{quantity} is not resolved for this input: the rounding of the method could move it \
         by up to {bound:e} (rows far from their mean against t; normalise them, drop \
         outliers, lower t or use f64)"
    )]
    Unresolved {
        /// The value that could not be resolved.
        quantity: &'static str,
        /// The most the rounding could move it (+∞ where the bound itself overflows).
        bound: f64,
    },

    /// The gap vector is exactly zero, so it has no direction.
    #[error("the gap vector is zero, so it has no direction")]
    ZeroGap,

    /// Every sample equals the centre of a projection (all zero, or all equal when centred),
    /// so no direction carries variance and the explained-variance ratio is 0/0. The spectral
    /// and similarity metrics (CKA, CKNNA, SVCCA, effective rank, IsoScore) report it for a set
    /// with no variance, and CKA and CKNNA also when an unbiased estimate of a set's HSIC with
    /// itself is not positive.
    #[error(
        "the samples have no variance to measure (every sample equals the centre, or an unbiased estimate of it is not positive)"
    )]
    ZeroVariance,

    /// The two sides of a paired comparison are not the same samples: their ids differ first
    /// at sample `index`.
    #[error("the two sides are not the same samples: their ids differ at sample {index}")]
    DifferentSamples {
        /// The first position where the ids differ.
        index: usize,
    },

    /// Reading failed (from a reader; a file's errors come as [`Error::File`]).
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),

    /// A `.npy` file that this crate cannot read: malformed, or valid in a form it does not
    /// take. The message says which, and what to do.
    #[error("{0}")]
    Npy(#[from] NpyError),

    /// A `.safetensors` file that this crate cannot read, or a tensor in it that is not
    /// embeddings (behind the feature `safetensors`).
    #[cfg(feature = "safetensors")]
    #[error("{0}")]
    SafeTensors(#[from] crate::SafeTensorsError),

    /// A tile plan, a part of a sharded pass, or their merge that does not fit
    /// ([`shard`](crate::shard)).
    #[error("{0}")]
    Shard(#[from] ShardError),

    /// An `ndarray` view whose rows are not contiguous and in order (not standard layout), so
    /// it cannot be borrowed as embeddings (behind the feature `ndarray`).
    #[error(
        "the array is not in standard (row-major, contiguous) layout: borrow `array.as_standard_layout()` instead"
    )]
    NotStandardLayout,

    /// The work was stopped by its [`progress::observe`](crate::progress::observe) callback.
    #[error("cancelled by the progress callback")]
    Cancelled,

    /// An error while reading the file at `path`: any of the others, with the file named.
    #[error("{}: {source}", path.display())]
    File {
        /// The file.
        path: std::path::PathBuf,
        /// What went wrong.
        source: Box<Error>,
    },

    /// An error in one of two sets read or measured together, named by its modality (for
    /// example a non-finite value in the text half of a `[2, n, d]` file).
    #[error("the {set} set: {source}")]
    InSet {
        /// The set's modality name ([`Modality::NAME`](crate::Modality::NAME)).
        set: &'static str,
        /// What went wrong in it.
        source: Box<Error>,
    },
}

/// Why a `.npy` file was rejected (see [`crate::npy`]), carried by [`Error::Npy`](crate::Error::Npy).
///
/// # Examples
///
/// ```
/// use modality_gap::{Error, NpyError, Text, npy};
///
/// let result = npy::read_from::<f32, Text, _>(&b"not an npy file"[..]);
/// assert!(matches!(result, Err(Error::Npy(NpyError::BadMagic))));
/// // Fewer than the 8 bytes of magic and version: truncated before the magic is checked.
/// let result = npy::read_from::<f32, Text, _>(&b"not npy"[..]);
/// assert!(matches!(result, Err(Error::Npy(NpyError::Truncated { expected: 8, found: 7 }))));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NpyError {
    /// The file does not start with `\x93NUMPY`.
    #[error("not an .npy file: it does not start with the .npy magic string")]
    BadMagic,

    /// The file is a zip archive: what `np.savez` writes, several arrays by name.
    #[error(
        "this is an .npz archive (np.savez), not an .npy file: read its arrays by name with npy::Npz"
    )]
    ZipArchive,

    /// An `.npz` archive that cannot be read as a zip file, or a member that claims to expand
    /// beyond what deflate can.
    #[error("malformed .npz archive: {reason}")]
    Zip {
        /// What the zip reader found.
        reason: String,
    },

    /// An `.npz` archive without the array asked for.
    #[error("the .npz archive has no array {name:?}; it has {available:?}")]
    NoSuchArray {
        /// The name asked for.
        name: String,
        /// The names the archive has.
        available: Vec<String>,
    },

    /// A format version other than 1.0, 2.0 or 3.0.
    #[error("unsupported .npy format version {major}.{minor}: this reader takes 1.0, 2.0 and 3.0")]
    UnsupportedVersion {
        /// Major version byte.
        major: u8,
        /// Minor version byte.
        minor: u8,
    },

    /// The header announces more bytes than this reader accepts.
    #[error(
        "malformed .npy file: the header is {length} bytes long, more than the {limit} this reader accepts"
    )]
    HeaderTooLong {
        /// Announced header length.
        length: usize,
        /// The limit.
        limit: usize,
    },

    /// The header dictionary cannot be parsed.
    #[error("malformed .npy file: the header dictionary is malformed: {reason}")]
    BadHeader {
        /// What was wrong.
        reason: &'static str,
    },

    /// A dtype the array cannot have here: other than a float (`f2`, `f4`, `f8`, either byte
    /// order) for embeddings, other than an integer for labels.
    #[error(
        "unsupported dtype {descr:?}: this reader takes {supported}; convert with x.astype(np.float32) (labels: np.int64)"
    )]
    UnsupportedDtype {
        /// The header's `descr` field.
        descr: String,
        /// The dtypes accepted for this array, in words.
        supported: &'static str,
    },

    /// A shape with the wrong rank, a zero-size axis, or (for pairs) a first axis other than 2.
    #[error("unexpected shape {shape:?}: this reader takes {expected}")]
    UnexpectedShape {
        /// The header's shape.
        shape: Vec<u64>,
        /// The shape that was wanted, in words.
        expected: &'static str,
    },

    /// A shape whose byte size does not fit in memory addresses.
    #[error("malformed .npy file: shape {shape:?} is too large to address")]
    ShapeOverflow {
        /// The header's shape.
        shape: Vec<u64>,
    },

    /// The file ends before the header or the data does.
    #[error("truncated .npy file: expected {expected} bytes, found {found}")]
    Truncated {
        /// Bytes the header and the shape call for.
        expected: u64,
        /// Bytes present.
        found: u64,
    },

    /// A class label that is negative or does not fit in `usize`.
    #[error("label {index} is {value}, not a class index (0, 1, 2, …)")]
    NegativeLabel {
        /// Its position in the array.
        index: usize,
        /// Its value.
        value: i128,
    },

    /// Bytes follow the array data.
    #[error("malformed .npy file: {extra} unexpected bytes follow the array data")]
    TrailingBytes {
        /// How many.
        extra: u64,
    },

    /// A Fortran-order array handed to the chunked reader: its rows are not contiguous, so
    /// it cannot be read row by row. Read it whole ([`npy::read`](crate::npy::read)).
    #[error(".npy array in Fortran order: it cannot be read row by row; read it whole")]
    FortranOrder,

    /// A mapped file's data does not start at a multiple of its element's size, so it cannot
    /// be borrowed as values in place (numpy pads every header to 64 bytes; this file was
    /// written otherwise). Read it with the plain reader, which copies.
    #[error("misaligned .npy data: it starts at byte {offset}, not a multiple of {align}")]
    Misaligned {
        /// Where the data starts.
        offset: u64,
        /// The alignment its element type needs.
        align: usize,
    },
}

/// How a sharded pass ([`shard`](crate::shard)) was misused: tiles, shards and parts that
/// do not fit their plan or each other.
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Error, Image, ShardError, UnitEmbeddings, shard::Plan};
///
/// let x = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
/// let plan = Plan::uniform_loss(&x, 2.0)?;
/// assert!(matches!(plan.shard(3, 3), Err(Error::Shard(ShardError::Rank { rank: 3, shards: 3 }))));
/// # Ok::<(), modality_gap::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ShardError {
    /// A range of tiles that runs backwards or reaches past the plan's last tile.
    #[error("tiles {start}..{end} are not a range of the plan's {count} tiles")]
    Tiles {
        /// The first tile asked for.
        start: usize,
        /// One past the last.
        end: usize,
        /// The plan's tiles.
        count: usize,
    },

    /// A rank that is not below the number of shards (or no shards at all).
    #[error("rank {rank} is not one of {shards} shards")]
    Rank {
        /// The rank asked for.
        rank: usize,
        /// The number of shards.
        shards: usize,
    },

    /// Embeddings or parameters that are not the ones the plan was made for.
    #[error("the embeddings or parameters differ from those of the plan: {what}")]
    NotThePlan {
        /// What differs.
        what: &'static str,
    },

    /// Two parts of different passes (metric, shapes, element type or parameter).
    #[error("the parts are of different passes")]
    DifferentPasses,

    /// Two parts merged out of order: the second must start where the first ends.
    #[error("tiles {next_start}.. do not follow tiles ..{end}: merge parts in tile order")]
    OutOfOrder {
        /// Where the first part ends.
        end: usize,
        /// Where the second starts.
        next_start: usize,
    },

    /// Rows added to the [`RowSums`](crate::stream::RowSums) of a sharded pass whose last
    /// chunk is partial (n not a multiple of 2048): they would not be summed as the in-memory
    /// metrics sum them.
    #[error(
        "the sums of {rows} sharded rows end in a partial 2048-row chunk: no rows can follow them"
    )]
    PartialChunk {
        /// The rows summed.
        rows: usize,
    },

    /// A part finished before it holds every tile.
    #[error("the part holds tiles {start}..{end} of {count}: merge every tile before finishing")]
    Incomplete {
        /// Its first tile.
        start: usize,
        /// One past its last.
        end: usize,
        /// The plan's tiles.
        count: usize,
    },
}

/// `Result` with this crate's [`Error`].
///
/// # Examples
///
/// ```
/// use modality_gap::{Embeddings, Image, Result};
///
/// fn first_row() -> Result<Vec<f32>> {
///     Ok(Embeddings::<f32, Image>::from_rows(&[[1.0, 2.0]])?.row(0).to_vec())
/// }
/// assert_eq!(first_row()?, [1.0, 2.0]);
/// # Ok::<(), modality_gap::Error>(())
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}
