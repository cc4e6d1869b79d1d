//! The `.npy` reader through the public API: round trips, every typed rejection, and fuzzing.

use std::fmt::Debug;
use std::io::{self, Read};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use modality_gap::npy::{
    read, read_finite_rows, read_finite_rows_from, read_from, read_labels, read_labels_from,
    read_pair, read_pair_finite_rows_from, read_pair_from,
};
use modality_gap::{Embeddings, Error, Image, NpyError, Text};
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A `.npy` file: magic, version, the header length field (2 bytes LE for 1.0, 4 bytes LE
/// otherwise, computed here), the header text verbatim, then the payload.
fn npy(major: u8, minor: u8, header: &str, payload: &[u8]) -> Vec<u8> {
    let mut file = b"\x93NUMPY".to_vec();
    file.extend_from_slice(&[major, minor]);
    if (major, minor) == (1, 0) {
        let len = u16::try_from(header.len()).expect("v1.0 header fits in u16");
        file.extend_from_slice(&len.to_le_bytes());
    } else {
        let len = u32::try_from(header.len()).expect("header fits in u32");
        file.extend_from_slice(&len.to_le_bytes());
    }
    file.extend_from_slice(header.as_bytes());
    file.extend_from_slice(payload);
    file
}

/// The header numpy writes: the dict, space-padded and newline-terminated so the data starts
/// at a multiple of 64 bytes (for a version 1.0 file).
fn dict(descr: &str, shape: &str) -> String {
    let mut h = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    h
}

/// A version 1.0 file with the standard header.
fn file(descr: &str, shape: &str, payload: &[u8]) -> Vec<u8> {
    npy(1, 0, &dict(descr, shape), payload)
}

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn f64_bytes(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Where the data starts, read from the file's own version and header length field.
fn data_offset(file: &[u8]) -> usize {
    match file[6] {
        1 => 10 + usize::from(u16::from_le_bytes([file[8], file[9]])),
        _ => 12 + u32::from_le_bytes([file[8], file[9], file[10], file[11]]) as usize,
    }
}

/// The `NpyError` inside a failed result (through the file a path reader names); panics on
/// success or on any other error.
fn npy_err<T: Debug>(result: Result<T, Error>) -> NpyError {
    match result {
        Err(Error::Npy(e)) => e,
        Err(Error::File { source, .. }) => npy_err::<T>(Err(*source)),
        other => panic!("expected Error::Npy, got {other:?}"),
    }
}

fn read2(bytes: &[u8]) -> Result<Embeddings<f64, Text>, Error> {
    read_from::<f64, Text, _>(bytes)
}

type Pair = (Embeddings<f64, Image>, Embeddings<f64, Text>);

fn read_pair2(bytes: &[u8]) -> Result<Pair, Error> {
    read_pair_from::<f64, Image, Text, _>(bytes)
}

fn bad_header(reason: &'static str) -> NpyError {
    NpyError::BadHeader { reason }
}

const NK: &str = "(n, d) with n, d ≥ 1";
const PAIR: &str = "[2, n, d] with n, d ≥ 1";

/// A temporary file removed on drop; the name carries the process id and a tag.
struct TempFile(PathBuf);

impl TempFile {
    fn new(tag: &str, bytes: &[u8]) -> Self {
        let path = std::env::temp_dir().join(format!(
            "modality_gap_npy_test_{}_{tag}.npy",
            std::process::id()
        ));
        std::fs::write(&path, bytes).expect("write temp file");
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Hands out one byte per `read` call, with an `Interrupted` error before each.
struct Trickle<'a> {
    bytes: &'a [u8],
    interrupt: bool,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.interrupt = !self.interrupt;
        if self.interrupt {
            return Err(io::ErrorKind::Interrupted.into());
        }
        match (self.bytes.split_first(), buf.first_mut()) {
            (Some((&b, rest)), Some(slot)) => {
                *slot = b;
                self.bytes = rest;
                Ok(1)
            }
            _ => Ok(0),
        }
    }
}

/// Fails every read.
struct Broken;

impl Read for Broken {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(io::Error::other("disk on fire"))
    }
}

// ---------------------------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------------------------

#[test]
fn f32_file_reads_as_f32_and_f64() {
    let values = [1.5f32, -2.25, 0.1, 3.0e-30, 7.0, -0.0];
    let bytes = file("<f4", "(3, 2)", &f32_bytes(&values));

    let x = read_from::<f32, Image, _>(&bytes[..]).unwrap();
    assert_eq!((x.len(), x.dim()), (3, 2));
    assert_eq!(x.as_slice(), &values);
    assert_eq!(x.row(1), &[0.1, 3.0e-30]);

    let y = read_from::<f64, Image, _>(&bytes[..]).unwrap();
    let widened: Vec<f64> = values.iter().map(|&v| f64::from(v)).collect();
    assert_eq!(y.as_slice(), &widened[..]);
}

#[test]
fn f64_file_reads_as_f64_and_rounds_to_f32() {
    let values = [
        0.1f64,
        1.0 / 3.0,
        -2.5,
        1.0e-40,
        123_456_789.123_456_79,
        1.0 + 1e-12,
    ];
    let bytes = file("<f8", "(2, 3)", &f64_bytes(&values));

    let x = read_from::<f64, Text, _>(&bytes[..]).unwrap();
    assert_eq!((x.len(), x.dim()), (2, 3));
    assert_eq!(x.as_slice(), &values);

    let y = read_from::<f32, Text, _>(&bytes[..]).unwrap();
    let rounded: Vec<f32> = values.iter().map(|&v| v as f32).collect();
    assert_eq!(y.as_slice(), &rounded[..]);
    assert_eq!(y.row(0), &[0.1f32, (1.0f64 / 3.0) as f32, -2.5]);
}

#[test]
fn pair_file_splits_rows_between_modalities() {
    let (n, d) = (3, 4);
    let values: Vec<f32> = (0..2 * n * d).map(|k| k as f32 + 0.5).collect();
    let bytes = file("<f4", "(2, 3, 4)", &f32_bytes(&values));

    let (a, b) = read_pair_from::<f32, Image, Text, _>(&bytes[..]).unwrap();
    assert_eq!((a.len(), a.dim(), b.len(), b.dim()), (n, d, n, d));
    for i in 0..n {
        assert_eq!(
            a.row(i),
            &values[i * d..(i + 1) * d],
            "first modality row {i}"
        );
        let j = n * d + i * d;
        assert_eq!(b.row(i), &values[j..j + d], "second modality row {i}");
    }
    assert_eq!(a.modality(), "image");
    assert_eq!(b.modality(), "text");
}

#[test]
fn pair_file_f64_reads_as_f32() {
    let values = [0.1f64, 0.2, 0.3, 0.4];
    let bytes = file("<f8", "(2, 1, 2)", &f64_bytes(&values));
    let (a, b) = read_pair_from::<f32, Image, Text, _>(&bytes[..]).unwrap();
    assert_eq!(a.row(0), &[0.1f64 as f32, 0.2f64 as f32]);
    assert_eq!(b.row(0), &[0.3f64 as f32, 0.4f64 as f32]);
}

#[test]
fn versions_2_and_3_are_read() {
    let values = [1.0f64, 2.0, 3.0, 4.0];
    for (major, minor) in [(2, 0), (3, 0)] {
        let bytes = npy(major, minor, &dict("<f8", "(2, 2)"), &f64_bytes(&values));
        assert_eq!(data_offset(&bytes), 12 + dict("<f8", "(2, 2)").len());
        let x = read2(&bytes).unwrap();
        assert_eq!(x.as_slice(), &values, "version {major}.{minor}");
    }
}

#[test]
fn double_quotes_and_odd_whitespace_are_accepted() {
    let values = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
    let headers = [
        "{ \"descr\" :\"<f4\",\t\"fortran_order\":False ,\"shape\":( 3 ,\n2 ) }",
        "{\"shape\":(3,2),'fortran_order':False,\"descr\":'<f4'}\n\n  \t",
        "{'descr':'<f4','fortran_order':False,'shape':(3,2),}",
    ];
    for h in headers {
        let x = read_from::<f32, Image, _>(&npy(1, 0, h, &f32_bytes(&values))[..])
            .unwrap_or_else(|e| panic!("header {h:?}: {e}"));
        assert_eq!((x.len(), x.dim()), (3, 2));
        assert_eq!(x.as_slice(), &values);
    }
}

#[test]
fn shape_with_and_without_trailing_comma() {
    let values = [1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0];
    for shape in ["(3, 2)", "(3,2,)"] {
        let x = read2(&file("<f8", shape, &f64_bytes(&values))).unwrap();
        assert_eq!((x.len(), x.dim()), (3, 2), "shape {shape}");
        assert_eq!(x.row(2), &[5.0, 6.0]);
    }
}

#[test]
fn one_byte_reads_and_interrupts_are_handled() {
    let values = [0.25f32, 0.5, 0.75, 1.0];
    let bytes = file("<f4", "(2, 2, 1)", &f32_bytes(&values));
    let reader = Trickle {
        bytes: &bytes,
        interrupt: false,
    };
    let (a, b) = read_pair_from::<f32, Image, Text, _>(reader).unwrap();
    assert_eq!(a.as_slice(), &[0.25, 0.5]);
    assert_eq!(b.as_slice(), &[0.75, 1.0]);
}

// ---------------------------------------------------------------------------------------------
// Rejections: magic, version, header length
// ---------------------------------------------------------------------------------------------

#[test]
fn bad_magic() {
    let mut bytes = file("<f4", "(1, 1)", &f32_bytes(&[1.0]));
    bytes[1] = b'n';
    assert_eq!(npy_err(read2(&bytes)), NpyError::BadMagic);
    let text = b"just some text, not a numpy file at all";
    assert_eq!(npy_err(read2(text)), NpyError::BadMagic);
}

#[test]
fn unsupported_versions() {
    for (major, minor) in [(4, 0), (1, 1), (0, 0), (2, 1), (255, 255)] {
        let bytes = npy(major, minor, &dict("<f4", "(1, 1)"), &f32_bytes(&[1.0]));
        assert_eq!(
            npy_err(read2(&bytes)),
            NpyError::UnsupportedVersion { major, minor }
        );
    }
}

#[test]
fn header_too_long_without_the_header_bytes() {
    // Only magic, version and a 4-byte length field announcing 1 000 000 header bytes.
    let mut bytes = b"\x93NUMPY\x02\x00".to_vec();
    bytes.extend_from_slice(&1_000_000u32.to_le_bytes());
    assert_eq!(bytes.len(), 12);
    let expected = NpyError::HeaderTooLong {
        length: 1_000_000,
        limit: 65_536,
    };
    assert_eq!(npy_err(read2(&bytes)), expected);
    assert_eq!(npy_err(read_pair2(&bytes)), expected);
}

#[test]
fn header_length_limit_is_inclusive() {
    let mut at_limit = b"\x93NUMPY\x03\x00".to_vec();
    at_limit.extend_from_slice(&65_536u32.to_le_bytes());
    // At the limit the reader goes on to read the header, and finds it missing.
    assert_eq!(
        npy_err(read2(&at_limit)),
        NpyError::Truncated {
            expected: 12 + 65_536,
            found: 12
        }
    );
    let mut over = b"\x93NUMPY\x03\x00".to_vec();
    over.extend_from_slice(&65_537u32.to_le_bytes());
    assert_eq!(
        npy_err(read2(&over)),
        NpyError::HeaderTooLong {
            length: 65_537,
            limit: 65_536
        }
    );
}

// ---------------------------------------------------------------------------------------------
// Rejections: the header dict
// ---------------------------------------------------------------------------------------------

fn header_error(header: &str) -> NpyError {
    npy_err(read2(&npy(1, 0, header, &f64_bytes(&[1.0, 2.0]))))
}

#[test]
fn unknown_key() {
    assert_eq!(
        header_error("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), 'extra': 1}"),
        bad_header("unknown key")
    );
}

#[test]
fn duplicate_key() {
    assert_eq!(
        header_error("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), 'descr': '<f8'}"),
        bad_header("duplicate key")
    );
    assert_eq!(
        header_error("{'shape': (1, 2), 'descr': '<f8', 'fortran_order': False, 'shape': (1, 2)}"),
        bad_header("duplicate key")
    );
}

#[test]
fn missing_keys() {
    assert_eq!(
        header_error("{'fortran_order': False, 'shape': (1, 2), }"),
        bad_header("missing 'descr'")
    );
    assert_eq!(
        header_error("{'descr': '<f8', 'fortran_order': False, }"),
        bad_header("missing 'shape'")
    );
    assert_eq!(
        header_error("{'descr': '<f8', 'shape': (1, 2), }"),
        bad_header("missing 'fortran_order'")
    );
    assert_eq!(header_error("{}"), bad_header("missing 'descr'"));
}

#[test]
fn non_integer_shape_entries() {
    let not_integer = bad_header("a 'shape' entry is not a non-negative integer");
    for shape in [
        "(1, x)", "(1, -2)", "(1, 'a')", "(0x1, 2)", "(, 2)", "(1, 2,,)",
    ] {
        let h = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}}}");
        assert_eq!(header_error(&h), not_integer, "shape {shape}");
    }
    // "2.0" reads as the integer 2 followed by a stray '.'.
    assert_eq!(
        header_error("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2.0)}"),
        bad_header("expected ',' or ')' in 'shape'")
    );
    assert_eq!(
        header_error("{'descr': '<f8', 'fortran_order': False, 'shape': [1, 2]}"),
        bad_header("'shape' is not a tuple")
    );
}

