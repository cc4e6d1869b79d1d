//! This machine's limits, which `docs/benchmarks.md` states throughput against:
//! - the peak f32 fused multiply-add throughput, on the instruction set the pairwise kernel
//!   uses (AVX-512, AVX2 or portable), from register-only fused multiply-adds in the
//!   micro-kernel's accumulator tile (its arithmetic with the loads taken out);
//! - the rate of the micro-kernel itself, fed from cache as the kernel feeds it but with no
//!   packing and no epilogue: the most a pairwise pass can reach here;
//! - the memory read bandwidth, summing a 2 GiB buffer (the O(n·d) metrics' limit).
//!
//! `cargo run --release --example peak [-- repeats]` prints each run and the medians. The
//! measurements live in `support/probe.rs`, which the benchmarks can share.

#[path = "support/help.rs"]
mod help;
#[path = "support/probe.rs"]
mod probe;

/// What `--help` prints.
const USAGE: &str = "\
usage: cargo run --release --example peak [-- REPEATS]
This machine's f32 FMA peak, the rate of the kernel's bare micro-kernel fed from cache (each
on 1 thread and all) and the read bandwidth, REPEATS times (7), and the medians.
";

fn main() {
    help::on_request(USAGE);
    let repeats: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    let threads = rayon::current_num_threads();
    let (mut one, mut all, mut bandwidth) = (Vec::new(), Vec::new(), Vec::new());
    let (mut tile_one, mut tile_all) = (Vec::new(), Vec::new());
    for _ in 0..repeats {
        let (isa, single, every) = probe::fma_peak_f32(0.5);
        let (tile_single, tile_every) = probe::tile_rate_f32(0.5);
        let read = probe::read_bandwidth(2 << 30);
        println!(
            "{isa}: {:.1} GFLOP/s on 1 thread, {:.1} on {threads}; the bare micro-kernel {:.1} \
             ({:.0} %) and {:.1} ({:.0} %); reads {:.1} GB/s",
            single / 1e9,
            every / 1e9,
            tile_single / 1e9,
            100.0 * tile_single / single,
            tile_every / 1e9,
            100.0 * tile_every / every,
            read / 1e9
        );
        one.push(single);
        all.push(every);
        tile_one.push(tile_single);
        tile_all.push(tile_every);
        bandwidth.push(read);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2] / 1e9
    };
    println!(
        "median f32 FMA peak: {:.1} GFLOP/s on 1 thread, {:.1} GFLOP/s on {threads} threads",
        median(&mut one),
        median(&mut all)
    );
    println!(
        "median bare micro-kernel: {:.1} GFLOP/s on 1 thread, {:.1} GFLOP/s on {threads} threads",
        median(&mut tile_one),
        median(&mut tile_all)
    );
    println!(
        "median read bandwidth on {threads} threads: {:.1} GB/s",
        median(&mut bandwidth)
    );
}
