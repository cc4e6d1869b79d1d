//! Memory-mapped `.npy` input (`--features mmap`): the map borrows the file in place when it
//! can, converts as the plain reader does when it cannot, agrees with the plain reader on
//! every value and every error, and every metric gives the same bits on either.
#![cfg(feature = "mmap")]

use std::path::{Path, PathBuf};

use modality_gap::npy::{map, map_pair, read, read_pair};
use modality_gap::{Embeddings, Error, Image, NpyError, Temperature, Text, UnitEmbeddings};
use proptest::prelude::*;

use crate::common;

use common::{npy_dict, npy_padded};

/// A scratch file holding `bytes`, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str, bytes: &[u8]) -> Self {
        let path = std::env::temp_dir().join(format!(
            "modality-gap-mmap-{}-{name}.npy",
            std::process::id()
        ));
        std::fs::write(&path, bytes).unwrap();
        Self(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The set shares its values with a clone (a mapped region), rather than owning a copy.
fn borrows<M: modality_gap::Modality>(x: &Embeddings<f32, M>) -> bool {
    std::ptr::eq(x.as_slice().as_ptr(), x.clone().as_slice().as_ptr())
}

fn features() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/features_clip.npy"
    ))
}

#[test]
fn the_published_features_are_borrowed_and_every_metric_gives_the_same_bits() {
    let (read_images, read_texts) = read_pair::<f32, Image, Text>(features()).unwrap();
    // SAFETY: the repository's data file is not written while the test runs.
    let (images, texts) = unsafe { map_pair::<f32, Image, Text>(features()) }.unwrap();
    assert!(borrows(&images) && borrows(&texts));
    assert!(!borrows(&read_images), "an owned set copies on clone");
    assert_eq!((&images, &texts), (&read_images, &read_texts));

    // The published features are unit rows to about 3e-4 (stored after a cast): verified in
    // place, still borrowed.
    fn unit<M: modality_gap::Modality>(x: Embeddings<f32, M>) -> UnitEmbeddings<f32, M> {
        UnitEmbeddings::verify_unit(x, 1e-3).unwrap()
    }
    let (images, texts) = (unit(images), unit(texts));
    assert!(borrows(&images));
    let (read_images, read_texts) = (unit(read_images), unit(read_texts));
    let t = Temperature::CLIP;
    let bits = |v: f64| v.to_bits();
    assert_eq!(
        bits(modality_gap::uniform_loss(&images, 2.0).unwrap()),
        bits(modality_gap::uniform_loss(&read_images, 2.0).unwrap())
    );
    assert_eq!(
        modality_gap::contrastive_loss(&images, &texts, t).unwrap(),
        modality_gap::contrastive_loss(&read_images, &read_texts, t).unwrap()
    );
    assert_eq!(
        modality_gap::gap(&images, &texts).unwrap(),
        modality_gap::gap(&read_images, &read_texts).unwrap()
    );
    assert_eq!(
        modality_gap::retrieval_recall(&images, &texts, 5).unwrap(),
        modality_gap::retrieval_recall(&read_images, &read_texts, 5).unwrap()
    );
}

#[test]
fn a_mapped_set_can_be_normalised_selected_and_given_back() {
    let values = [3.0f32, 4.0, 0.0, 2.0, 1.0, 1.0];
    let payload: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let file = Scratch::new(
        "small",
        &npy_padded(&npy_dict("<f4", false, "(3, 2)"), 118, &payload),
    );
    // SAFETY: the scratch file is not written while the sets live.
    let x = unsafe { map::<f32, Image>(&file.0) }.unwrap();
    assert!(borrows(&x));
    assert_eq!(x.select(&[2, 0]).unwrap().as_slice(), &[1.0, 1.0, 3.0, 4.0]);
    let unit = UnitEmbeddings::normalize(x.clone()).unwrap();
    assert_eq!(unit.row(0), &[0.6, 0.8]);
    assert_eq!(x.into_vec(), values);
}

