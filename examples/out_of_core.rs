//! Metrics of `.npy` files larger than memory, and what they cost: the O(n·d) metrics streamed
//! a chunk at a time (`npy::Chunks`, `stream::RowSums`) against the bandwidth of reading the
//! same file in the same run, with the peak resident memory they add; the same metrics over a
//! memory-mapped file; and uniformity from a mapped file against the same rows in memory.
//!
//! ```text
//! cargo run --release --features mmap --example out_of_core -- make FILE N D
//! cargo run --release --features mmap --example out_of_core -- stream FILE
//! cargo run --release --features mmap --example out_of_core -- map FILE
//! cargo run --release --features mmap --example out_of_core -- uniform FILE
//! ```
//!
//! `make` writes N random unit float32 rows of dimension D (a cone like CLIP's) a chunk at a
//! time; `stream` reads FILE once plainly (the bandwidth) and once through the metrics (a
//! thread reads the next chunk while the last one is summed);
//! `map` maps it and runs the same metrics; `uniform` times uniform_loss (t = 2) on the mapped
//! rows, on the rows read into memory, and on the mapped rows again.

#[path = "support/help.rs"]
mod help;
#[path = "support/npy_header.rs"]
mod npy_header;
#[path = "support/random.rs"]
mod random;

use std::error::Error;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::time::Instant;

use modality_gap::stream::RowSums;
use modality_gap::{Diagonal, Image, UnitEmbeddings, npy, uniform_loss};

const USAGE: &str = "\
usage: cargo run --release --features mmap --example out_of_core -- make FILE N D | stream FILE | map FILE | uniform FILE
make: N random unit f32 rows of dimension D to FILE, a chunk at a time.
stream: the centroid and the cone of FILE (unit rows, verified) streamed in chunks of 4096 rows, against a plain
read of FILE in the same run; the peak resident memory they add.
map: the same metrics on FILE memory-mapped; its resident memory, anonymous and file-backed.
uniform: uniform_loss (t = 2) of FILE mapped, read into memory, and mapped again.
";

/// Rows per chunk when streaming (8 MiB of f32 at d = 512).
const CHUNK_ROWS: usize = 4096;

fn main() -> Result<(), Box<dyn Error>> {
    help::on_request(USAGE);
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["make", file, n, d] => make(file, n.parse()?, d.parse()?),
        ["stream", file] => stream(file),
        ["map", file] => map(file),
        ["uniform", file] => uniform(file),
        _ => Err(USAGE.into()),
    }
}

/// A field of `/proc/self/status` in bytes (Linux).
fn status_bytes(field: &str) -> Result<u64, Box<dyn Error>> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .ok_or("no such field")?;
    let kib: u64 = line.split_whitespace().nth(1).ok_or("no value")?.parse()?;
    Ok(kib * 1024)
}

/// Resets the peak resident size (Linux), so that `VmHWM` then tells the peak from here on.
fn reset_peak() -> Result<u64, Box<dyn Error>> {
    std::fs::write("/proc/self/clear_refs", "5")?;
    status_bytes("VmRSS:")
}

fn make(file: &str, n: usize, d: usize) -> Result<(), Box<dyn Error>> {
    let mut out = BufWriter::with_capacity(1 << 22, File::create(file)?);
    out.write_all(&npy_header::f32_header(&format!("({n}, {d})")))?;
    for (k, start) in (0..n).step_by(CHUNK_ROWS).enumerate() {
        let rows = CHUNK_ROWS.min(n - start);
        let chunk = random::unit::<f32, Image>(rows, d, k as u64 + 1, 0.3);
        for v in chunk.as_slice() {
            out.write_all(&v.to_le_bytes())?;
        }
    }
    out.flush()?;
    println!("wrote {n} x {d} f32 to {file}");
    Ok(())
}

