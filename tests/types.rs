//! The types: layout and orientation of every constructor, the unit-norm invariant, and every
//! error variant produced through the public API.

use crate::common;

use common::{F64, ULPS, assert_relative, temperature, unit_from_rows};
use modality_gap::{
    Diagonal, Embeddings, Error, Image, Modality, Temperature, Text, UnitEmbeddings, align_loss,
    batched_contrastive_loss, contrastive_loss, contrastive_loss_with_targets, gap,
    mean_pairwise_cosine, npy, raw, retrieval_recall, uniform_loss,
};
use nalgebra::{DMatrix, dmatrix};

/// Two samples (1, 2, 3) and (4, 5, 6).
const ROWS: [[f64; 3]; 2] = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];

fn sample_set() -> Embeddings<f64, Image> {
    Embeddings::from_rows(&ROWS).unwrap()
}

#[test]
fn every_constructor_puts_sample_i_in_row_i() {
    let flat = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let by_slice = Embeddings::<f64, Image>::from_row_major_slice(2, 3, &flat).unwrap();
    let by_vec = Embeddings::<f64, Image>::from_row_major_vec(2, 3, flat.to_vec()).unwrap();
    // nalgebra n × d with samples as rows, and d × n with samples as columns.
    let by_rows =
        Embeddings::<f64, Image>::from_sample_rows(&dmatrix![1.0, 2.0, 3.0; 4.0, 5.0, 6.0])
            .unwrap();
    let by_columns =
        Embeddings::<f64, Image>::from_sample_columns(dmatrix![1.0, 4.0; 2.0, 5.0; 3.0, 6.0])
            .unwrap();
    for x in [by_slice, by_vec, by_rows, by_columns] {
        assert_eq!(x, sample_set());
        assert_eq!((x.len(), x.dim()), (2, 3));
        assert_eq!(x.row(0), &ROWS[0]);
        assert_eq!(x.row(1), &ROWS[1]);
        assert_eq!(x.as_slice(), &flat);
    }
}

#[test]
fn nalgebra_views_have_the_documented_orientation() {
    let x = sample_set();
    let columns = x.as_sample_columns();
    assert_eq!(columns.shape(), (3, 2));
    assert_eq!(
        columns.column(1).iter().copied().collect::<Vec<_>>(),
        ROWS[1]
    );
    let rows = x.to_sample_rows();
    assert_eq!(rows.shape(), (2, 3));
    assert_eq!(rows.row(1).iter().copied().collect::<Vec<_>>(), ROWS[1]);
    // Round trips in both orientations.
    assert_eq!(
        Embeddings::<f64, Image>::from_sample_rows(&rows).unwrap(),
        x
    );
    assert_eq!(
        Embeddings::<f64, Image>::from_sample_columns(columns.into_owned()).unwrap(),
        x
    );
    // A view is accepted too: the first sample only.
    let first = Embeddings::<f64, Image>::from_sample_rows(&rows.rows(0, 1)).unwrap();
    assert_eq!(first.as_slice(), &ROWS[0]);
}

