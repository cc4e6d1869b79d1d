//! Uniformity, the contrastive loss and the gap with their jackknife standard errors, and the
//! cosine histogram, of one pair of sets, sharded over MPI ranks: every rank maps the same
//! `.npy` file, computes the parts of its own tiles of each pass, and rank 0 gathers them,
//! merges them in rank order and checks the result bitwise against the single-process
//! metrics. The uniformity's jackknife takes one round; the contrastive loss's and the gap's
//! two: rank 0 broadcasts the merged parts of the first (the loss's own, the row sums).
//!
//! ```text
//! cargo build --release --features mpi --example mpi_uniform
//! mpirun -n 3 target/release/examples/mpi_uniform [PAIR.npy | N D]
//! ```
//!
//! With a file, it reads a stacked `[2, n, d]` float32 pair of unit rows (the published
//! features' layout); else rank 0 writes N × D random unit rows of each set (default
//! 8192 × 512, a cone like CLIP's) to a file in the temporary folder, which every rank maps
//! (so on one machine only: across machines, give a file on a shared file system).
//! See `docs/scale.md` for a cluster.

#[path = "support/help.rs"]
mod help;
#[path = "support/npy_header.rs"]
mod npy_header;
#[path = "support/random.rs"]
mod random;

use std::error::Error;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Instant;

use modality_gap::shard::{self, Part, Plan};
use modality_gap::stream::RowSums;
use modality_gap::{
    CosineHistogram, Embeddings, Image, Modality, Temperature, Text, UnitEmbeddings,
    contrastive_loss, jackknife, npy, uniform_loss,
};
use mpi::datatype::PartitionMut;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

const USAGE: &str = "\
usage: mpirun -n RANKS target/release/examples/mpi_uniform [PAIR.npy | N D]
(build it with: cargo build --release --features mpi --example mpi_uniform)
Uniformity (t = 2), the contrastive loss (tau = 0.01; two rounds) and the gap (two rounds)
with their jackknife standard errors, and a 100-bin cosine histogram of the first set, each
pass's tiles shared out over the ranks; rank 0 merges the parts and checks them bitwise
against the single-process metrics. PAIR.npy is a stacked [2, n, d] float32 file of unit
rows; without one, rank 0 writes N x D random unit rows per set (default 8192 512) to the
temporary folder.
";