#[test]
fn shape_entry_beyond_u64_and_too_many_axes() {
    assert_eq!(
        header_error(
            "{'descr': '<f8', 'fortran_order': False, 'shape': (18446744073709551616, 1)}"
        ),
        bad_header("a 'shape' entry does not fit in 64 bits")
    );
    let axes = vec!["1"; 33].join(", ");
    let h = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': ({axes})}}");
    assert_eq!(
        header_error(&h),
        bad_header("'shape' has more than 32 axes")
    );
}

#[test]
fn unterminated_string() {
    assert_eq!(
        header_error("{'descr': '<f8"),
        bad_header("unterminated string")
    );
    assert_eq!(
        header_error("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), 'sha}"),
        bad_header("unterminated string")
    );
    assert_eq!(
        header_error("{\"descr': '<f8'}"),
        bad_header("unterminated string")
    );
}

#[test]
fn text_after_closing_brace() {
    assert_eq!(
        header_error("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), } x\n"),
        bad_header("text after the closing '}'")
    );
    assert_eq!(
        header_error("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2)}}"),
        bad_header("text after the closing '}'")
    );
}

#[test]
fn other_malformed_dicts() {
    assert_eq!(header_error(""), bad_header("expected '{'"));
    assert_eq!(header_error("descr"), bad_header("expected '{'"));
    assert_eq!(
        header_error("{'descr': '<f8' 'shape': (1, 2)}"),
        bad_header("expected ',' or '}'")
    );
    assert_eq!(
        header_error("{'descr': '<f8', 'fortran_order': false, 'shape': (1, 2)}"),
        bad_header("'fortran_order' is not True or False")
    );
    // A missing closing quote swallows up to the next quote, and the dict goes astray.
    assert_eq!(
        header_error("{'descr': '<f8, 'fortran_order': False, 'shape': (1, 2)}"),
        bad_header("expected ',' or '}'")
    );
    assert_eq!(
        header_error("{descr: '<f8'}"),
        bad_header("expected a quoted string")
    );
}

