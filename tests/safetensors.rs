//! The `.safetensors` reader (feature `safetensors`): a file written by Hugging Face's own
//! writer (`tests/data/make_safetensors.py`), every dtype against its stored values, every
//! typed rejection, and fuzzing (arbitrary bytes and damaged files never panic).
#![cfg(feature = "safetensors")]

use modality_gap::safetensors::{Tensors, encode};
use modality_gap::{Error, Image, SafeTensorsError, Text};
use proptest::prelude::*;

static FILE: &[u8] = include_bytes!("data/embeddings.safetensors");
static EXPECTED: &str = include_str!("data/embeddings_expected.txt");

/// The values `tests/data/make_safetensors.py` stored under `name`, widened to f64.
fn expected(name: &str) -> Vec<f64> {
    let line = EXPECTED
        .lines()
        .find(|l| l.split(' ').next() == Some(name))
        .expect("a line per float tensor");
    line.split(' ')
        .skip(1)
        .map(|v| v.parse().unwrap())
        .collect()
}

#[test]
fn reads_every_float_dtype_of_the_reference_writer_exactly() {
    let tensors = Tensors::from_bytes(FILE.to_vec()).unwrap();
    assert_eq!(
        tensors.names(),
        [
            "image_embeds_bf16",
            "image_embeds_f16",
            "image_embeds_f32",
            "image_embeds_f64",
            "labels"
        ]
    );
    for name in [
        "image_embeds_f32",
        "image_embeds_f64",
        "image_embeds_f16",
        "image_embeds_bf16",
    ] {
        let x = tensors.read::<f64, Image>(name).unwrap();
        assert_eq!(x.shape(), (5, 4), "{name}");
        // Every stored value widens exactly: bit for bit what torch widens it to.
        assert_eq!(x.as_slice(), expected(name).as_slice(), "{name}");
        // In f32 too (each of these values is an f32, except the F64 tensor's, rounded).
        let y = tensors.read::<f32, Text>(name).unwrap();
        for (a, b) in y.as_slice().iter().zip(expected(name)) {
            assert_eq!(*a, b as f32, "{name}");
        }
    }
}

#[test]
fn refuses_what_is_not_embeddings() {
    let tensors = Tensors::from_bytes(FILE.to_vec()).unwrap();
    assert!(matches!(
        tensors.read::<f32, Image>("labels"),
        Err(Error::SafeTensors(SafeTensorsError::UnsupportedDtype { ref dtype, .. })) if dtype == "I64"
    ));
    match tensors.read::<f32, Image>("image_embeds") {
        Err(Error::SafeTensors(SafeTensorsError::MissingTensor { name, available })) => {
            assert_eq!(name, "image_embeds");
            assert_eq!(available.len(), 5);
        }
        other => panic!("{other:?}"),
    }
    let zero = 0f32.to_le_bytes();
    for shape in [&[6][..], &[1, 2, 3], &[0, 3], &[3, 0]] {
        let values: usize = shape.iter().product();
        let file = encode(&[("x", "F32", shape, &zero.repeat(values))]);
        assert!(
            matches!(
                Tensors::from_bytes(file).unwrap().read::<f32, Image>("x"),
                Err(Error::SafeTensors(SafeTensorsError::UnexpectedShape { .. }))
            ),
            "{shape:?}"
        );
    }
    let nan = encode(&[(
        "x",
        "F32",
        &[1, 2],
        &[1f32, f32::NAN].map(f32::to_le_bytes).concat(),
    )]);
    assert!(matches!(
        Tensors::from_bytes(nan).unwrap().read::<f32, Image>("x"),
        Err(Error::NonFinite { row: 0, column: 1 })
    ));
    // The f16 infinity and the bf16 NaN are refused as well.
    let inf = encode(&[("x", "F16", &[1, 1], &0x7c00u16.to_le_bytes())]);
    let bf_nan = encode(&[("x", "BF16", &[1, 1], &0x7fc0u16.to_le_bytes())]);
    for file in [inf, bf_nan] {
        assert!(matches!(
            Tensors::from_bytes(file).unwrap().read::<f64, Image>("x"),
            Err(Error::NonFinite { .. })
        ));
    }
}

#[test]
fn refuses_malformed_files() {
    let malformed = |bytes: Vec<u8>| {
        matches!(
            Tensors::from_bytes(bytes),
            Err(Error::SafeTensors(SafeTensorsError::Malformed { .. }))
        )
    };
    assert!(malformed(vec![]));
    assert!(malformed(FILE[..7].to_vec()), "a truncated length");
    assert!(malformed(FILE[..FILE.len() - 1].to_vec()), "truncated data");
    let mut longer = FILE.to_vec();
    longer.push(0);
    assert!(malformed(longer), "data past the last tensor");
    let mut huge = FILE.to_vec();
    huge[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(malformed(huge), "a header length past the end");
    let mut not_json = FILE.to_vec();
    not_json[8] = b'[';
    assert!(malformed(not_json));
    // Offsets that do not match the dtype and shape.
    assert!(malformed(encode(&[("x", "F32", &[2, 2], &[0; 12])])));
    let missing = Tensors::open("no/such/file.safetensors").unwrap_err();
    assert!(matches!(missing, Error::File { ref source, .. } if matches!(**source, Error::Io(_))));
}

#[test]
fn encode_escapes_names() {
    let name = "a \"quoted\\ name\n";
    let file = encode(&[(name, "F32", &[1, 1], &1f32.to_le_bytes())]);
    let tensors = Tensors::from_bytes(file).unwrap();
    assert_eq!(tensors.names(), [name]);
    assert_eq!(tensors.read::<f32, Image>(name).unwrap().row(0), &[1.0]);
}

#[test]
fn bfloat16_widens_exactly_at_its_edges() {
    // 1, −2, the largest finite bfloat16 (0x7f7f: (2 − 2⁻⁷)·2¹²⁷), the smallest normal (2⁻¹²⁶)
    // and the smallest subnormal (2⁻¹³³).
    let bits = [0x3f80u16, 0xc000, 0x7f7f, 0x0080, 0x0001];
    let file = encode(&[("x", "BF16", &[1, 5], &bits.map(u16::to_le_bytes).concat())]);
    let x = Tensors::from_bytes(file)
        .unwrap()
        .read::<f64, Image>("x")
        .unwrap();
    let expected = [
        1.0,
        -2.0,
        (2.0 - 2f64.powi(-7)) * 2f64.powi(127),
        2f64.powi(-126),
        2f64.powi(-133),
    ];
    assert_eq!(x.row(0), &expected);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Arbitrary bytes: a typed error or a file, never a panic.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(tensors) = Tensors::from_bytes(bytes) {
            for name in tensors.names() {
                let _ = tensors.read::<f32, Image>(&name);
            }
        }
    }

    /// The reference file with bytes overwritten or cut: a typed error or a read, never a
    /// panic, and never a value that the file does not hold (the data part's bytes read as
    /// they are).
    #[test]
    fn damaged_files_never_panic(
        edits in proptest::collection::vec((0..784usize, any::<u8>()), 1..6),
        cut in 0..785usize,
    ) {
        let mut bytes = FILE.to_vec();
        for (at, byte) in edits {
            bytes[at % FILE.len()] = byte;
        }
        bytes.truncate(cut);
        if let Ok(tensors) = Tensors::from_bytes(bytes) {
            for name in tensors.names() {
                if let Ok(x) = tensors.read::<f64, Image>(&name) {
                    prop_assert!(x.as_slice().iter().all(|v| v.is_finite()));
                }
            }
        }
    }
}