#[test]
fn rows_iterates_samples_in_order() {
    let x = sample_set();
    let collected: Vec<&[f64]> = x.rows().collect();
    assert_eq!(collected, vec![&ROWS[0][..], &ROWS[1][..]]);
    assert_eq!(sample_set().into_vec(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
}

#[test]
fn modality_markers_name_themselves() {
    enum Depth {}
    impl Modality for Depth {
        const NAME: &'static str = "depth";
    }
    assert_eq!(sample_set().modality(), "image");
    let depth = Embeddings::<f32, Depth>::from_rows(&[[1.0]]).unwrap();
    assert_eq!(depth.modality(), "depth");
    assert_eq!(format!("{depth:?}"), "Embeddings<f32, depth>(n = 1, d = 1)");
}

#[test]
#[should_panic(expected = "row 2 out of range")]
fn row_out_of_range_panics_as_documented() {
    sample_set().row(2);
}

#[test]
fn normalize_gives_unit_rows_in_both_precisions() {
    let x32 =
        Embeddings::<f32, Image>::from_rows(&[[3.0, 4.0], [1e-30, 0.0], [1e30, 1e30]]).unwrap();
    let u32 = UnitEmbeddings::normalize(x32).unwrap();
    assert_eq!(u32.row(0), &[0.6, 0.8]);
    assert_eq!(u32.row(1), &[1.0, 0.0]);
    // Rows whose squares overflow or underflow f64 are rescaled first.
    let x64 =
        Embeddings::<f64, Image>::from_rows(&[[1e300, 1e300], [1e-300, 0.0], [3e-320, 4e-320]])
            .unwrap();
    let u64 = UnitEmbeddings::normalize(x64).unwrap();
    for row in u64.rows() {
        let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!((norm - 1.0).abs() <= ULPS, "{row:?}");
    }
    assert_eq!(u64.row(1), &[1.0, 0.0]);
}

#[test]
fn unit_rows_are_kept_as_they_are() {
    let x = Embeddings::<f32, Image>::from_rows(&[[0.6, 0.8]]).unwrap();
    let u = UnitEmbeddings::verify_unit(x.clone(), 1e-6).unwrap();
    assert_eq!(u.as_embeddings(), &x);
    assert_eq!(u.into_inner(), x);
}

// Every error variant, through the public API.

#[test]
fn empty_sets_are_errors() {
    assert!(matches!(
        Embeddings::<f64, Image>::from_row_major_slice(0, 3, &[]),
        Err(Error::Empty)
    ));
    assert!(matches!(
        Embeddings::<f64, Image>::from_rows::<[f64; 2]>(&[]),
        Err(Error::Empty)
    ));
}

#[test]
fn zero_dimension_is_an_error() {
    assert!(matches!(
        Embeddings::<f32, Image>::from_row_major_vec(2, 0, vec![]),
        Err(Error::ZeroDimension)
    ));
    assert!(matches!(
        Embeddings::<f32, Image>::from_rows::<[f32; 0]>(&[[]]),
        Err(Error::ZeroDimension)
    ));
    assert!(matches!(
        Embeddings::<f64, Image>::from_sample_columns(DMatrix::zeros(0, 3)),
        Err(Error::ZeroDimension)
    ));
}

#[test]
fn buffer_length_is_checked() {
    let err = Embeddings::<f64, Image>::from_row_major_slice(2, 3, &[1.0; 5]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::BufferLength {
                expected: 6,
                found: 5
            }
        ),
        "{err}"
    );
    let err = Embeddings::<f64, Image>::from_row_major_vec(usize::MAX, 2, vec![1.0]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::BufferLength {
                expected: usize::MAX,
                found: 1
            }
        ),
        "{err}"
    );
}