fn stream(file: &str) -> Result<(), Box<dyn Error>> {
    let bytes = std::fs::metadata(file)?.len() as f64;
    let mut buffer = vec![0u8; CHUNK_ROWS * 2048];
    let start = Instant::now();
    let mut reader = File::open(file)?;
    while reader.read(&mut buffer)? > 0 {}
    let read = start.elapsed().as_secs_f64();
    drop(buffer);

    let before = reset_peak()?;
    let start = Instant::now();
    let chunks = npy::Chunks::<f32, Image, _>::new(BufReader::new(File::open(file)?), CHUNK_ROWS)?;
    let (n, d) = (chunks.rows(), chunks.dim());
    // A reader thread reads and converts the next chunk while this one is summed.
    let (send, receive) = std::sync::mpsc::sync_channel(0);
    let reader = std::thread::spawn(move || {
        for chunk in chunks {
            if send.send(chunk).is_err() {
                break;
            }
        }
    });
    let mut sums = RowSums::<f32, Image>::new(d)?;
    for chunk in receive {
        sums.add(&UnitEmbeddings::verify_unit(chunk?, 1e-5)?)?;
    }
    reader.join().map_err(|_| "the reader thread panicked")?;
    let centroid = sums.centroid()?;
    let cone = sums.mean_pairwise_cosine(Diagonal::Excluded)?;
    let metrics = start.elapsed().as_secs_f64();
    let extra = status_bytes("VmHWM:")?.saturating_sub(before);
    let norm = centroid.iter().map(|c| c * c).sum::<f64>().sqrt();
    println!("{n} x {d} f32, {:.2} GB", bytes / 1e9);
    println!(
        "plain read (1 thread, {} MiB reads): {read:.2} s, {:.2} GB/s",
        (CHUNK_ROWS * 2048) >> 20,
        bytes / read / 1e9
    );
    println!(
        "streamed centroid and cone:         {metrics:.2} s, {:.2} GB/s ({:.0} % of the read's rate)",
        bytes / metrics / 1e9,
        100.0 * read / metrics
    );
    println!("peak resident memory added: {:.1} MB", extra as f64 / 1e6);
    println!("|centroid| = {norm:.9}, mean pairwise cosine = {cone:.9}");
    Ok(())
}

fn map(file: &str) -> Result<(), Box<dyn Error>> {
    let before = reset_peak()?;
    let anon_before = status_bytes("RssAnon:")?;
    let start = Instant::now();
    // SAFETY: nothing writes the file while the set lives.
    let x = unsafe { npy::map::<f32, Image>(file)? };
    let x = UnitEmbeddings::verify_unit(x, 1e-5)?;
    let mapped = start.elapsed().as_secs_f64();
    let centroid = modality_gap::centroid(&x);
    let cone = modality_gap::mean_pairwise_cosine(&x, Diagonal::Excluded)?;
    let seconds = start.elapsed().as_secs_f64();
    let (n, d) = x.shape();
    let gb = (n * d * 4) as f64 / 1e9;
    println!(
        "{n} x {d} f32 mapped: {seconds:.2} s in all ({mapped:.2} s to map and check every value and norm), {:.2} GB/s over the three reads",
        3.0 * gb / seconds
    );
    println!(
        "peak resident memory added: {:.1} MB; at the end, anonymous {:.1} MB added and {:.1} MB of file pages (each sweep lets the map's pages go behind it)",
        status_bytes("VmHWM:")?.saturating_sub(before) as f64 / 1e6,
        status_bytes("RssAnon:")?.saturating_sub(anon_before) as f64 / 1e6,
        status_bytes("RssFile:")? as f64 / 1e6
    );
    let norm = centroid.iter().map(|c| c * c).sum::<f64>().sqrt();
    println!("|centroid| = {norm:.9}, mean pairwise cosine = {cone:.9}");
    Ok(())
}

fn uniform(file: &str) -> Result<(), Box<dyn Error>> {
    let time = |x: &UnitEmbeddings<f32, Image>| -> Result<(f64, f64), Box<dyn Error>> {
        let start = Instant::now();
        let value = uniform_loss(x, 2.0)?;
        Ok((start.elapsed().as_secs_f64(), value))
    };
    // SAFETY: nothing writes the file while the set lives.
    let mapped = UnitEmbeddings::verify_unit(unsafe { npy::map::<f32, Image>(file)? }, 1e-5)?;
    let read = UnitEmbeddings::verify_unit(npy::read::<f32, Image>(file)?, 1e-5)?;
    let (first, value) = time(&mapped)?;
    let (in_memory, same) = time(&read)?;
    let (again, _) = time(&mapped)?;
    let (n, d) = mapped.shape();
    println!(
        "uniform_loss, {n} x {d} f32: mapped {first:.3} s, in memory {in_memory:.3} s, mapped {again:.3} s"
    );
    println!(
        "mapped / in memory: {:.3} (mean of the two mapped runs)",
        (first + again) / 2.0 / in_memory
    );
    if value.to_bits() != same.to_bits() {
        return Err("the mapped and the read rows give different values".into());
    }
    println!("value {value:.12}, the same bits from both");
    Ok(())
}
