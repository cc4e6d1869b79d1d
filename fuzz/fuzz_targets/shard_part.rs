//! `cargo fuzz run shard_part`: see `../readers.rs`.
#![no_main]

#[allow(dead_code)] // each target calls one of the readers
#[path = "../readers.rs"]
mod readers;

libfuzzer_sys::fuzz_target!(|data: &[u8]| readers::shard_part(data));