#[test]
fn dimension_mismatches_are_errors() {
    let err = Embeddings::<f64, Image>::from_rows(&[vec![1.0, 2.0], vec![3.0]]).unwrap_err();
    assert!(
        matches!(
            err,
            Error::DimensionMismatch {
                expected: 2,
                found: 1
            }
        ),
        "{err}"
    );
    let a = unit_from_rows::<Image>(&[[1.0, 0.0]]);
    let b =
        UnitEmbeddings::<f64, Text>::normalize(Embeddings::from_rows(&[[1.0, 0.0, 0.0]]).unwrap())
            .unwrap();
    assert!(matches!(
        gap(&a, &b),
        Err(Error::DimensionMismatch {
            expected: 2,
            found: 3
        })
    ));
    assert!(matches!(
        align_loss(&a, &b, 2.0),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(matches!(
        contrastive_loss(&a, &b, temperature(0.01)),
        Err(Error::DimensionMismatch { .. })
    ));
    assert!(matches!(
        retrieval_recall(&a, &b, 1),
        Err(Error::DimensionMismatch { .. })
    ));
}

#[test]
fn unpaired_sets_are_errors_for_paired_metrics() {
    let a = unit_from_rows::<Image>(&[[1.0, 0.0], [0.0, 1.0]]);
    let b = unit_from_rows::<Text>(&[[1.0, 0.0]]);
    let expected = |r: Result<f64, Error>| {
        matches!(
            r,
            Err(Error::LengthMismatch {
                expected: 2,
                found: 1
            })
        )
    };
    assert!(expected(align_loss(&a, &b, 2.0)));
    assert!(expected(raw::align_loss(&a, &b, 2.0)));
    assert!(expected(
        contrastive_loss(&a, &b, temperature(0.01)).map(|l| l.symmetric)
    ));
    assert!(expected(retrieval_recall(&a, &b, 1).map(|r| r.a_to_b)));
    assert!(expected(
        contrastive_loss_with_targets(&a, &b, temperature(0.01), &[0, 1]).map(|l| l.symmetric)
    ));
    assert!(expected(
        batched_contrastive_loss(&a, &b, temperature(0.01), 1).map(|l| l.symmetric)
    ));
    // The gap does not pair rows: sets of different sizes are fine.
    assert!((gap(&a, &b).unwrap().distance() - 0.5f64.sqrt()).abs() <= ULPS);
}

#[test]
fn pair_metrics_need_two_samples() {
    let one = unit_from_rows::<Image>(&[[1.0, 0.0]]);
    let too_few = |r: Result<f64, Error>| {
        matches!(
            r,
            Err(Error::TooFewSamples {
                required: 2,
                found: 1
            })
        )
    };
    assert!(too_few(uniform_loss(&one, 2.0)));
    assert!(too_few(mean_pairwise_cosine(&one, Diagonal::Excluded)));
    assert_eq!(mean_pairwise_cosine(&one, Diagonal::Included).unwrap(), 1.0);
}

#[test]
fn zero_rows_are_errors() {
    let x = Embeddings::<f32, Image>::from_rows(&[[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]]).unwrap();
    assert!(matches!(
        UnitEmbeddings::normalize(x),
        Err(Error::ZeroNorm { row: 1 })
    ));
}

#[test]
fn non_finite_values_are_errors_naming_the_cell() {
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let err = Embeddings::<f64, Image>::from_rows(&[[1.0, 2.0], [3.0, bad]]).unwrap_err();
        assert!(
            matches!(err, Error::NonFinite { row: 1, column: 1 }),
            "{err}"
        );
    }
    let err = Embeddings::<f32, Image>::from_sample_columns(DMatrix::from_element(2, 2, f32::NAN))
        .unwrap_err();
    assert!(
        matches!(err, Error::NonFinite { row: 0, column: 0 }),
        "{err}"
    );
}

#[test]
fn rows_off_the_sphere_are_rejected_by_verify_unit() {
    let x = Embeddings::<f64, Image>::from_rows(&[[0.6, 0.8], [0.6, 0.8001]]).unwrap();
    let err = UnitEmbeddings::verify_unit(x.clone(), 1e-6).unwrap_err();
    match err {
        Error::NotUnitNorm {
            row,
            norm,
            tolerance,
        } => {
            assert_eq!((row, tolerance), (1, 1e-6));
            assert!((norm - (0.36f64 + 0.8001 * 0.8001).sqrt()).abs() <= ULPS);
        }
        other => panic!("{other:?}"),
    }
    assert!(UnitEmbeddings::verify_unit(x, 1e-3).is_ok());
}

#[test]
fn out_of_domain_parameters_are_errors_naming_the_parameter() {
    let a = unit_from_rows::<Image>(&[[1.0, 0.0], [0.0, 1.0]]);
    let b = unit_from_rows::<Text>(&[[1.0, 0.0], [0.0, 1.0]]);
    let name = |r: Result<f64, Error>| match r {
        Err(Error::InvalidParameter { name, .. }) => name,
        other => panic!("{other:?}"),
    };
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert_eq!(name(align_loss(&a, &b, bad)), "alpha");
        assert_eq!(name(raw::uniform_loss(&a, bad)), "t");
        assert_eq!(name(uniform_loss(&a, bad)), "t");
        assert_eq!(name(Temperature::new(bad).map(|t| t.tau())), "temperature");
        assert_eq!(
            name(Temperature::from_logit_scale(bad).map(|t| t.tau())),
            "logit_scale"
        );
    }
    assert_eq!(name(retrieval_recall(&a, &b, 0).map(|r| r.a_to_b)), "k");
    let batched =
        |size| batched_contrastive_loss(&a, &b, temperature(0.01), size).map(|l| l.symmetric);
    assert_eq!(name(batched(0)), "batch_size");
    assert!(matches!(
        batched(3),
        Err(Error::TooFewSamples {
            required: 3,
            found: 2
        })
    ));
    let targeted = |t: &[usize]| {
        contrastive_loss_with_targets(&a, &b, temperature(0.01), t).map(|l| l.symmetric)
    };
    assert_eq!(name(targeted(&[0, 2])), "targets");
    assert!(matches!(
        targeted(&[0]),
        Err(Error::LengthMismatch {
            expected: 2,
            found: 1
        })
    ));
    for bad in [-1e-9, f64::NAN] {
        let x = a.clone().into_inner();
        assert_eq!(
            name(UnitEmbeddings::verify_unit(x, bad).map(|_| 0.0)),
            "tolerance"
        );
    }
}

