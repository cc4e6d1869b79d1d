//! What each fuzz target does with its bytes: every reader of outside bytes, and everything
//! it returns read back. Shared by the libFuzzer targets (`fuzz_targets/`) and the replay of
//! the committed corpus in the crate's tests (`tests/fuzz_corpus.rs`), so that a crash the
//! fuzzer once found fails `cargo test`. Each returns normally on any input: a typed error is
//! an answer, a panic or an abort is the bug.

use modality_gap::{Image, Text, npy};

/// A `.npy` file of one (n, d) array, as f32 and as f64, whole and without its non-finite rows;
/// and in chunks of 3 rows, which give the reader's values whenever the reader reads the file
/// (but for a Fortran-order array, which they refuse), and an error whenever it does not,
/// though not always the same one: a chunk can meet a NaN before the reader, which reads every
/// byte first, meets the file's end.
pub fn npy_read(data: &[u8]) {
    let whole = npy::read_from::<f32, Image, _>(data);
    let _ = npy::read_from::<f64, Text, _>(data);
    let _ = npy::read_finite_rows_from::<f32, Image, _>(data);
    let chunked = npy::Chunks::<f32, Image, _>::new(data, 3).and_then(|chunks| {
        let mut values = Vec::new();
        for chunk in chunks {
            values.extend_from_slice(chunk?.as_slice());
        }
        Ok(values)
    });
    match (whole, chunked) {
        (Ok(whole), Ok(values)) => assert_eq!(whole.as_slice(), &values[..], "chunks differ"),
        (_, Err(modality_gap::Error::Npy(modality_gap::NpyError::FortranOrder)))
        | (Err(_), Err(_)) => {}
        (whole, chunked) => panic!("read {whole:?}, chunks {:?}", chunked.map(|v| v.len())),
    }
}

/// A `.npy` file of a stacked [2, n, d] pair.
pub fn npy_pair(data: &[u8]) {
    let _ = npy::read_pair_from::<f32, Image, Text, _>(data);
    let _ = npy::read_pair_finite_rows_from::<f64, Image, Text, _>(data);
}

/// A `.npy` file of (n,) integer labels.
pub fn npy_labels(data: &[u8]) {
    let _ = npy::read_labels_from(data);
}

/// An `.npz` archive: every member as embeddings, as a pair and as labels.
#[cfg(feature = "npz")]
pub fn npz(data: &[u8]) {
    if let Ok(mut archive) = npy::Npz::new(std::io::Cursor::new(data)) {
        for name in archive.names() {
            let _ = archive.read::<f32, Image>(&name);
            let _ = archive.read_pair::<f32, Image, Text>(&name);
            let _ = archive.read_labels(&name);
        }
    }
}

/// A `.safetensors` file: every tensor as embeddings, in f32 and f64.
#[cfg(feature = "safetensors")]
pub fn safetensors(data: &[u8]) {
    use modality_gap::safetensors::Tensors;
    if let Ok(tensors) = Tensors::from_bytes(data.to_vec()) {
        for name in tensors.names() {
            let _ = tensors.read::<f32, Image>(&name);
            let _ = tensors.read::<f64, Text>(&name);
        }
    }
}

/// A `.npy` file mapped into memory (`npy::map`, `npy::map_pair`) agrees with the plain reader
/// on the same bytes: the same values, or the same error (wrapped in the path); or the map
/// refuses data it cannot borrow in place because it is misaligned, which it finds before it
/// reads a value (so whatever the reader says of the values).
#[cfg(feature = "mmap")]
pub fn npy_map(data: &[u8]) {
    use modality_gap::{Error, NpyError};
    fn agree<V: PartialEq + std::fmt::Debug>(mapped: Result<V, Error>, read: Result<V, Error>) {
        match (mapped, read) {
            (Ok(mapped), Ok(read)) => assert_eq!(mapped, read, "mapped and read values differ"),
            (Err(Error::File { source, .. }), read) => match (*source, read) {
                (Error::Npy(NpyError::Misaligned { .. }), _) => {}
                (source, Err(read)) => {
                    assert_eq!(source.to_string(), read.to_string(), "different errors")
                }
                (source, Ok(_)) => panic!("only the map refuses: {source}"),
            },
            (mapped, read) => panic!("mapped {mapped:?}, read {read:?}"),
        }
    }
    // One scratch file per process: libFuzzer and the test harness run inputs one at a time
    // per process, and nothing else writes it while a map of it lives.
    let path = std::env::temp_dir().join(format!("modality-gap-map-{}.npy", std::process::id()));
    std::fs::write(&path, data).expect("the temporary folder is writable");
    // SAFETY: the file is not written again while the mapped sets live (they drop here).
    agree(
        unsafe { npy::map::<f32, Image>(&path) },
        npy::read_from(data),
    );
    // SAFETY: as above.
    let pair = unsafe { npy::map_pair::<f64, Image, Text>(&path) };
    agree(pair, npy::read_pair_from(data));
    std::fs::remove_file(&path).expect("the scratch file was written above");
}