fn main() -> Result<(), Box<dyn Error>> {
    help::on_request(USAGE);
    let universe = mpi::initialize().ok_or("MPI is already initialised")?;
    let world = universe.world();
    let (rank, ranks) = (world.rank() as usize, world.size() as usize);
    let path = input(&world)?;
    // SAFETY: no rank writes the file while the sets live (rank 0 wrote it before the barrier).
    let (a, b) = unsafe { npy::map_pair::<f32, Image, Text>(&path)? };
    let (a, b) = (
        UnitEmbeddings::verify_unit(a, 1e-3)?,
        UnitEmbeddings::verify_unit(b, 1e-3)?,
    );
    let (t, tau, bins) = (2.0, Temperature::CLIP, 100);
    let plans = (
        Plan::uniform_loss(&a, t)?,
        Plan::contrastive_loss(&a, &b, tau)?,
        Plan::cosine_histogram_within(&a, bins)?,
        Plan::row_sums(&a)?,
    );

    world.barrier();
    let start = Instant::now();
    // The uniformity with its jackknife standard error, in one round.
    let uniform = shard::jackknife::uniform_loss(&plans.0, &a, plans.0.shard(rank, ranks)?)?;
    let contrastive = shard::contrastive_loss(&plans.1, &a, &b, plans.1.shard(rank, ranks)?)?;
    let histogram = shard::cosine_histogram_within(&plans.2, &a, plans.2.shard(rank, ranks)?)?;
    let uniform = gather(&world, &uniform)?;
    let histogram = gather(&world, &histogram)?;
    // The contrastive loss's jackknife: the loss's parts, merged on rank 0 and finished into
    // every row's and column's log-sum-exp and cross-entropy, which every rank is sent
    // (round 1), then each rank's tiles of the second pass (round 2).
    let first = gather(&world, &contrastive)?
        .map(|part| part.cross_entropies())
        .transpose()?;
    let cross_entropies = broadcast(&world, first)?;
    let tiles = plans.1.shard(rank, ranks)?;
    let contrastive =
        shard::jackknife::contrastive_loss(&plans.1, &a, &b, &cross_entropies, tiles)?;
    let contrastive = gather(&world, &contrastive)?;
    // The gap's jackknife: each set's row sums, merged on rank 0 and sent back to every rank
    // (round 1), then each rank's rows' leave-one-out changes (round 2).
    let rows = plans.3.shard(rank, ranks)?;
    let sums_a = row_sums_on_every_rank(&world, &plans.3, &a, rows.clone())?;
    let sums_b = row_sums_on_every_rank(&world, &plans.3, &b, rows.clone())?;
    let gap = shard::jackknife::gap(&plans.3, &a, &b, (&sums_a, &sums_b), rows)?;
    let gap = gather(&world, &gap)?;
    let Some((((uniform, contrastive), histogram), gap)) =
        uniform.zip(contrastive).zip(histogram).zip(gap)
    else {
        return Ok(()); // not rank 0: its parts are sent
    };
    let uniform = uniform.finish()?;
    let contrastive = contrastive.finish(&cross_entropies)?;
    let histogram = histogram.finish()?;
    let gap = gap.finish()?;
    let sharded = start.elapsed().as_secs_f64();

    let start = Instant::now();
    let one_process = (
        jackknife::uniform_loss(&a, t)?,
        jackknife::contrastive_loss(&a, &b, tau)?,
        CosineHistogram::within(&a, bins)?,
        jackknife::gap(&a, &b)?,
    );
    let single = start.elapsed().as_secs_f64();
    let (n, d) = a.shape();
    println!(
        "n = {n}, d = {d}, f32, {ranks} ranks; tiles per pass {} / {} / {} / {}",
        plans.0.tiles(),
        plans.1.tiles(),
        plans.2.tiles(),
        plans.3.tiles()
    );
    let e = uniform.estimate();
    println!(
        "uniformity        {:.12} ± {:.12}",
        e.value, e.standard_error
    );
    let e = contrastive.estimate();
    println!(
        "contrastive loss  {:.12} ± {:.12}",
        e.value, e.standard_error
    );
    println!(
        "cosine histogram  mean {:.12} over {} pairs",
        histogram.mean(),
        histogram.pair_count()
    );
    let e = gap.estimate();
    println!(
        "gap ‖Δ‖           {:.12} ± {:.12}",
        e.value, e.standard_error
    );
    println!(
        "sharded over {ranks} ranks (map, passes, gather, merge): {sharded:.3} s; one process on rank 0: {single:.3} s"
    );
    // Debug writes every f64 in its shortest round-trip form (−0 as "-0.0"), so equal text
    // is equal bits, where `==` on f64 would take −0 for 0 (any two NaNs print alike; the
    // merged results have none).
    let bits =
        |x: &dyn std::fmt::Debug, y: &dyn std::fmt::Debug| format!("{x:?}") == format!("{y:?}");
    let same = bits(&uniform, &one_process.0)
        && uniform.value().to_bits() == uniform_loss(&a, t)?.to_bits()
        && bits(&contrastive, &one_process.1)
        && contrastive.value().to_bits() == contrastive_loss(&a, &b, tau)?.symmetric.to_bits()
        && bits(&histogram, &one_process.2)
        && bits(&gap, &one_process.3);
    if !same {
        return Err("the merged parts differ from the single-process metrics".into());
    }
    println!("bitwise equal to the single-process metrics");
    Ok(())
}

/// The input file: the argument, or a random pair that rank 0 writes (every rank waits for it).
fn input(world: &SimpleCommunicator) -> Result<PathBuf, Box<dyn Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [file] = &args[..] {
        return Ok(PathBuf::from(file));
    }
    let number = |k: usize, default: usize| args.get(k).map_or(Ok(default), |s| s.parse());
    let (n, d) = (number(0, 8192)?, number(1, 512)?);
    let path = std::env::temp_dir().join(format!("modality-gap-mpi-{n}x{d}.npy"));
    if world.rank() == 0 {
        let a = random::unit::<f32, Image>(n, d, 1, 0.3);
        let b = random::unit::<f32, Text>(n, d, 2, 0.3);
        write_pair(&path, a.as_embeddings(), b.as_embeddings())?;
    }
    world.barrier();
    Ok(path)
}