#[test]
fn a_zero_gap_has_no_direction() {
    let a = unit_from_rows::<Image>(&[[1.0, 0.0], [0.0, 1.0]]);
    let b = unit_from_rows::<Text>(&[[0.0, 1.0], [1.0, 0.0]]);
    assert!(matches!(
        gap(&a, &b).unwrap().direction(),
        Err(Error::ZeroGap)
    ));
}

#[test]
fn unreadable_files_are_io_errors_naming_the_file() {
    let err = npy::read::<f32, Image>("/nonexistent/features.npy").unwrap_err();
    let Error::File {
        ref path,
        ref source,
    } = err
    else {
        panic!("{err}")
    };
    assert_eq!(path, std::path::Path::new("/nonexistent/features.npy"));
    assert!(
        matches!(**source, Error::Io(ref e) if e.kind() == std::io::ErrorKind::NotFound),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "/nonexistent/features.npy: i/o error: No such file or directory (os error 2)"
    );
}

#[test]
fn malformed_files_are_npy_errors() {
    let err = npy::read_from::<f32, Image, _>(&b"not a numpy file"[..]).unwrap_err();
    assert!(
        matches!(err, Error::Npy(modality_gap::NpyError::BadMagic)),
        "{err}"
    );
}

#[test]
fn errors_display_their_facts() {
    let err = Embeddings::<f64, Image>::from_row_major_slice(2, 3, &[1.0; 5]).unwrap_err();
    assert_eq!(err.to_string(), "the buffer holds 5 values, but n · d = 6");
}

#[test]
fn extreme_magnitudes_normalise_or_overflow_with_an_error() {
    let huge =
        Embeddings::<f64, Image>::from_rows(&[[f64::MAX, f64::MAX], [1e200, -1e200]]).unwrap();
    let unit = UnitEmbeddings::normalize(huge.clone()).unwrap();
    assert!((unit.row(0)[0] - 0.5f64.sqrt()).abs() <= ULPS);
    assert!((unit.row(1)[1] + 0.5f64.sqrt()).abs() <= ULPS);
    // Rows 1e200 apart: the distance is representable, its square is not.
    let far = Embeddings::<f64, Text>::from_rows(&[[-1e200, 1e200], [1e200, -1e200]]).unwrap();
    let near = Embeddings::<f64, Image>::from_rows(&[[0.0, 1e200], [1e200, 0.0]]).unwrap();
    let one = raw::align_loss(&near, &far, 1.0).unwrap();
    assert!((one / 1e200 - 1.0).abs() <= ULPS, "{one:e}");
    let overflow = |r: Result<f64, Error>| matches!(r, Err(Error::Overflow { .. }));
    assert!(overflow(raw::align_loss(&near, &far, 2.0)));
    // The uniformity's rounding bound t·5(d + 8)·u·max‖xᵢ − x̄‖² overflows first: its loss
    // would overflow too, but no digit of it is resolved.
    let unresolved = |r: Result<f64, Error>| match r {
        Err(Error::Unresolved { bound, .. }) => bound,
        other => panic!("{other:?}"),
    };
    assert_eq!(unresolved(raw::uniform_loss(&huge, 2.0)), f64::INFINITY);
    // A huge t on ordinary unit rows (each 1/√2 from their mean):
    // 1e308·5·10·2⁻⁵³·(1/2).
    let spread = unit_pair_of_orthogonal_rows();
    let bound = unresolved(uniform_loss(&spread, 1e308));
    assert_relative(bound, 1e308 / 2f64.powi(53) * 25.0, ULPS, "bound");
}

