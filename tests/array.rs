//! `ndarray` views as embeddings (`--features ndarray`): borrowed in place, the same metrics
//! as the copied rows, typed errors for views that are not standard layout or not finite.
#![cfg(feature = "ndarray")]

use modality_gap::{
    Diagonal, Embeddings, Error, Image, UnitEmbeddings, array, mean_pairwise_cosine, uniform_loss,
};
use ndarray::{Array2, s};

fn rows(n: usize, d: usize) -> Array2<f32> {
    Array2::from_shape_fn((n, d), |(i, k)| ((i * 31 + k * 7) % 17) as f32 / 8.0 - 1.0)
}

#[test]
fn a_view_is_borrowed_in_place_and_gives_the_copied_rows_metrics() {
    let x = rows(300, 5);
    let copied =
        Embeddings::<f32, Image>::from_row_major_slice(300, 5, x.as_slice().unwrap()).unwrap();
    let unit_copy = UnitEmbeddings::normalize(copied.clone()).unwrap();
    let (borrowed_at, cloned_at, centre) = array::with_view::<f32, Image, _>(x.view(), |e| {
        assert_eq!(e, &copied);
        (
            e.as_slice().as_ptr(),
            e.clone().as_slice().as_ptr(),
            modality_gap::centroid(e),
        )
    })
    .unwrap();
    assert_eq!(
        borrowed_at,
        x.as_ptr(),
        "the set reads the view's own values"
    );
    assert_ne!(cloned_at, x.as_ptr(), "a clone copies");
    assert_eq!(centre, modality_gap::centroid(&copied));

    let unit_rows = Array2::from_shape_vec((300, 5), unit_copy.as_slice().to_vec()).unwrap();
    let (cone, uniformity) = array::with_unit_view::<f32, Image, _>(unit_rows.view(), 1e-6, |u| {
        assert_eq!(u.as_slice().as_ptr(), unit_rows.as_ptr());
        (
            mean_pairwise_cosine(u, Diagonal::Excluded).unwrap(),
            uniform_loss(u, 2.0).unwrap(),
        )
    })
    .unwrap();
    assert_eq!(
        cone.to_bits(),
        mean_pairwise_cosine(&unit_copy, Diagonal::Excluded)
            .unwrap()
            .to_bits()
    );
    assert_eq!(
        uniformity.to_bits(),
        uniform_loss(&unit_copy, 2.0).unwrap().to_bits()
    );
}

#[test]
fn views_that_cannot_be_borrowed_or_checked_are_typed_errors() {
    let x = rows(6, 4);
    // A transposed view, and a view of every other column: rows not contiguous.
    let transposed = array::with_view::<f32, Image, _>(x.t(), |_| ());
    assert!(matches!(transposed, Err(Error::NotStandardLayout)));
    let strided = array::with_view::<f32, Image, _>(x.slice(s![.., ..;2]), |_| ());
    assert!(matches!(strided, Err(Error::NotStandardLayout)));
    // A view of whole rows is contiguous: borrowed.
    let top = array::with_view::<f32, Image, _>(x.slice(s![1..3, ..]), |e| e.len());
    assert_eq!(top.unwrap(), 2);
    let copied = array::with_view::<f32, Image, _>(x.t().as_standard_layout().view(), |e| e.len());
    assert_eq!(
        copied.unwrap(),
        4,
        "a transposed view in standard layout: 4 rows of 6"
    );

    let mut bad = rows(3, 2);
    bad[[2, 1]] = f32::NAN;
    let mut ran = false;
    let result = array::with_view::<f32, Image, _>(bad.view(), |_| ran = true);
    assert!(matches!(
        result,
        Err(Error::NonFinite { row: 2, column: 1 })
    ));
    assert!(!ran, "the closure does not run on bad rows");
    let empty = Array2::<f64>::zeros((0, 3));
    assert!(matches!(
        array::with_view::<f64, Image, _>(empty.view(), |_| ()),
        Err(Error::Empty)
    ));
    let not_unit = array::with_unit_view::<f32, Image, _>(x.view(), 1e-6, |_| ());
    assert!(matches!(not_unit, Err(Error::NotUnitNorm { .. })));
}