#[test]
fn unsupported_dtypes() {
    for descr in ["<i8", "<f16", "|u1", "f4", "|f2", "<c8", "=f4"] {
        let bytes = file(descr, "(1, 2)", &f64_bytes(&[1.0, 2.0]));
        assert_eq!(
            npy_err(read2(&bytes)),
            NpyError::UnsupportedDtype {
                descr: descr.to_owned(),
                supported: "floats: '<f2', '<f4', '<f8' and the big-endian '>f2', '>f4', '>f8'",
            }
        );
    }
    // The message is the interface: it says what the reader takes and how to convert.
    let bytes = file("<i8", "(1, 2)", &f64_bytes(&[1.0, 2.0]));
    assert_eq!(
        read2(&bytes).unwrap_err().to_string(),
        "unsupported dtype \"<i8\": this reader takes floats: '<f2', '<f4', '<f8' and the \
         big-endian '>f2', '>f4', '>f8'; convert with x.astype(np.float32) (labels: np.int64)"
    );
}

/// Every float dtype and byte order reads the same values: f16 widened exactly.
#[test]
fn half_precision_and_big_endian_floats_read_exactly() {
    // Halves: 1, −2, 65504 (the largest), 2⁻¹⁴ (the smallest normal), 2⁻²⁴ (the smallest
    // subnormal), 1/3 rounded (0x3555 = 0.333251953125).
    let halves: [u16; 6] = [0x3c00, 0xc000, 0x7bff, 0x0400, 0x0001, 0x3555];
    let expected = [
        1.0,
        -2.0,
        65504.0,
        2f64.powi(-14),
        2f64.powi(-24),
        0.333251953125,
    ];
    let little: Vec<u8> = halves.iter().flat_map(|h| h.to_le_bytes()).collect();
    let big: Vec<u8> = halves.iter().flat_map(|h| h.to_be_bytes()).collect();
    for (descr, bytes) in [("<f2", &little), (">f2", &big)] {
        let x = read_from::<f64, Image, _>(&file(descr, "(2, 3)", bytes)[..]).unwrap();
        assert_eq!(x.as_slice(), &expected, "{descr}");
        let x = read_from::<f32, Image, _>(&file(descr, "(2, 3)", bytes)[..]).unwrap();
        let widened: Vec<f64> = x.as_slice().iter().map(|&v| f64::from(v)).collect();
        assert_eq!(widened, expected, "{descr} as f32");
    }
    let values = [0.1f64, -2.5e300, 3.0, 1e-310];
    let be64: Vec<u8> = values.iter().flat_map(|v| v.to_be_bytes()).collect();
    let x = read_from::<f64, Image, _>(&file(">f8", "(2, 2)", &be64)[..]).unwrap();
    assert_eq!(x.as_slice(), &values);
    let values32 = [0.1f32, -2.5e30, 3.0, 1e-40];
    let be32: Vec<u8> = values32.iter().flat_map(|v| v.to_be_bytes()).collect();
    let x = read_from::<f32, Image, _>(&file(">f4", "(2, 2)", &be32)[..]).unwrap();
    assert_eq!(x.as_slice(), &values32);
    // A half infinity or NaN is a non-finite value like any other.
    let inf: Vec<u8> = [0x3c00u16, 0x7c00]
        .iter()
        .flat_map(|h| h.to_le_bytes())
        .collect();
    assert!(matches!(
        read_from::<f32, Image, _>(&file("<f2", "(1, 2)", &inf)[..]),
        Err(Error::NonFinite { row: 0, column: 1 })
    ));
}

