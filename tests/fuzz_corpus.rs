//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) through the readers the
//! libFuzzer targets call (`fuzz/readers.rs`): every input the fuzzer kept, and any crash it
//! ever found once fixed, runs in `cargo test`, so that a regression fails CI without a
//! fuzzing toolchain. None may panic; each reader answers with a value or a typed error.

use std::fs;
use std::path::Path;

#[path = "../fuzz/readers.rs"]
mod readers;

/// Runs `reader` on every file of the target's corpus; the corpus must not be empty (a
/// missing folder would otherwise pass unnoticed).
fn replay(target: &str, reader: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut inputs = 0;
    for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        reader(&fs::read(entry.unwrap().path()).unwrap());
        inputs += 1;
    }
    assert!(
        inputs >= 5,
        "{target}: {inputs} inputs in {}",
        dir.display()
    );
}

#[test]
fn npy_read_corpus() {
    replay("npy_read", readers::npy_read);
}

#[test]
fn npy_pair_corpus() {
    replay("npy_pair", readers::npy_pair);
}

#[test]
fn npy_labels_corpus() {
    replay("npy_labels", readers::npy_labels);
}

#[cfg(feature = "npz")]
#[test]
fn npz_corpus() {
    replay("npz", readers::npz);
}

#[cfg(feature = "safetensors")]
#[test]
fn safetensors_corpus() {
    replay("safetensors", readers::safetensors);
}

/// The map of every `.npy` input, of one array or a pair, agrees with the plain reader.
#[cfg(feature = "mmap")]
#[test]
fn npy_map_agrees_with_read_on_the_npy_corpora() {
    replay("npy_read", readers::npy_map);
    replay("npy_pair", readers::npy_map);
    replay("npy_map", readers::npy_map);
}

#[cfg(feature = "serde")]
#[test]
fn shard_part_corpus() {
    replay("shard_part", readers::shard_part);
}