/// The bytes of a sharded part as postcard carries them between processes (feature `serde`),
/// read as a part of every metric: merged with itself (out of order unless it holds no
/// tiles) and finished. A part no plan makes is a typed error, never a panic, and nothing is
/// allocated from the sizes it claims.
#[cfg(feature = "serde")]
pub fn shard_part(data: &[u8]) {
    use modality_gap::shard::{
        AlignmentTile, BatchedContrastiveTile, CkaTile, ContrastiveJackknifeTile, ContrastiveTile,
        CrossEntropies, EffectiveRankTile, HistogramTile, IsoScoreTile, JackknifeTile,
        NeighboursTile, Part, QuantileCountsTile, QuantileSelection, QuantileValuesTile, RanksTile,
        RelativeGapTile, RowSumsTile, SeparabilityTile, SvccaTile, TopKTile, UniformJackknifeTile,
        UniformTile,
    };
    fn read<S: Clone + for<'de> serde::Deserialize<'de>, V>(
        data: &[u8],
        finish: impl Fn(Part<S>) -> modality_gap::Result<V>,
    ) {
        if let Ok(part) = postcard::from_bytes::<Part<S>>(data) {
            let _ = part.clone().merge(part.clone()).map(&finish);
            let _ = finish(part);
        }
    }
    // A value from outside bytes is a typed error or a number, never a NaN.
    fn number(value: f64, metric: &str) -> f64 {
        assert!(!value.is_nan(), "a part of {metric} finished as NaN");
        value
    }
    read(data, |p: Part<UniformTile>| {
        p.finish().map(|v| number(v, "uniformity"))
    });
    read(data, |p: Part<ContrastiveTile<Image, Text>>| {
        p.finish().map(|loss| {
            number(loss.a_to_b, "the contrastive loss")
                + number(loss.b_to_a, "the contrastive loss")
        })
    });
    read(data, |p: Part<BatchedContrastiveTile<Image, Text>>| {
        p.finish().map(|loss| {
            let halves = number(loss.a_to_b, "the batched loss") + loss.b_to_a;
            number(halves + loss.symmetric, "the batched loss")
        })
    });
    read(data, Part::<HistogramTile>::finish);
    read(data, Part::<TopKTile>::finish);
    read(data, Part::<RanksTile<Image, Text>>::finish);
    read(data, |p: Part<EffectiveRankTile>| {
        p.finish().map(|r| number(r.value, "the effective rank"))
    });
    read(data, |p: Part<IsoScoreTile>| {
        p.finish().map(|v| number(v, "IsoScore"))
    });
    read(data, |p: Part<CkaTile>| {
        p.finish().map(|v| number(v, "CKA"))
    });
    read(data, |p: Part<NeighboursTile>| {
        p.finish().map(|v| number(v, "a k-NN alignment"))
    });
    read(data, |p: Part<SvccaTile>| {
        p.finish().map(|v| number(v, "SVCCA"))
    });
    read(data, |p: Part<AlignmentTile>| {
        p.finish().map(|v| number(v, "the alignment loss"))
    });
    read(data, |p: Part<RelativeGapTile>| {
        p.finish().map(|rmg| {
            let terms = [rmg.value, rmg.matched, rmg.within_a, rmg.within_b];
            terms.map(|v| number(v, "the relative gap"))
        })
    });
    read(data, |p: Part<JackknifeTile>| {
        p.finish().map(|jackknife| {
            let e = jackknife.estimate();
            [e.value, e.standard_error].map(|v| number(v, "a jackknife"))
        })
    });
    read(data, |p: Part<ContrastiveTile<Image, Text>>| {
        p.cross_entropies().map(|_| ())
    });
    read(data, |p: Part<UniformJackknifeTile>| {
        p.finish().map(|jackknife| {
            let e = jackknife.estimate();
            [e.value, e.standard_error].map(|v| number(v, "a uniformity's jackknife"))
        })
    });
    read(data, Part::<RowSumsTile<f32, Image>>::finish);
    read(data, Part::<RowSumsTile<f64, Text>>::finish);
    read(data, |p: Part<QuantileCountsTile>| {
        p.finish(&[0.0, 0.3, 1.0])
    });
    // The second round of the quantiles: a selection (broadcast) and a part of its values.
    if let Ok((selection, part)) =
        postcard::from_bytes::<(QuantileSelection, Part<QuantileValuesTile>)>(data)
    {
        let finish = |p: Part<QuantileValuesTile>| p.finish(&selection);
        let _ = part.clone().merge(part.clone()).map(&finish);
        if let Ok(quantiles) = finish(part) {
            quantiles
                .into_iter()
                .for_each(|q| _ = number(q, "a quantile"));
        }
    }
    // The second round of the contrastive loss's jackknife: the cross-entropies (broadcast)
    // and a part.
    type Second = Part<ContrastiveJackknifeTile<Image, Text>>;
    if let Ok((first, part)) = postcard::from_bytes::<(CrossEntropies<Image, Text>, Second)>(data) {
        let finish = |p: Second| p.finish(&first);
        let _ = part.clone().merge(part.clone()).map(&finish);
        if let Ok(jackknife) = finish(part) {
            let e = jackknife.estimate();
            for v in [e.value, e.standard_error] {
                number(v, "the contrastive loss's jackknife");
            }
        }
    }
    if let Ok(part) = postcard::from_bytes::<Part<SeparabilityTile>>(data) {
        separability_rounds(part, number);
    }
}

