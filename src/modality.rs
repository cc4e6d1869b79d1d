//! Marker types that say which modality a set of embeddings came from.

/// A modality: a zero-sized marker type carried by [`Embeddings`](crate::Embeddings) so that
/// the compiler keeps image rows and text rows apart.
///
/// The markers cost nothing at run time. Metrics over two sets take two modality parameters
/// (`A`, `B`), so any pair works, including a modality with itself.
///
/// # Declaring your own modality
///
/// One line:
///
/// ```
/// pub enum Depth {} impl modality_gap::Modality for Depth { const NAME: &'static str = "depth"; }
///
/// let depth = modality_gap::Embeddings::<f32, Depth>::from_rows(&[[1.0, 0.0]])?;
/// assert_eq!(depth.modality(), "depth");
/// # Ok::<(), modality_gap::Error>(())
/// ```
pub trait Modality: 'static {
    /// A human-readable name, used in reports and `Debug` output.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Audio, Modality};
    ///
    /// assert_eq!(Audio::NAME, "audio");
    /// ```
    const NAME: &'static str;
}

macro_rules! builtin_modalities {
    ($($(#[$doc:meta])* $ty:ident => $name:literal;)*) => {$(
        $(#[$doc])*
        #[derive(Debug)]
        pub enum $ty {}

        impl Modality for $ty {
            const NAME: &'static str = $name;
        }
    )*};
}

builtin_modalities! {
    /// Images (CLIP's vision tower, ConVIRT's medical images).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Image};
    ///
    /// let x = Embeddings::<f32, Image>::from_rows(&[[1.0, 0.0]])?;
    /// assert_eq!(x.modality(), "image");
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    Image => "image";
    /// Text (captions, class prompts).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Text};
    ///
    /// let t = Embeddings::<f32, Text>::from_rows(&[[1.0, 0.0]])?;
    /// assert_eq!(t.modality(), "text");
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    Text => "text";
    /// Audio (CLASP).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Audio, Embeddings};
    ///
    /// let x = Embeddings::<f32, Audio>::from_rows(&[[1.0, 0.0]])?;
    /// assert_eq!(x.modality(), "audio");
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    Audio => "audio";
    /// Video (VideoCLIP).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Embeddings, Video};
    ///
    /// let x = Embeddings::<f32, Video>::from_rows(&[[1.0, 0.0]])?;
    /// assert_eq!(x.modality(), "video");
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    Video => "video";
}
