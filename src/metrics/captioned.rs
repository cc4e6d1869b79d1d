//! The metrics of images with several captions each: retrieval in the COCO protocol, and the
//! paired metrics over the true (image, caption) pairs.

use super::align::mean_distance_power;
use super::contrastive::{dot_bound, loss_of_sets};
use super::pairing::Pairing;
use crate::{
    Captioned, ContrastiveLoss, Modality, Recall, RelativeGap, Result, RetrievalRanks, Scalar,
    Temperature,
    kernel::{self, Sets, Targets},
};

impl<T: Scalar, A: Modality, B: Modality> Captioned<T, A, B> {
    /// The sets as the kernel takes them: images as rows, captions as columns.
    fn sets(&self) -> Sets<'_> {
        let (images, captions) = (self.images(), self.captions());
        Sets::new(images.as_slice(), captions.as_slice(), images.dim())
    }

    /// The rank of each image's best caption among all m captions, and of each caption's image
    /// among all n images: the standard COCO retrieval protocol, in one pass.
    ///
    /// ```text
    /// image i → text:   rank(i) = #{ j : sᵢⱼ > sᵢc } (ties: j > c),   c = i's best caption
    /// text j → image:   rank(j) = #{ i : sᵢⱼ > s_gⱼj } (ties: i > gⱼ)
    /// ```
    ///
    /// An image scores a hit at K when *any* of its captions is among its K most similar
    /// captions, i.e. when its best caption is; a caption scores a hit when its own image is
    /// among its K most similar images. Ties rank the larger index first, as everywhere in the
    /// crate (the order of a stable ascending argsort); among equally good captions of one
    /// image the best is the one of larger index. `a_to_b` has n ranks, `b_to_a` has m.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Captioned, Embeddings, Image, Text, UnitEmbeddings};
    ///
    /// let images = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
    /// let captions = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[
    ///     [0.0, 1.0], [1.0, 0.2], // image 0: a bad caption and a good one
    ///     [1.0, 0.1],             // image 1: a caption closer to image 0
    /// ])?)?;
    /// let ranks = Captioned::new(images, captions, vec![0, 0, 1])?.retrieval_ranks();
    /// // Image 0: caption 2 beats its best (caption 1); image 1: captions 0 and 1 beat its own.
    /// assert_eq!(ranks.a_to_b(), &[1, 2]);
    /// assert_eq!(ranks.b_to_a(), &[1, 0, 1]);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    ///
    /// # References
    ///
    /// The R@K of image–text retrieval on MSCOCO 5k as CLIP reports it (Radford et al.,
    /// "Learning Transferable Visual Models From Natural Language Supervision", ICML 2021,
    /// Table 13), after Karpathy & Fei-Fei, CVPR 2015.
    pub fn retrieval_ranks(&self) -> RetrievalRanks {
        let (a_to_b, b_to_a) = kernel::ranks(self.sets(), Some(self.image_of()));
        RetrievalRanks::new(a_to_b, b_to_a, (A::NAME, B::NAME))
    }

    /// R@K both ways in the COCO protocol: the fraction of images with a caption among their
    /// K nearest captions, and of captions whose image is among their K nearest images
    /// ([`Captioned::retrieval_ranks`] has the ranks and ties).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) for k = 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Captioned, Embeddings, Image, Text, UnitEmbeddings};
    ///
    /// let images = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
    /// let captions = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[0.0, 1.0], [1.0, 0.2], [1.0, 0.1]])?)?;
    /// let recall = Captioned::new(images, captions, vec![0, 0, 1])?.retrieval_recall(1)?;
    /// assert_eq!((recall.a_to_b, recall.b_to_a), (0.0, 1.0 / 3.0));
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn retrieval_recall(&self, k: usize) -> Result<Recall> {
        self.retrieval_ranks().recall(k)
    }

    /// [`align_loss`](crate::align_loss) over the m true pairs:
    /// (1/m) Σⱼ ‖a_gⱼ − bⱼ‖^α. With α = 1 it is L2I in the COCO convention of
    /// lmb-freiburg/two-effects-one-trigger (`compute_l2i`, each caption against its image).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) unless α is finite and > 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Captioned, Embeddings, Image, Text, UnitEmbeddings};
    ///
    /// let images = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0]])?)?;
    /// let captions = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
    /// let coco = Captioned::new(images, captions, vec![0, 0])?;
    /// assert!((coco.align_loss(2.0)? - 1.0).abs() < 1e-15); // (0 + 2) / 2
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn align_loss(&self, alpha: f64) -> Result<f64> {
        let pairs = Pairing::Groups(self.image_of());
        mean_distance_power(self.images(), self.captions(), pairs, alpha)
    }

    /// The relative modality gap ([`RelativeGap`]) in the COCO convention of
    /// lmb-freiburg/two-effects-one-trigger (`compute_rmg`): the matched term over the m true
    /// pairs, the image term over the n unique images, the text term over all m captions
    /// (captions of one image included, as the reference does).
    ///
    /// # Errors
    ///
    /// [`Error::TooFewSamples`](crate::Error::TooFewSamples) for fewer than two images or
    /// captions.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Captioned, Embeddings, Image, Text, UnitEmbeddings};
    ///
    /// let images = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
    /// let captions = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])?)?;
    /// let rmg = Captioned::new(images, captions, vec![0, 0, 1])?.relative_gap()?;
    /// assert_eq!(rmg.matched, 1e-3); // every pair coincides: the reference's floor
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn relative_gap(&self) -> Result<RelativeGap> {
        RelativeGap::of(
            self.images(),
            self.captions(),
            Pairing::Groups(self.image_of()),
        )
    }

    /// The contrastive loss with several positives per image, logits sᵢⱼ = aᵢ·bⱼ / τ:
    ///
    /// ```text
    /// caption → image:  (1/m) Σⱼ [ log Σᵢ exp(sᵢⱼ) − s_gⱼj ]              one positive each
    /// image → caption:  (1/n) Σᵢ (1/|Pᵢ|) Σ_{j∈Pᵢ} [ log Σₖ exp(sᵢₖ) − sᵢⱼ ]  Pᵢ = i's captions
    /// symmetric:        the mean of the two
    /// ```
    ///
    /// Each image's term is the mean of one cross-entropy per caption (the "L_out" of
    /// supervised contrastive learning, Khosla et al., NeurIPS 2020): every caption counts as
    /// a target and the others stay in the denominator. The other usual choice,
    /// −log Σ_{j∈Pᵢ} softmax(sᵢ)ⱼ ("L_in"), rewards putting mass on any one caption; by
    /// Jensen's inequality it is smaller by at least log |Pᵢ| (exactly that when the captions
    /// tie). With one caption per image both equal
    /// [`contrastive_loss`](crate::contrastive_loss). One pass of the kernel over n × m.
    ///
    /// # Errors
    ///
    /// [`Error::Overflow`](crate::Error::Overflow) for a temperature so small that the loss
    /// exceeds `f64::MAX`.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::{Captioned, Embeddings, Image, Temperature, Text, UnitEmbeddings};
    ///
    /// let images = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&[[1.0, 0.0], [0.0, 1.0]])?)?;
    /// let captions = UnitEmbeddings::normalize(Embeddings::<f64, Text>::from_rows(&[[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])?)?;
    /// let loss = Captioned::new(images, captions, vec![0, 0, 1])?.contrastive_loss(Temperature::new(1.0)?)?;
    /// // Caption → image: each caption's row is (1, 0) or (0, 1) with its image at the 1.
    /// assert!((loss.b_to_a - (1f64.exp() + 1.0).ln() + 1.0).abs() < 1e-15);
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn contrastive_loss(&self, temperature: Temperature) -> Result<ContrastiveLoss> {
        let bound = dot_bound(self.images(), self.captions());
        loss_of_sets(
            self.sets(),
            temperature.logit_scale(),
            bound,
            Targets::Groups(self.image_of()),
            (A::NAME, B::NAME),
        )
    }
}