/// Writes a stacked `[2, n, d]` float32 `.npy` file (format 1.0, numpy's 64-byte header).
fn write_pair(
    path: &Path,
    a: &Embeddings<f32, Image>,
    b: &Embeddings<f32, Text>,
) -> std::io::Result<()> {
    let (n, d) = a.shape();
    let mut bytes = npy_header::f32_header(&format!("(2, {n}, {d})"));
    for v in a.as_slice().iter().chain(b.as_slice()) {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    // Written whole under another name, then renamed: a rank never maps a half-written file.
    let partial = path.with_extension("partial");
    std::fs::write(&partial, bytes)?;
    std::fs::rename(partial, path)
}

/// The row sums of `x` on every rank: each rank's tiles `rows` of `plan`, gathered and merged
/// on rank 0, then broadcast back.
fn row_sums_on_every_rank<M: Modality>(
    world: &SimpleCommunicator,
    plan: &Plan,
    x: &UnitEmbeddings<f32, M>,
    rows: Range<usize>,
) -> Result<RowSums<f32, M>, Box<dyn Error>> {
    let part = shard::row_sums(plan, x, rows)?;
    Ok(broadcast(world, gather(world, &part)?)?.finish()?)
}

/// Rank 0's `value` (a part merged from every rank's, or what it finished from one) sent to
/// every rank as bytes, so that each has the same.
fn broadcast<T: Serialize + DeserializeOwned>(
    world: &SimpleCommunicator,
    value: Option<T>,
) -> Result<T, Box<dyn Error>> {
    let root = world.process_at_rank(0);
    let mut bytes = match &value {
        Some(value) => postcard::to_allocvec(value)?,
        None => Vec::new(),
    };
    let mut count = bytes.len() as u64;
    root.broadcast_into(&mut count);
    bytes.resize(usize::try_from(count)?, 0);
    root.broadcast_into(&mut bytes[..]);
    Ok(postcard::from_bytes(&bytes)?)
}

/// Every rank's part gathered on rank 0 as bytes, and merged there in rank order (tile
/// order); `None` on the other ranks.
fn gather<S: Serialize + DeserializeOwned>(
    world: &SimpleCommunicator,
    part: &Part<S>,
) -> Result<Option<Part<S>>, Box<dyn Error>> {
    let bytes = postcard::to_allocvec(part)?;
    let root = world.process_at_rank(0);
    let count = i32::try_from(bytes.len())?;
    if world.rank() != 0 {
        root.gather_into(&count);
        root.gather_varcount_into(&bytes[..]);
        return Ok(None);
    }
    let mut counts = vec![0i32; world.size() as usize];
    root.gather_into_root(&count, &mut counts[..]);
    // MPI counts bytes in i32: the parts of all ranks together must stay below 2 GiB (a
    // contrastive loss of up to about 8·10⁶ columns on 16 tiles, a uniformity's jackknife of
    // up to about 10⁶ samples on 8 ranks).
    let mut displacements = Vec::with_capacity(counts.len());
    let mut offset = 0i32;
    for &c in &counts {
        displacements.push(offset);
        offset = offset
            .checked_add(c)
            .ok_or("the gathered parts exceed 2 GiB, MPI's i32 count")?;
    }
    let mut all = vec![0u8; counts.iter().map(|&c| c as usize).sum()];
    let mut partition = PartitionMut::new(&mut all[..], &counts[..], &displacements[..]);
    root.gather_varcount_into_root(&bytes[..], &mut partition);
    let mut merged: Option<Part<S>> = None;
    for (&at, &c) in displacements.iter().zip(&counts) {
        let part: Part<S> = postcard::from_bytes(&all[at as usize..(at + c) as usize])?;
        merged = Some(match merged {
            None => part,
            Some(whole) => whole.merge(part)?,
        });
    }
    Ok(merged)
}