/// Every round of the separability's fit of two small sets (those of the corpus's seeds),
/// each given `part` (refused, or taken as the round's answer) on a copy of the fit.
fn separability_rounds(
    part: modality_gap::shard::Part<modality_gap::shard::SeparabilityTile>,
    number: fn(f64, &str) -> f64,
) {
    for fit in separability_fits() {
        if let Ok(Some(s)) = fit.clone().advance(part.clone()) {
            number(s.accuracy, "a separability");
            number(s.train_accuracy, "a separability");
        }
    }
}

/// The fit of the sets of [`separability_sets`] before each of its rounds, computed once.
fn separability_fits() -> &'static [modality_gap::shard::SeparabilityFit] {
    use modality_gap::shard::{self, Plan, SeparabilityFit};
    static FITS: std::sync::OnceLock<Vec<SeparabilityFit>> = std::sync::OnceLock::new();
    FITS.get_or_init(|| {
        let (a, b) = separability_sets();
        let plan = Plan::modality_separability(&a, &b).expect("a plan of the sets");
        let mut fit = SeparabilityFit::new(&plan, &a, &b).expect("the sets' fit");
        let mut fits = Vec::new();
        // Newton's method takes at most 100 steps, each of a round of derivatives and at most
        // 35 of the line search: at most 3502 rounds (these sets take 9).
        for _ in 0..3600 {
            fits.push(fit.clone());
            let round = fit.round();
            let own = shard::modality_separability(&plan, &a, &b, &round, 0..plan.tiles())
                .expect("the sets' own part");
            if fit.advance(own).expect("the sets' own round").is_some() {
                return fits;
            }
        }
        panic!("the fit of the sets does not end");
    })
}

/// The two small sets of [`separability_rounds`]: 12 and 10 rows of dimension 3.
pub fn separability_sets() -> (
    modality_gap::UnitEmbeddings<f64, Image>,
    modality_gap::UnitEmbeddings<f64, Text>,
) {
    use modality_gap::{Embeddings, UnitEmbeddings};
    let rows = |n: usize, phase: f64| -> Vec<[f64; 3]> {
        (0..n)
            .map(|i| {
                let t = i as f64 * 0.7 + phase;
                [t.cos(), t.sin(), 0.4 + phase]
            })
            .collect()
    };
    let unit = |rows| UnitEmbeddings::normalize(rows).expect("rows of the unit sphere's");
    (
        unit(Embeddings::from_rows(&rows(12, 0.0)).expect("rows")),
        unit(Embeddings::from_rows(&rows(10, 0.5)).expect("rows")).with_modality(),
    )
}
