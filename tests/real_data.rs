//! The embedded real pair `data/features_clasp.npy` (CLASP audio–text, 99 × 768, float32)
//! gives the values numpy gives.
//!
//! The constants were computed once with the oracle in float64 on the float32 file:
//! `python3 tests/data/pin_real_values.py ../shared/oracle` prints them.

mod common;

use common::{F32, F64, assert_close};
use modality_gap::{
    Audio, Diagonal, Scalar, Text, UnitEmbeddings, align_loss, contrastive_loss, gap,
    mean_pairwise_cosine, npy, retrieval_recall, uniform_loss,
};

const GAP_DISTANCE: f64 = 1.0446642514478812;
const GAP_VECTOR_0: f64 = -0.038158119849624805;
const CONE_AUDIO_EXCLUDED: f64 = 0.607177766043875;
const CONE_TEXT_EXCLUDED: f64 = 0.7049799506288651;
const CONE_AUDIO_INCLUDED: f64 = 0.6111456673969671;
const ALIGN_ALPHA2: f64 = 1.7607953907485825;
const UNIFORM_AUDIO_T2: f64 = -1.3469279996550638;
const UNIFORM_TEXT_T2: f64 = -0.9610931696186992;
const CLIP_SYMMETRIC_TAU001: f64 = 9.768584089949435;
const CLIP_I2T_TAU001: f64 = 12.434436269091302;
const CLIP_T2I_TAU001: f64 = 7.10273191080757;
const RECALL1_I2T: f64 = 0.030303030303030304;
const RECALL1_T2I: f64 = 0.0;
const RECALL5_I2T: f64 = 0.050505050505050504;

static CLASP: &[u8] = include_bytes!("../data/features_clasp.npy");

fn check<T: Scalar>(tol: f64) {
    let (audio, text) = npy::pair_from_reader::<T, Audio, Text, _>(CLASP).unwrap();
    assert_eq!(
        (audio.len(), audio.dim(), text.len(), text.dim()),
        (99, 768, 99, 768)
    );
    let audio = UnitEmbeddings::normalize(audio).unwrap();
    let text = UnitEmbeddings::normalize(text).unwrap();

    let g = gap(&audio, &text).unwrap();
    assert_close(g.distance(), GAP_DISTANCE, tol, "gap distance");
    assert_close(g.vector()[0], GAP_VECTOR_0, tol, "gap vector[0]");
    let cone = |x, diagonal| mean_pairwise_cosine(x, diagonal).unwrap();
    assert_close(
        cone(&audio, Diagonal::Excluded),
        CONE_AUDIO_EXCLUDED,
        tol,
        "audio cone",
    );
    assert_close(
        cone(&audio, Diagonal::Included),
        CONE_AUDIO_INCLUDED,
        tol,
        "audio cone incl.",
    );
    let text_cone = mean_pairwise_cosine(&text, Diagonal::Excluded).unwrap();
    assert_close(text_cone, CONE_TEXT_EXCLUDED, tol, "text cone");
    assert_close(
        align_loss(&audio, &text, 2.0).unwrap(),
        ALIGN_ALPHA2,
        tol,
        "align",
    );
    assert_close(
        uniform_loss(&audio, 2.0).unwrap(),
        UNIFORM_AUDIO_T2,
        tol,
        "audio uniform",
    );
    assert_close(
        uniform_loss(&text, 2.0).unwrap(),
        UNIFORM_TEXT_T2,
        tol,
        "text uniform",
    );
    let loss = contrastive_loss(&audio, &text, 0.01).unwrap();
    assert_close(loss.symmetric, CLIP_SYMMETRIC_TAU001, tol, "clip");
    assert_close(loss.image_to_text, CLIP_I2T_TAU001, tol, "clip i2t");
    assert_close(loss.text_to_image, CLIP_T2I_TAU001, tol, "clip t2i");
    let r1 = retrieval_recall(&audio, &text, 1).unwrap();
    assert_eq!(
        (r1.image_to_text, r1.text_to_image),
        (RECALL1_I2T, RECALL1_T2I)
    );
    let r5 = retrieval_recall(&audio, &text, 5).unwrap();
    assert_eq!(r5.image_to_text, RECALL5_I2T);
}

#[test]
fn real_clasp_pair_matches_numpy_in_f64() {
    check::<f64>(F64);
}

#[test]
fn real_clasp_pair_matches_numpy_with_f32_storage() {
    check::<f32>(F32);
}