/// Every one of the 65536 halves widens to the value its bits define: sign · 2^(e−15) ·
/// (1 + m/1024) for normals, sign · m · 2⁻²⁴ for subnormals, built here from the f64 bit
/// pattern (a different path from the reader's arithmetic).
#[test]
fn every_half_widens_exactly() {
    let bytes: Vec<u8> = (0..=u16::MAX).flat_map(|h| h.to_le_bytes()).collect();
    // Read as one (65536, 1) array; non-finite halves (e = 31) stop a read, so read the
    // finite ones only.
    let finite: Vec<u16> = (0..=u16::MAX).filter(|h| (h >> 10) & 0x1f != 31).collect();
    let finite_bytes: Vec<u8> = finite.iter().flat_map(|h| h.to_le_bytes()).collect();
    let shape = format!("({}, 1)", finite.len());
    let x = read_from::<f64, Image, _>(&file("<f2", &shape, &finite_bytes)[..]).unwrap();
    for (&h, &got) in finite.iter().zip(x.as_slice()) {
        let sign = u64::from(h >> 15) << 63;
        let (e, m) = (u64::from((h >> 10) & 0x1f), u64::from(h & 0x3ff));
        let want = if e == 0 {
            f64::from_bits(sign) + (if sign == 0 { 1.0 } else { -1.0 }) * (m as f64) / 16_777_216.0
        } else {
            f64::from_bits(sign | ((e + 1023 - 15) << 52) | (m << 42))
        };
        assert_eq!(got.to_bits(), want.to_bits(), "half {h:#06x}");
    }
    assert_eq!(bytes.len(), 2 * 65536);
}