#[test]
fn other_types_orders_and_layouts_are_converted_as_the_reader_converts_them() {
    let half_bits = [0x3c00u16, 0xc000, 0x0001, 0x7bff, 0x3555, 0x8000];
    let halves: Vec<u8> = half_bits.iter().flat_map(|h| h.to_le_bytes()).collect();
    let big_halves: Vec<u8> = half_bits.iter().flat_map(|h| h.to_be_bytes()).collect();
    let big: Vec<u8> = [1.5f32, -2.0, 0.25, 7.0, 1e-3, 3.0]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect();
    let little: Vec<u8> = [1.5f32, -2.0, 0.25, 7.0, 1e-3, 3.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    for (name, descr, fortran, payload) in [
        ("f16", "<f2", false, &halves),
        ("f16_big", ">f2", false, &big_halves),
        ("f32_big", ">f4", false, &big),
        ("fortran", "<f4", true, &little),
    ] {
        let file = Scratch::new(
            name,
            &npy_padded(&npy_dict(descr, fortran, "(3, 2)"), 118, payload),
        );
        // SAFETY: the scratch file is not written while the sets live.
        let mapped = unsafe { map::<f32, Image>(&file.0) }.unwrap();
        assert!(!borrows(&mapped), "{name}: converted into memory");
        assert_eq!(mapped, read::<f32, Image>(&file.0).unwrap(), "{name}");
        // SAFETY: as above.
        let wide = unsafe { map::<f64, Image>(&file.0) }.unwrap();
        assert_eq!(wide, read::<f64, Image>(&file.0).unwrap(), "{name} as f64");
    }
    // float16 widened exactly: 1, −2, the smallest subnormal, the largest half, 1/3 rounded.
    let file = Scratch::new(
        "f16_values",
        &npy_padded(&npy_dict("<f2", false, "(3, 2)"), 118, &halves),
    );
    // SAFETY: as above.
    let x = unsafe { map::<f32, Image>(&file.0) }.unwrap();
    assert_eq!(
        x.as_slice(),
        &[1.0, -2.0, 2f32.powi(-24), 65504.0, 0.333_251_95, -0.0]
    );
}

/// The map's error, unwrapped from the path it names.
fn map_error(bytes: &[u8], name: &str) -> Error {
    let file = Scratch::new(name, bytes);
    // SAFETY: the scratch file is not written while the sets live.
    match unsafe { map::<f32, Text>(&file.0) } {
        Err(Error::File { path, source }) => {
            assert_eq!(path, file.0);
            *source
        }
        other => panic!("{name}: {other:?}"),
    }
}

#[test]
fn misaligned_truncated_long_and_non_finite_files_are_typed_errors() {
    let payload: Vec<u8> = [1.0f32, 2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
    // Data at byte 10 + 63 = 73: the plain reader copies it, the map cannot borrow it.
    let misaligned = npy_padded(&npy_dict("<f4", false, "(1, 2)"), 63, &payload);
    assert!(matches!(
        map_error(&misaligned, "misaligned"),
        Error::Npy(NpyError::Misaligned {
            offset: 73,
            align: 4
        })
    ));
    let aligned = npy_padded(&npy_dict("<f4", false, "(1, 2)"), 118, &payload);
    assert!(matches!(
        map_error(&aligned[..aligned.len() - 1], "truncated"),
        Error::Npy(NpyError::Truncated {
            expected: 136,
            found: 135
        })
    ));
    let mut long = aligned.clone();
    long.push(0);
    assert!(matches!(
        map_error(&long, "long"),
        Error::Npy(NpyError::TrailingBytes { extra: 1 })
    ));
    let nan: Vec<u8> = [1.0f32, f32::NAN]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let nan = npy_padded(&npy_dict("<f4", false, "(1, 2)"), 118, &nan);
    assert!(matches!(
        map_error(&nan, "nan"),
        Error::NonFinite { row: 0, column: 1 }
    ));
    assert!(matches!(
        map_error(b"", "empty"),
        Error::Npy(NpyError::Truncated { .. })
    ));
    // SAFETY: no file, nothing to change.
    let missing = unsafe { map::<f32, Text>("/nonexistent/modality-gap.npy") };
    assert!(matches!(missing, Err(Error::File { .. })));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any aligned f32 or f64 file maps to the values the reader reads, borrowed.
    #[test]
    fn map_agrees_with_read(n in 1usize..20, d in 1usize..9, seed in any::<u64>(), wide in any::<bool>()) {
        let values: Vec<f64> = (0..n * d)
            .map(|k| ((seed.wrapping_add(k as u64 * 0x9e37_79b9)) % 2001) as f64 / 1000.0 - 1.0)
            .collect();
        let (descr, payload): (_, Vec<u8>) = if wide {
            ("<f8", values.iter().flat_map(|v| v.to_le_bytes()).collect())
        } else {
            ("<f4", values.iter().flat_map(|&v| (v as f32).to_le_bytes()).collect())
        };
        let file = Scratch::new(&format!("prop-{n}-{d}-{wide}"), &npy_padded(&npy_dict(descr, false, &format!("({n}, {d})")), 118, &payload));
        // SAFETY: the scratch file is not written while the sets live.
        let mapped64 = unsafe { map::<f64, Image>(&file.0) }.unwrap();
        prop_assert_eq!(&mapped64, &read::<f64, Image>(&file.0).unwrap());
        // SAFETY: as above.
        let mapped32 = unsafe { map::<f32, Image>(&file.0) }.unwrap();
        prop_assert_eq!(borrows(&mapped32), !wide);
        prop_assert_eq!(&mapped32, &read::<f32, Image>(&file.0).unwrap());
    }
}

/// The resident bytes of this process's map of `path` (Linux: its `Rss` in
/// `/proc/self/smaps`).
#[cfg(target_os = "linux")]
fn resident_bytes_of_map(path: &Path) -> u64 {
    let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
    let path = path.to_str().unwrap();
    let mut lines = smaps.lines().skip_while(|line| !line.ends_with(path));
    assert!(lines.next().is_some(), "{path} is mapped");
    let rss = lines.find(|line| line.starts_with("Rss:")).unwrap();
    let kb: u64 = rss.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

#[cfg(target_os = "linux")]
#[test]
fn the_o_nd_sweeps_over_a_mapped_pair_let_its_pages_go_behind_them() {
    // 32 MiB of f32 rows, 4 MiB a chunk of 2048 rows: a sweep that kept its pages would leave
    // the whole map resident.
    let (n, d) = (4 * 2048 + 100, 512);
    let images = common::random_unit::<f32, Image>(n, d, 1.0, 7);
    let texts = common::random_unit::<f32, Text>(n, d, -1.0, 8);
    let payload: Vec<u8> = [images.as_slice(), texts.as_slice()]
        .concat()
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let shape = format!("(2, {n}, {d})");
    let file = Scratch::new(
        "sweeps",
        &npy_padded(&npy_dict("<f4", false, &shape), 118, &payload),
    );
    let map_bytes = payload.len() as u64;
    // SAFETY: the scratch file is not written while the sets live.
    let (x, y) = unsafe { map_pair::<f32, Image, Text>(&file.0) }.unwrap();
    let resident = || resident_bytes_of_map(&file.0);
    // What may stay: a fault near a chunk's end maps up to 64 KiB of the next chunk's pages
    // (the kernel's fault-around), which that chunk may already have let go; about 20 chunk
    // boundaries here, so at most about 1.3 MiB. An eighth of the map leaves room for that.
    let most = map_bytes / 8;
    assert!(
        resident() <= most,
        "after the finiteness check: {}",
        resident()
    );
    let (x, y) = (
        UnitEmbeddings::verify_unit(x, 1e-6).unwrap(),
        UnitEmbeddings::verify_unit(y, 1e-6).unwrap(),
    );
    assert!(resident() <= most, "after verify_unit: {}", resident());
    let gap = modality_gap::gap(&x, &y).unwrap();
    let cone = modality_gap::mean_pairwise_cosine(&x, modality_gap::Diagonal::Excluded).unwrap();
    let align = modality_gap::align_loss(&x, &y, 2.0).unwrap();
    assert!(resident() <= most, "after the metrics: {}", resident());
    // The pages come back when read again, with the same values.
    assert_eq!(gap, modality_gap::gap(&images, &texts).unwrap());
    assert_eq!(
        cone.to_bits(),
        modality_gap::mean_pairwise_cosine(&images, modality_gap::Diagonal::Excluded)
            .unwrap()
            .to_bits()
    );
    assert_eq!(
        align.to_bits(),
        modality_gap::align_loss(&images, &texts, 2.0)
            .unwrap()
            .to_bits()
    );
    assert_eq!((&x, &y), (&images, &texts));
    assert!(
        resident() >= map_bytes,
        "a plain read of every value keeps its pages"
    );
}
