//! `Captioned`: images with one or more captions each, as in MSCOCO.

use crate::{Image, Modality, Result, Scalar, Text, UnitEmbeddings, check};

/// n images with m ≥ n captions: caption j describes image gⱼ, and every image has at least
/// one caption. MSCOCO's 5k test split has 5 captions per image (25,010 captions in all; a few
/// images have six), so a paired 1:1 view of it would drop four fifths of the text.
///
/// The metrics over true pairs ([`Captioned::align_loss`], [`Captioned::relative_gap`],
/// [`Captioned::contrastive_loss`]) visit the m pairs (image gⱼ, caption j); retrieval follows
/// the standard COCO protocol ([`Captioned::retrieval_ranks`]). Nothing n × m is held: the
/// pairwise passes run on the crate's kernel. With gⱼ = j every result equals its 1:1
/// counterpart.
///
/// # Examples
///
/// ```
/// use modality_gap::{Captioned, Embeddings, Image, Text, UnitEmbeddings};
///
/// let images = UnitEmbeddings::normalize(Embeddings::<f32, Image>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
/// let captions = UnitEmbeddings::normalize(Embeddings::<f32, Text>::from_rows(&[
///     [1.0, 0.1], [1.0, -0.2], // two captions of image 0
///     [0.1, 1.0],              // one of image 1
/// ])?)?;
/// let coco = Captioned::new(images, captions, vec![0, 0, 1])?;
/// assert_eq!(coco.captions_of(0), Some(2));
/// assert_eq!(coco.retrieval_recall(1)?.a_to_b, 1.0);
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// T.-Y. Lin et al., "Microsoft COCO: Common Objects in Context", ECCV 2014; the 5k test split
/// of A. Karpathy, L. Fei-Fei, "Deep Visual-Semantic Alignments for Generating Image
/// Descriptions", CVPR 2015.
#[derive(Debug, Clone)]
pub struct Captioned<T: Scalar, A: Modality = Image, B: Modality = Text> {
    images: UnitEmbeddings<T, A>,
    captions: UnitEmbeddings<T, B>,
    image_of: Vec<usize>,
}

impl<T: Scalar, A: Modality, B: Modality> Captioned<T, A, B> {
    /// Images, their captions, and for each caption j the index gⱼ of its image.
    ///
    /// For captions stored image by image, k per image (COCO's usual order), gⱼ = ⌊j / k⌋:
    /// `(0..m).map(|j| j / k).collect()`.
    ///
    /// # Errors
    ///
    /// [`Error::DimensionMismatch`](crate::Error::DimensionMismatch),
    /// [`Error::LengthMismatch`](crate::Error::LengthMismatch) unless there is one index per
    /// caption, [`Error::InvalidParameter`](crate::Error::InvalidParameter) for an index that
    /// is not an image, or an image that no caption names.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Captioned, Embeddings, Error, Image, Text, UnitEmbeddings};
    ///
    /// let images = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0], [-1.0]])?)?;
    /// let captions = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[1.0], [1.0]])?)?;
    /// // Image 1 has no caption.
    /// let lonely = Captioned::new(images.clone(), captions.clone(), vec![0, 0]);
    /// assert!(matches!(lonely, Err(Error::InvalidParameter { name: "image_of", .. })));
    /// assert!(Captioned::new(images, captions, vec![1, 0]).is_ok());
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn new(
        images: UnitEmbeddings<T, A>,
        captions: UnitEmbeddings<T, B>,
        image_of: Vec<usize>,
    ) -> Result<Self> {
        check::comparable(images.shape(), captions.shape())?;
        check::labels("image_of", captions.len(), images.len(), &image_of)?;
        check::every_group_named(
            "image_of",
            images.len(),
            &image_of,
            "such that every image has a caption (this image has none)",
        )?;
        Ok(Self {
            images,
            captions,
            image_of,
        })
    }

    /// The n images.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Captioned, Embeddings, Image, Text, UnitEmbeddings};
    ///
    /// let images = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0]])?)?;
    /// let captions = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[1.0], [2.0]])?)?;
    /// assert_eq!(Captioned::new(images, captions, vec![0, 0])?.images().len(), 1);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn images(&self) -> &UnitEmbeddings<T, A> {
        &self.images
    }

    /// The m captions.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Captioned, Embeddings, Image, Text, UnitEmbeddings};
    ///
    /// let images = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0]])?)?;
    /// let captions = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[1.0], [2.0]])?)?;
    /// assert_eq!(Captioned::new(images, captions, vec![0, 0])?.captions().len(), 2);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn captions(&self) -> &UnitEmbeddings<T, B> {
        &self.captions
    }

    /// gⱼ, the image of caption j, for every caption.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Captioned, Embeddings, Image, Text, UnitEmbeddings};
    ///
    /// let images = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0], [-1.0]])?)?;
    /// let captions = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[1.0], [2.0], [-1.0]])?)?;
    /// let coco = Captioned::new(images, captions, vec![0, 0, 1])?;
    /// assert_eq!(coco.image_of(), &[0, 0, 1]);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn image_of(&self) -> &[usize] {
        &self.image_of
    }

    /// The number of captions of image i, or `None` if there is no image i (i ≥ n).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Captioned, Embeddings, Image, Text, UnitEmbeddings};
    ///
    /// let images = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0], [-1.0]])?)?;
    /// let captions = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[1.0], [2.0], [-1.0]])?)?;
    /// let coco = Captioned::new(images, captions, vec![0, 0, 1])?;
    /// assert_eq!((coco.captions_of(0), coco.captions_of(1)), (Some(2), Some(1)));
    /// assert_eq!(coco.captions_of(2), None);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn captions_of(&self, i: usize) -> Option<usize> {
        (i < self.images.len()).then(|| self.image_of.iter().filter(|&&g| g == i).count())
    }

    /// The images at `images` (in that order; an index may repeat, as in a bootstrap sample),
    /// each with all of its captions: image k of the result is image `images[k]`, and its
    /// captions follow image by image, in their order here. The unit of COCO-style data is the
    /// image with its captions, so this is the subset to resample or leave out
    /// ([`jackknife::captioned`](crate::jackknife::captioned)).
    ///
    /// # Errors
    ///
    /// [`Error::Empty`](crate::Error::Empty) for no index,
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) (named `images`) for an
    /// index that is not an image.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Captioned, Embeddings, Image, Text, UnitEmbeddings};
    ///
    /// let images = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
    /// let captions = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[1.0, 0.1], [0.1, 1.0], [1.0, -0.1]])?)?;
    /// let coco = Captioned::new(images, captions, vec![0, 1, 0])?;
    /// let first = coco.select(&[0])?;
    /// assert_eq!((first.images().len(), first.image_of()), (1, &[0, 0][..]));
    /// assert_eq!(first.captions().row(1), coco.captions().row(2));
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn select(&self, images: &[usize]) -> Result<Self> {
        let n = self.images.len();
        check::labels("images", images.len(), n, images)?;
        let mut captions_of = vec![Vec::new(); n];
        for (j, &i) in self.image_of.iter().enumerate() {
            captions_of[i].push(j);
        }
        let (kept, image_of): (Vec<usize>, Vec<usize>) = images
            .iter()
            .enumerate()
            .flat_map(|(k, &i)| captions_of[i].iter().map(move |&j| (j, k)))
            .unzip();
        Self::new(
            self.images.select(images)?,
            self.captions.select(&kept)?,
            image_of,
        )
    }
}