/// Fortran order is transposed on read: the same values as the C-order file.
#[test]
fn fortran_order_is_transposed_on_read() {
    let fortran = |descr: &str, shape: &str, payload: &[u8]| {
        let header = format!("{{'descr': '{descr}', 'fortran_order': True, 'shape': {shape}, }}");
        npy(1, 0, &header, payload)
    };
    // (2, 3) [[1, 2, 3], [4, 5, 6]] is stored column by column: 1 4 2 5 3 6.
    let x = read_from::<f64, Image, _>(
        &fortran("<f8", "(2, 3)", &f64_bytes(&[1.0, 4.0, 2.0, 5.0, 3.0, 6.0]))[..],
    )
    .unwrap();
    assert_eq!(x.as_slice(), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    // [2, 2, 3]: element (k, i, j) at k + 2·(i + 2·j) in Fortran order.
    let c_values: Vec<f64> = (0..12).map(f64::from).collect();
    let mut stored = vec![0.0; 12];
    for k in 0..2 {
        for i in 0..2 {
            for j in 0..3 {
                stored[k + 2 * (i + 2 * j)] = c_values[(k * 2 + i) * 3 + j];
            }
        }
    }
    let (a, b) = read_pair_from::<f64, Image, Text, _>(
        &fortran("<f8", "(2, 2, 3)", &f64_bytes(&stored))[..],
    )
    .unwrap();
    assert_eq!(a.as_slice(), &c_values[..6]);
    assert_eq!(b.as_slice(), &c_values[6..]);
    // 1-D labels are the same in either order.
    let labels = fortran(
        "<i8",
        "(3,)",
        &[2i64, 0, 1]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<_>>(),
    );
    assert_eq!(read_labels_from(&labels[..]).unwrap(), [2, 0, 1]);
}

/// An .npz archive is recognised and the message says what to do.
#[test]
fn npz_archives_are_named_as_such() {
    let zip = b"PK\x03\x04\x14\x00\x00\x00\x08\x00rest of an archive".to_vec();
    assert_eq!(npy_err(read2(&zip)), NpyError::ZipArchive);
    assert_eq!(
        read2(&zip).unwrap_err().to_string(),
        "this is an .npz archive (np.savez), not an .npy file: read its arrays by name with npy::Npz"
    );
    assert_eq!(npy_err(read2(b"PK\x05\x06\0\0\0\0")), NpyError::ZipArchive);
}

// ---------------------------------------------------------------------------------------------
// Labels
// ---------------------------------------------------------------------------------------------

/// The zero-shot case's labels (int64, as numpy saves them by default) read back exactly.
#[test]
fn oracle_labels_read_as_saved() {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/oracle/zeroshot_n200_c10_d16");
    let raw = std::fs::read(dir.join("labels.i64")).unwrap();
    let expected: Vec<usize> = raw
        .chunks_exact(8)
        .map(|b| usize::try_from(i64::from_le_bytes(b.try_into().unwrap())).unwrap())
        .collect();
    let bytes = file("<i8", &format!("({},)", expected.len()), &raw);
    assert_eq!(read_labels_from(&bytes[..]).unwrap(), expected);
    let path = TempFile::new("labels", &bytes);
    assert_eq!(read_labels(&path.0).unwrap(), expected);
}

#[test]
fn every_integer_width_reads_labels() {
    let labels = [0u8, 1, 127, 2];
    for (descr, width, signed) in [
        ("<i8", 8, true),
        ("<i4", 4, true),
        ("<i2", 2, true),
        ("|i1", 1, true),
        ("<u8", 8, false),
        ("<u4", 4, false),
        ("<u2", 2, false),
        ("|u1", 1, false),
    ] {
        let payload: Vec<u8> = labels
            .iter()
            .flat_map(|&v| {
                let mut b = vec![0u8; width];
                b[0] = v;
                b
            })
            .collect();
        let bytes = file(descr, "(4,)", &payload);
        assert_eq!(
            read_labels_from(&bytes[..]).unwrap(),
            [0, 1, 127, 2],
            "{descr} signed {signed}"
        );
    }
    // The largest unsigned 64-bit value fits a 64-bit usize.
    let bytes = file("<u8", "(1,)", &u64::MAX.to_le_bytes());
    assert_eq!(
        read_labels_from(&bytes[..]).unwrap(),
        [usize::try_from(u64::MAX).unwrap()]
    );
}

#[test]
fn negative_labels_and_wrong_arrays_are_rejected() {
    let negative: Vec<u8> = [3i64, -1].iter().flat_map(|v| v.to_le_bytes()).collect();
    let bytes = file("<i8", "(2,)", &negative);
    assert_eq!(
        npy_err(read_labels_from(&bytes[..])),
        NpyError::NegativeLabel {
            index: 1,
            value: -1
        }
    );
    let bytes = file("|i1", "(1,)", &[0x80]);
    assert_eq!(
        npy_err(read_labels_from(&bytes[..])),
        NpyError::NegativeLabel {
            index: 0,
            value: -128
        }
    );
    let bytes = file("<i2", "(1,)", &i16::MIN.to_le_bytes());
    assert_eq!(
        npy_err(read_labels_from(&bytes[..])),
        NpyError::NegativeLabel {
            index: 0,
            value: -32768
        }
    );
    // Float labels and 16-byte integers: not labels. Floats as embeddings only.
    for descr in ["<f8", "<i16", "|i8"] {
        let bytes = file(descr, "(1,)", &[0; 8]);
        assert!(matches!(
            npy_err(read_labels_from(&bytes[..])),
            NpyError::UnsupportedDtype { descr: d, .. } if d == descr
        ));
    }
    // Labels as embeddings: an integer dtype is not a float one.
    let bytes = file("<i8", "(1, 1)", &[0; 8]);
    assert!(matches!(
        npy_err(read2(&bytes)),
        NpyError::UnsupportedDtype { .. }
    ));
    // Not one axis, or an empty one.
    for shape in ["(2, 1)", "(0,)", "()"] {
        let bytes = file("<i8", shape, &[0; 16]);
        assert!(
            matches!(
                npy_err(read_labels_from(&bytes[..])),
                NpyError::UnexpectedShape {
                    expected: "(n,) with n ≥ 1",
                    ..
                }
            ),
            "{shape}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Rejections: shape
// ---------------------------------------------------------------------------------------------

fn shape_error(shape: &str, values: usize, pair: bool) -> NpyError {
    let bytes = file("<f8", shape, &f64_bytes(&vec![1.0; values]));
    if pair {
        npy_err(read_pair2(&bytes))
    } else {
        npy_err(read2(&bytes))
    }
}

fn unexpected(shape: &[u64], expected: &'static str) -> NpyError {
    NpyError::UnexpectedShape {
        shape: shape.to_vec(),
        expected,
    }
}

#[test]
fn rank_1_and_rank_0_are_rejected() {
    assert_eq!(shape_error("(4,)", 4, false), unexpected(&[4], NK));
    assert_eq!(shape_error("()", 1, false), unexpected(&[], NK));
    assert_eq!(shape_error("(4,)", 4, true), unexpected(&[4], PAIR));
}

#[test]
fn rank_3_is_rejected_by_from_reader() {
    assert_eq!(
        shape_error("(2, 3, 2)", 12, false),
        unexpected(&[2, 3, 2], NK)
    );
}

#[test]
fn rank_2_is_rejected_by_pair_from_reader() {
    assert_eq!(shape_error("(3, 2)", 6, true), unexpected(&[3, 2], PAIR));
}

#[test]
fn pair_needs_first_axis_2() {
    assert_eq!(
        shape_error("(3, 2, 2)", 12, true),
        unexpected(&[3, 2, 2], PAIR)
    );
    assert_eq!(
        shape_error("(1, 2, 2)", 4, true),
        unexpected(&[1, 2, 2], PAIR)
    );
    assert_eq!(
        shape_error("(2, 1, 2, 1)", 4, true),
        unexpected(&[2, 1, 2, 1], PAIR)
    );
}

#[test]
fn zero_size_axes_are_rejected() {
    assert_eq!(shape_error("(0, 4)", 0, false), unexpected(&[0, 4], NK));
    assert_eq!(shape_error("(4, 0)", 0, false), unexpected(&[4, 0], NK));
    assert_eq!(
        shape_error("(2, 0, 4)", 0, true),
        unexpected(&[2, 0, 4], PAIR)
    );
    assert_eq!(
        shape_error("(2, 4, 0)", 0, true),
        unexpected(&[2, 4, 0], PAIR)
    );
    // The shape is judged before the data is read.
    assert_eq!(shape_error("(0, 4)", 1, false), unexpected(&[0, 4], NK));
}

#[test]
fn shape_overflow() {
    for (shape, axes) in [
        ("(18446744073709551615, 2)", vec![u64::MAX, 2]),
        ("(4294967296, 4294967296)", vec![1 << 32, 1 << 32]),
        // 8 · (2^61 − 1) = 2^64 − 8 bytes fits in u64, but not once the header is added.
        ("(2305843009213693951, 1)", vec![(1 << 61) - 1, 1]),
    ] {
        let expected = NpyError::ShapeOverflow { shape: axes };
        assert_eq!(shape_error(shape, 0, false), expected, "shape {shape}");
    }
    assert_eq!(
        shape_error("(2, 4294967296, 4294967296)", 0, true),
        NpyError::ShapeOverflow {
            shape: vec![2, 1 << 32, 1 << 32]
        }
    );
    // Same rule for float32: 4 · 2^62 = 2^64.
    let bytes = file("<f4", "(4611686018427387904, 1)", &[]);
    assert_eq!(
        npy_err(read2(&bytes)),
        NpyError::ShapeOverflow {
            shape: vec![1 << 62, 1]
        }
    );
}

// ---------------------------------------------------------------------------------------------
// Rejections: file length
// ---------------------------------------------------------------------------------------------

#[test]
fn truncated_inside_the_magic() {
    let full = file("<f4", "(1, 2)", &f32_bytes(&[1.0, 2.0]));
    for cut in 0..8 {
        assert_eq!(
            npy_err(read2(&full[..cut])),
            NpyError::Truncated {
                expected: 8,
                found: cut as u64
            },
            "cut at {cut}"
        );
    }
}

#[test]
fn truncated_inside_the_length_field() {
    let v1 = file("<f4", "(1, 2)", &f32_bytes(&[1.0, 2.0]));
    assert_eq!(
        npy_err(read2(&v1[..9])),
        NpyError::Truncated {
            expected: 10,
            found: 9
        }
    );
    let v2 = npy(2, 0, &dict("<f4", "(1, 2)"), &f32_bytes(&[1.0, 2.0]));
    assert_eq!(
        npy_err(read2(&v2[..10])),
        NpyError::Truncated {
            expected: 12,
            found: 10
        }
    );
}

#[test]
fn truncated_inside_the_header() {
    let full = file("<f4", "(1, 2)", &f32_bytes(&[1.0, 2.0]));
    let offset = data_offset(&full) as u64;
    assert_eq!(offset, 128);
    for cut in [10, 11, 70, 127] {
        assert_eq!(
            npy_err(read2(&full[..cut])),
            NpyError::Truncated {
                expected: offset,
                found: cut as u64
            },
            "cut at {cut}"
        );
    }
}

#[test]
fn truncated_inside_the_data() {
    let values: Vec<f64> = (0..6).map(f64::from).collect();
    let full = file("<f8", "(3, 2)", &f64_bytes(&values));
    let offset = data_offset(&full) as u64;
    assert_eq!(full.len() as u64, offset + 48);
    for cut in [offset, offset + 1, offset + 8, offset + 47] {
        assert_eq!(
            npy_err(read2(&full[..cut as usize])),
            NpyError::Truncated {
                expected: offset + 48,
                found: cut
            },
            "cut at {cut}"
        );
    }
    // The same for a pair in a version 2.0 file.
    let full = npy(2, 0, &dict("<f4", "(2, 1, 3)"), &f32_bytes(&[1.0; 6]));
    let offset = data_offset(&full) as u64;
    assert_eq!(
        npy_err(read_pair2(&full[..full.len() - 5])),
        NpyError::Truncated {
            expected: offset + 24,
            found: offset + 19
        }
    );
}

#[test]
fn trailing_bytes() {
    let mut bytes = file("<f4", "(1, 2)", &f32_bytes(&[1.0, 2.0]));
    bytes.extend_from_slice(&[0; 7]);
    assert_eq!(npy_err(read2(&bytes)), NpyError::TrailingBytes { extra: 7 });
    let mut bytes = file("<f8", "(2, 1, 1)", &f64_bytes(&[1.0, 2.0]));
    bytes.push(b'\n');
    assert_eq!(
        npy_err(read_pair2(&bytes)),
        NpyError::TrailingBytes { extra: 1 }
    );
}

#[test]
fn absurd_header_does_not_allocate() {
    // 10^9 × 10^6 float64 = 8 TB announced, 16 bytes present.
    let bytes = file("<f8", "(1000000000, 1000000)", &f64_bytes(&[1.0, 2.0]));
    let offset = data_offset(&bytes) as u64;
    let start = Instant::now();
    let err = npy_err(read2(&bytes));
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(
        err,
        NpyError::Truncated {
            expected: offset + 8_000_000_000_000_000,
            found: offset + 16
        }
    );
    let bytes = file("<f4", "(2, 1000000000, 1000000)", &f32_bytes(&[1.0; 4]));
    let offset = data_offset(&bytes) as u64;
    assert_eq!(
        npy_err(read_pair2(&bytes)),
        NpyError::Truncated {
            expected: offset + 8_000_000_000_000_000,
            found: offset + 16
        }
    );
}

// ---------------------------------------------------------------------------------------------
// Values and I/O errors
// ---------------------------------------------------------------------------------------------

#[test]
fn nan_and_infinity_are_located() {
    let mut values = vec![0.5f32; 12];
    values[7] = f32::NAN; // row 2, column 1 of a (4, 3) array
    let bytes = file("<f4", "(4, 3)", &f32_bytes(&values));
    assert!(matches!(
        read_from::<f32, Image, _>(&bytes[..]),
        Err(Error::NonFinite { row: 2, column: 1 })
    ));
    assert!(matches!(
        read_from::<f64, Image, _>(&bytes[..]),
        Err(Error::NonFinite { row: 2, column: 1 })
    ));

    // In the second modality of a pair, indices are within that modality, and the error
    // names the set.
    let in_set = |result: Result<Pair, Error>| match result {
        Err(Error::InSet { set, source }) => match *source {
            Error::NonFinite { row, column } => (set, row, column),
            other => panic!("{other}"),
        },
        other => panic!("{other:?}"),
    };
    let mut values = vec![0.5f64; 2 * 3 * 2];
    values[6 + 5] = f64::NEG_INFINITY; // text row 2, column 1
    let bytes = file("<f8", "(2, 3, 2)", &f64_bytes(&values));
    assert_eq!(in_set(read_pair2(&bytes)), ("text", 2, 1));
    assert_eq!(
        read_pair2(&bytes).unwrap_err().to_string(),
        "the text set: the value at row 2, column 1 is not finite"
    );
    values[6 + 5] = 0.5;
    values[2] = f64::INFINITY; // image row 1, column 0
    let bytes = file("<f8", "(2, 3, 2)", &f64_bytes(&values));
    assert_eq!(in_set(read_pair2(&bytes)), ("image", 1, 0));
    // The same values at the same place of each set: the message says which.
    values[6 + 2] = f64::INFINITY;
    let bytes = file("<f8", "(2, 3, 2)", &f64_bytes(&values));
    assert_eq!(
        read_pair2(&bytes).unwrap_err().to_string(),
        "the image set: the value at row 1, column 0 is not finite"
    );
}

/// The dropping readers keep the finite rows (pairs), say which, and drop nothing else.
#[test]
fn non_finite_rows_are_dropped_only_on_request_and_reported() {
    // (4, 2): rows 1 (NaN) and 3 (−∞) are not finite.
    let values = [0.1, 0.2, f64::NAN, 0.4, 0.5, 0.6, 0.7, f64::NEG_INFINITY];
    let bytes = file("<f8", "(4, 2)", &f64_bytes(&values));
    let (x, kept) = read_finite_rows_from::<f64, Image, _>(&bytes[..]).unwrap();
    assert_eq!(kept, [0, 2]);
    assert_eq!(x.as_slice(), &[0.1, 0.2, 0.5, 0.6]);
    assert!(read_from::<f64, Image, _>(&bytes[..]).is_err()); // the plain reader refuses
    // A pair drops a pair when either side is not finite; rows stay matched.
    let pair = [
        1.0,
        2.0,
        3.0,
        4.0,
        f64::INFINITY,
        6.0,
        7.0,
        8.0,
        9.0,
        f64::NAN,
        11.0,
        12.0,
    ];
    let bytes = file("<f8", "(2, 3, 2)", &f64_bytes(&pair));
    let (a, b, kept) = read_pair_finite_rows_from::<f64, Image, Text, _>(&bytes[..]).unwrap();
    // Rows 0, 1, 2 of the images: (1, 2), (3, 4), (∞, 6); of the texts: (7, 8), (9, NaN),
    // (11, 12). Only row 0 is finite on both sides.
    assert_eq!(kept, [0]);
    assert_eq!(
        (a.as_slice(), b.as_slice()),
        (&[1.0, 2.0][..], &[7.0, 8.0][..])
    );
    // Everything dropped: an empty set is an error, not an empty result.
    let bytes = file("<f8", "(1, 2)", &f64_bytes(&[f64::NAN, 1.0]));
    assert!(matches!(
        read_finite_rows_from::<f32, Image, _>(&bytes[..]),
        Err(Error::Empty)
    ));
    // The path reader names the file, as the others.
    let tmp = TempFile::new(
        "finite",
        &file("<f8", "(1, 2)", &f64_bytes(&[f64::NAN, 1.0])),
    );
    assert!(matches!(
        read_finite_rows::<f32, Image>(&tmp.0),
        Err(Error::File { source, .. }) if matches!(*source, Error::Empty)
    ));
}

#[test]
fn f64_beyond_f32_range_is_non_finite_as_f32() {
    // A finite float64 too large for float32 rounds to infinity, which the constructor rejects.
    let bytes = file("<f8", "(1, 2)", &f64_bytes(&[1.0, 1.0e300]));
    assert!(read2(&bytes).is_ok());
    assert!(matches!(
        read_from::<f32, Text, _>(&bytes[..]),
        Err(Error::NonFinite { row: 0, column: 1 })
    ));
}

#[test]
fn reader_error_is_io() {
    assert!(matches!(
        read_from::<f32, Image, _>(Broken),
        Err(Error::Io(e)) if e.to_string() == "disk on fire"
    ));
    // An error after a valid header, while reading the data.
    let header = file("<f4", "(2, 1, 1)", &[]);
    let reader = (&header[..]).chain(Broken);
    assert!(matches!(
        read_pair_from::<f32, Image, Text, _>(reader),
        Err(Error::Io(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// Files on disk
// ---------------------------------------------------------------------------------------------

#[test]
fn read_from_a_temp_file() {
    let values = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
    let tmp = TempFile::new("read", &file("<f4", "(2, 3)", &f32_bytes(&values)));
    let x = read::<f64, Image>(&tmp.0).unwrap();
    assert_eq!((x.len(), x.dim()), (2, 3));
    assert_eq!(x.row(1), &[4.0, 5.0, 6.0]);
    // The same file is not a pair.
    assert_eq!(
        npy_err(read_pair::<f64, Image, Text>(&tmp.0)),
        unexpected(&[2, 3], PAIR)
    );
}

#[test]
fn read_pair_from_a_temp_file() {
    let values = [1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
    let tmp = TempFile::new("read_pair", &file("<f8", "(2, 2, 2)", &f64_bytes(&values)));
    let (a, b) = read_pair::<f32, Image, Text>(&tmp.0).unwrap();
    assert_eq!(a.as_slice(), &[1.0, 2.0, 3.0, 4.0]);
    assert_eq!(b.as_slice(), &[5.0, 6.0, 7.0, 8.0]);
    assert_eq!(
        npy_err(read::<f32, Image>(&tmp.0)),
        unexpected(&[2, 2, 2], NK)
    );
}

#[test]
fn missing_file_is_io() {
    let path = std::env::temp_dir().join(format!(
        "modality_gap_npy_test_{}_does_not_exist.npy",
        std::process::id()
    ));
    let not_found = |result: Result<_, Error>| match result {
        Err(Error::File { path: p, source }) => {
            assert_eq!(p, path);
            matches!(*source, Error::Io(e) if e.kind() == io::ErrorKind::NotFound)
        }
        _ => false,
    };
    assert!(not_found(read::<f32, Image>(&path).map(drop)));
    assert!(not_found(read_pair::<f32, Image, Text>(&path).map(drop)));
    assert!(not_found(read_labels(&path).map(drop)));
    // The message names the file, and `Debug` (what `fn main() -> Result<(), Error>` prints)
    // says the same.
    let err = read::<f32, Image>(&path).unwrap_err();
    let message = err.to_string();
    assert!(
        message.starts_with(&format!("{}: i/o error: ", path.display())),
        "{message}"
    );
    assert_eq!(format!("{err:?}"), message);
}

#[test]
fn real_clasp_features() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/features_clasp.npy");
    let raw = std::fs::read(path).unwrap();
    let offset = data_offset(&raw);
    let (n, d) = (99, 768);
    assert_eq!(raw.len(), offset + 2 * n * d * 4);
    let f32_at = |k: usize| f32::from_le_bytes(raw[k..k + 4].try_into().unwrap());

    let (a, b) = read_pair::<f32, Image, Text>(path).unwrap();
    assert_eq!((a.len(), a.dim()), (n, d));
    assert_eq!((b.len(), b.dim()), (n, d));
    assert_eq!(a.row(0)[0].to_bits(), f32_at(offset).to_bits());
    assert_eq!(b.row(0)[0].to_bits(), f32_at(offset + n * d * 4).to_bits());
    assert_eq!(
        b.row(n - 1)[d - 1].to_bits(),
        f32_at(raw.len() - 4).to_bits()
    );
    assert_ne!(a.row(0)[0], b.row(0)[0]);

    // From memory, and widened to f64, the values agree.
    let (a64, b64) = read_pair_from::<f64, Image, Text, _>(&raw[..]).unwrap();
    assert_eq!(a64.row(0)[0], f64::from(a.row(0)[0]));
    assert_eq!(b64.row(n - 1)[d - 1], f64::from(b.row(n - 1)[d - 1]));
}

// ---------------------------------------------------------------------------------------------
// Fuzzing: no input panics
// ---------------------------------------------------------------------------------------------

fn valid_files() -> Vec<Vec<u8>> {
    let fortran = "{'descr': '>f2', 'fortran_order': True, 'shape': (2, 3, 2), }";
    vec![
        file("<f4", "(2, 3, 2)", &f32_bytes(&[0.5; 12])),
        file("<f8", "(3, 2)", &f64_bytes(&[0.25; 6])),
        npy(3, 0, &dict("<f4", "(2, 1, 1)"), &f32_bytes(&[1.0, 2.0])),
        npy(1, 0, fortran, &[0x3c, 0x00].repeat(12)),
        file(">i4", "(3,)", &[0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0]),
    ]
}

/// Every reader, as f32 and f64; the result is ignored, only a panic would fail.
fn feed(bytes: &[u8]) {
    let _ = read_from::<f32, Image, _>(bytes);
    let _ = read_from::<f64, Text, _>(bytes);
    let _ = read_pair_from::<f32, Image, Text, _>(bytes);
    let _ = read_pair_from::<f64, Image, Text, _>(bytes);
    let _ = read_labels_from(bytes);
    let _ = read_finite_rows_from::<f32, Image, _>(bytes);
    let _ = read_pair_finite_rows_from::<f64, Image, Text, _>(bytes);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_do_not_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        feed(&bytes);
        let mut with_magic = b"\x93NUMPY\x01\x00".to_vec();
        with_magic.extend_from_slice(&bytes);
        feed(&with_magic);
    }

    #[test]
    fn mutated_valid_files_do_not_panic(
        which in 0usize..5,
        flips in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 0..6),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
        tail in prop::collection::vec(any::<u8>(), 0..4),
    ) {
        let mut bytes = valid_files().swap_remove(which);
        for (at, mask) in flips {
            let i = at.index(bytes.len());
            bytes[i] ^= mask;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        bytes.extend_from_slice(&tail);
        feed(&bytes);
    }

    #[test]
    fn header_text_mutations_do_not_panic(
        header in "\\{[ '\"a-zA-Z_<>0-9:,()]{0,80}\\}[ \n]{0,3}",
        payload in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        feed(&npy(1, 0, &header, &payload));
    }

    #[test]
    fn finite_f32_values_round_trip(
        (n, d, values) in (1usize..6, 1usize..6).prop_flat_map(|(n, d)| {
            (Just(n), Just(d), prop::collection::vec(
                any::<f32>().prop_filter("finite", |v| v.is_finite()), n * d))
        }),
    ) {
        let bytes = file("<f4", &format!("({n}, {d})"), &f32_bytes(&values));
        let x = read_from::<f32, Image, _>(&bytes[..]).unwrap();
        prop_assert_eq!((x.len(), x.dim()), (n, d));
        let bits: Vec<u32> = x.as_slice().iter().map(|v| v.to_bits()).collect();
        let want: Vec<u32> = values.iter().map(|v| v.to_bits()).collect();
        prop_assert_eq!(bits, want);
    }
}
