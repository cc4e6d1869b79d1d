//! The integration tests, one test binary: each file of `tests/` is a module of it, so that
//! the crate's generic passes are compiled once for all of them (one binary per file built
//! the same code thirty times). Run one file's tests with a filter on its module:
//! `cargo test --test integration -- shard::`.

mod common;

mod array;
mod captioned;
mod determinism;
mod evaluation;
mod experiments;
mod fuzz_corpus;
mod gap_measures;
mod geometry;
mod mmap;
mod neighbours;
mod npy;
mod npz;
mod oracle;
mod progress;
mod properties;
mod real_data;
mod reference_code;
mod safetensors;
mod shard;
mod similarities;
mod simulations;
mod spectral;
mod stream;
mod subsample;
mod types;
mod uncertainty;
mod uncertainty_contrastive;
mod uncertainty_resampling;