/// Rows (big, 0), (0, 1), (1, 0): the loss is log(e⁻²/3) for any big above a few (the two
/// pairs with the outlier add nothing), but the close pair's squared distance 2 is a
/// difference of squared norms of about (2·big/3)². The crate's value lies within its bound
/// t·5(d + 8)·u·max‖xᵢ − x̄‖² of the loss, or the input is `Unresolved` when that passes 1.
#[test]
fn an_outlier_leaves_the_close_pairs_within_the_bound_or_unresolved() {
    fn case<T: modality_gap::Scalar>(big: f64) -> (Result<f64, Error>, f64) {
        let rows = [[big, 0.0], [0.0, 1.0], [1.0, 0.0]].map(|r| r.map(T::from_f64));
        let x = Embeddings::<T, Image>::from_rows(&rows).unwrap();
        // max‖xᵢ − x̄‖² is the outlier's: (2b/3 − 1/3)² + (1/3)², with b as stored.
        let b = T::from_f64(big).to_f64();
        let farthest = ((2.0 * b - 1.0) / 3.0).powi(2) + 1.0 / 9.0;
        let u = common::unit_roundoff::<T>();
        (raw::uniform_loss(&x, 1.0), 5.0 * 10.0 * u * farthest)
    }
    let loss = -2.0 - 3f64.ln();
    let within = |(value, bound): (Result<f64, Error>, f64), limit: f64| {
        let value = value.unwrap();
        assert!(bound <= limit, "{bound}");
        assert!(
            (value - loss).abs() <= bound,
            "{value} vs {loss} (bound {bound})"
        );
    };
    let refused = |(value, bound): (Result<f64, Error>, f64)| match value {
        Err(Error::Unresolved { bound: given, .. }) => {
            assert!(given > 1.0);
            if bound.is_finite() {
                assert_relative(given, bound, F64, "bound");
            } else {
                assert_eq!(given, bound);
            }
        }
        other => panic!("{other:?}"),
    };
    within(case::<f64>(1e3), 3e-9);
    within(case::<f64>(1e7), 0.25);
    refused(case::<f64>(1e8)); // the pass would give −3.35
    refused(case::<f64>(1e150));
    refused(case::<f64>(1.5e308)); // it gave 0.0 when t·scale⁻² overflowed
    within(case::<f32>(10.0), 3e-4);
    within(case::<f32>(100.0), 0.014);
    refused(case::<f32>(1e3));
    refused(case::<f32>(1e5)); // the pass would give −129.1
    // Chunk sums of the mean that overflow to +∞ and −∞ (2048 rows each): a NaN mean, which
    // reached every row at a NaN distance, so the bound was 0 and the value 0.0.
    let rows: Vec<[f64; 1]> = [1.5e308, -1.5e308]
        .iter()
        .flat_map(|&v| [[v]; 2048])
        .collect();
    let nan_mean = Embeddings::<f64, Image>::from_rows(&rows).unwrap();
    match raw::uniform_loss(&nan_mean, 1.0) {
        Err(Error::Unresolved { bound, .. }) => assert_eq!(bound, f64::INFINITY),
        other => panic!("{other:?}"),
    }
}

fn unit_pair_of_orthogonal_rows() -> UnitEmbeddings<f64, Image> {
    unit_from_rows(&[[1.0, 0.0], [0.0, 1.0]])
}

#[test]
fn a_temperature_whose_inverse_overflows_is_invalid() {
    let err = Temperature::new(1e-310).unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidParameter {
                name: "temperature",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn retrieval_among_identical_rows_breaks_ties_by_index_as_the_peers_do() {
    // All similarities tie: only the last row's pair ranks first, as with a stable argsort.
    let a = unit_from_rows::<Image>(&[[1.0, 1.0]; 4]);
    let b = unit_from_rows::<Text>(&[[2.0, 2.0]; 4]);
    let r1 = retrieval_recall(&a, &b, 1).unwrap();
    assert_eq!((r1.a_to_b, r1.b_to_a), (0.25, 0.25));
    assert_eq!(retrieval_recall(&a, &b, 3).unwrap().a_to_b, 0.75);
}
