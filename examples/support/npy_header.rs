//! The header of a float32 `.npy` file in C order, as numpy writes it (format 1.0, the data at
//! a multiple of 64 bytes), for the examples that write large files a chunk at a time.

/// The magic string, version, header length and header of an array of `shape` (a Python
/// tuple such as `(2, 8192, 512)`) of little-endian float32.
pub fn f32_header(shape: &str) -> Vec<u8> {
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    let length = u16::try_from(header.len()).expect("a shape's header is short");
    bytes.extend_from_slice(&length.to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes
}
