//! The temperature of a contrastive loss, as a type: τ and the logit scale 1/τ cannot be
//! swapped by mistake.

use std::fmt;

use crate::{Result, check};

/// The temperature τ of a contrastive loss: logits are cosine similarities divided by τ, i.e.
/// multiplied by the logit scale s = 1/τ.
///
/// ```text
/// zᵢⱼ = aᵢ·bⱼ / τ = s · aᵢ·bⱼ,    τ > 0,   s = 1/τ
/// ```
///
/// CLIP learns its logit scale and ends at s = 100, i.e. τ = 0.01 ([`Temperature::CLIP`]).
/// Papers and code name either number: build it from the one you have, with
/// [`Temperature::new`] (τ) or [`Temperature::from_logit_scale`] (s), and every function that
/// takes a temperature takes this type, so passing CLIP's 100 where τ is meant does not
/// compile. `Display` shows both: `τ = 0.01 (logit scale 100)`.
///
/// The number given is kept exactly and the other is its correctly rounded inverse.
///
/// # Examples
///
/// ```
/// use modality_gap::Temperature;
///
/// let t = Temperature::new(0.01)?;
/// assert_eq!(t, Temperature::CLIP);
/// assert_eq!(t.logit_scale(), 100.0);
/// assert_eq!(Temperature::from_logit_scale(50.0)?.tau(), 0.02);
/// assert_eq!(t.to_string(), "τ = 0.01 (logit scale 100)");
/// assert!(Temperature::new(0.0).is_err());
/// # Ok::<(), modality_gap::Error>(())
/// ```
///
/// # References
///
/// Radford et al., "Learning Transferable Visual Models From Natural Language Supervision",
/// ICML 2021 (the learned logit scale, clipped at 100); Liang et al., "Mind the Gap", NeurIPS
/// 2022, Sec. 4.2 (the temperature and the gap).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Temperature {
    tau: f64,
    scale: f64,
}

impl Temperature {
    /// CLIP's learned temperature: τ = 0.01, logit scale 100.
    pub const CLIP: Self = Self {
        tau: 0.01,
        scale: 100.0,
    };

    /// The temperature τ.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) named `temperature` unless
    /// τ is finite, > 0 and has a finite inverse.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::Temperature;
    ///
    /// assert_eq!(Temperature::new(0.07)?.tau(), 0.07); // the initial τ of CLIP's training
    /// assert!(Temperature::new(f64::NAN).is_err());
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn new(tau: f64) -> Result<Self> {
        let scale = check::logit_scale(tau)?;
        Ok(Self { tau, scale })
    }

    /// The temperature of logit scale s, τ = 1/s.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) named `logit_scale` unless s
    /// is finite, > 0 and has a positive inverse.
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::Temperature;
    ///
    /// assert_eq!(Temperature::from_logit_scale(100.0)?, Temperature::CLIP);
    /// assert!(Temperature::from_logit_scale(-100.0).is_err());
    /// # Ok::<(), modality_gap::Error>(())
    /// ```
    pub fn from_logit_scale(scale: f64) -> Result<Self> {
        let tau = check::inverse_of_logit_scale(scale)?;
        Ok(Self { tau, scale })
    }

    /// τ.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(modality_gap::Temperature::CLIP.tau(), 0.01);
    /// ```
    pub fn tau(self) -> f64 {
        self.tau
    }

    /// The logit scale s = 1/τ, the factor of the cosine similarities.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(modality_gap::Temperature::CLIP.logit_scale(), 100.0);
    /// ```
    pub fn logit_scale(self) -> f64 {
        self.scale
    }
}

impl fmt::Display for Temperature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "τ = {} (logit scale {})", self.tau, self.scale)
    }
}
