//! `.npz` archives: the arrays of `np.savez` and `np.savez_compressed`, by name, equal to the
//! same arrays saved as `.npy` files (`tests/data/npz/make.py` writes all of them); every
//! failure a typed error; arbitrary and damaged archives never panic.
#![cfg(feature = "npz")]

use std::io::Cursor;
use std::path::PathBuf;

use modality_gap::npy::{self, Npz};
use modality_gap::{Error, Image, NpyError, Text};
use proptest::prelude::*;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/npz")
        .join(name)
}

#[test]
fn stored_and_compressed_archives_read_as_the_npy_files() {
    let img = npy::read::<f64, Image>(fixture("img.npy")).unwrap();
    let txt = npy::read::<f64, Text>(fixture("txt.npy")).unwrap();
    for archive in ["stored.npz", "compressed.npz"] {
        let mut npz = Npz::open(fixture(archive)).unwrap();
        assert_eq!(
            npz.names(),
            ["img.npy", "txt.npy", "pair.npy", "labels.npy"],
            "{archive}"
        );
        // With or without the suffix.
        assert_eq!(npz.read::<f64, Image>("img").unwrap(), img, "{archive}");
        assert_eq!(npz.read::<f64, Text>("txt.npy").unwrap(), txt, "{archive}");
        let (a, b) = npz.read_pair::<f64, Image, Text>("pair").unwrap();
        assert_eq!((a, b), (img.clone(), txt.clone()), "{archive}");
        assert_eq!(npz.read_labels("labels").unwrap(), [3, 0, 2, 2, 1]);
    }
}

#[test]
fn missing_arrays_and_non_archives_are_typed_errors_naming_the_file() {
    let path = fixture("stored.npz");
    let err = Npz::open(&path)
        .unwrap()
        .read::<f32, Image>("image")
        .unwrap_err();
    let Error::File { path: p, source } = &err else {
        panic!("{err}")
    };
    assert_eq!(p, &path);
    assert!(matches!(**source, Error::Npy(NpyError::NoSuchArray { .. })));
    assert!(
        err.to_string().ends_with(
            "the .npz archive has no array \"image\"; it has [\"img.npy\", \"txt.npy\", \"pair.npy\", \"labels.npy\"]"
        ),
        "{err}"
    );
    // An .npy file is not an archive, and an archive is not an .npy file.
    let not_zip = Npz::open(fixture("img.npy")).unwrap_err();
    assert!(
        matches!(&not_zip, Error::File { source, .. } if matches!(**source, Error::Npy(NpyError::Zip { .. }))),
        "{not_zip}"
    );
    assert!(matches!(
        npy::read::<f32, Image>(&path),
        Err(Error::File { source, .. }) if matches!(*source, Error::Npy(NpyError::ZipArchive))
    ));
    // A member of the wrong kind: the .npy readers' own errors.
    assert!(matches!(
        Npz::open(&path).unwrap().read_labels("img"),
        Err(Error::File { source, .. }) if matches!(*source, Error::Npy(NpyError::UnsupportedDtype { .. }))
    ));
}

/// Every reading path of an archive in memory; only a panic would fail.
fn feed(bytes: &[u8]) {
    if let Ok(mut npz) = Npz::new(Cursor::new(bytes)) {
        for name in npz.names() {
            let _ = npz.read::<f32, Image>(&name);
            let _ = npz.read_pair::<f64, Image, Text>(&name);
            let _ = npz.read_labels(&name);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_do_not_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        feed(&bytes);
    }

    #[test]
    fn damaged_archives_do_not_panic(
        compressed in any::<bool>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 0..8),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let name = if compressed { "compressed.npz" } else { "stored.npz" };
        let mut bytes = std::fs::read(fixture(name)).unwrap();
        for (at, mask) in flips {
            let i = at.index(bytes.len());
            bytes[i] ^= mask;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        feed(&bytes);
    }
}
