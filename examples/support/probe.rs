//! This machine's limits, the yardsticks that throughput is stated against:
//! - [`fma_peak_f32`]: the peak f32 fused multiply-add rate, on the instruction set the
//!   crate's pairwise kernel picks at run time (AVX-512F, AVX2 + FMA or portable), from
//!   register-only loops with the kernel's own micro-kernel accumulator tile and no loads;
//! - [`tile_rate_f32`]: the rate of that micro-kernel itself, fed from the caches the way the
//!   kernel's loop nest feeds it, with no packing and no epilogue: the most a pass can reach;
//! - [`read_bandwidth`]: the memory read bandwidth of the rayon pool, summing a buffer far
//!   beyond the caches (the limit of the O(n·d) metrics).
//!
//! It lives here, not in the library, because measuring the machine is the job of the
//! examples and benchmarks: the library holds no benchmark plumbing. Include it with
//! `#[path = "support/probe.rs"] mod probe;` (from `benches/`: `"../examples/support/probe.rs"`).
//! The tile shapes and cache budgets below copy the kernel's (`src/kernel/simd.rs`,
//! `src/kernel/schedule.rs`); keep them in step.

use rayon::prelude::*;

/// (the instruction set, f32 flops per second of 1 thread, of every thread of the current
/// rayon pool), each over about `seconds`, from register-only loops of independent fused
/// multiply-adds, acc ← acc·x + x, in the micro-kernel's accumulator tile.
pub fn fma_peak_f32(seconds: f64) -> (String, f64, f64) {
    let isa = Isa::detect();
    let x = 1.0 - f32::EPSILON; // acc·x + x stays near 1/ε, finite forever
    let rate = |threads: usize, iterations: usize| {
        let start = std::time::Instant::now();
        let flops: f64 = if threads == 1 {
            isa.spin(iterations, x)
        } else {
            rayon::broadcast(|_| isa.spin(iterations, x)).iter().sum()
        };
        flops / start.elapsed().as_secs_f64()
    };
    let probe = 1 << 16;
    let flops_per_iteration = isa.flops_per_iteration() as f64;
    let iterations = (seconds * rate(1, probe) / flops_per_iteration).max(1.0) as usize;
    let one = rate(1, iterations);
    let all = rate(rayon::current_num_threads(), iterations);
    (isa.name().to_owned(), one, all)
}

/// (f32 flops per second of 1 thread, of every thread of the current rayon pool), each over
/// about `seconds`, of the micro-kernel's tile fed from cache the way the kernel's loop nest
/// feeds it at d = 512: each thread holds a sweep of 4 MiB of rows in panels of MR (read from
/// L3 once per block) and a block of 256 KiB of columns in panels of NR (kept in L2), and
/// fills the tiles of every row panel against every column panel of the block, again and
/// again. No packing, no epilogue, no triangle: the rate that a pass's packing and epilogue
/// can only lower.
pub fn tile_rate_f32(seconds: f64) -> (f64, f64) {
    let isa = Isa::detect();
    let rate = || {
        let (mr, nr) = isa.tile_shape();
        let (d, block) = (512, 128); // 256 KiB of f32 columns at d = 512, as the kernel cuts
        let groups = (4 << 20) / (d * 4) / mr; // a sweep of 4 MiB
        let a: Vec<f32> = (0..groups * mr * d)
            .map(|k| (k % 7) as f32 * 1e-3)
            .collect();
        let b: Vec<f32> = (0..block * d).map(|k| (k % 5) as f32 * 1e-3).collect();
        let mut dots = vec![0.0f32; mr * block];
        let (start, mut flops) = (std::time::Instant::now(), 0.0);
        while start.elapsed().as_secs_f64() < seconds {
            for a in a.chunks_exact(mr * d) {
                for (p, b) in b.chunks_exact(nr * d).enumerate() {
                    isa.tile(d, a, b, &mut dots[p * nr..], block);
                }
            }
            flops += (2 * groups * mr * block * d) as f64;
        }
        assert!(dots.iter().all(|v| v.is_finite()), "the tile diverged");
        flops / start.elapsed().as_secs_f64()
    };
    let one = rate();
    let all = rayon::broadcast(|_| rate()).iter().sum();
    (one, all)
}

/// Bytes per second that the current rayon pool reads from memory, summing a buffer of
/// `bytes` (far beyond the caches) in chunks of 1 MiB: what an O(n·d) metric can reach.
pub fn read_bandwidth(bytes: usize) -> f64 {
    let data = vec![1.0f32; bytes / 4];
    let sum = |chunk: &[f32]| {
        let mut lanes = [0.0f32; 16];
        for block in chunk.chunks_exact(16) {
            for (l, v) in lanes.iter_mut().zip(block) {
                *l += v;
            }
        }
        lanes.iter().sum::<f32>()
    };
    let start = std::time::Instant::now();
    let total: f32 = data.par_chunks(1 << 18).map(sum).sum();
    let seconds = start.elapsed().as_secs_f64();
    assert!(total > 0.0);
    (data.len() * 4) as f64 / seconds
}

/// The instruction set of the crate's micro-kernel on this CPU. Only [`Isa::detect`] makes
/// one (the type is private to this module), so holding `Avx512` or `Avx2` proves the CPU
/// has those features.
#[derive(Debug, Clone, Copy)]
enum Isa {
    /// AVX-512F: 12 rows × 2 vectors of 16 f32 (a 12 × 32 tile, 24 of the 32 zmm).
    #[cfg(target_arch = "x86_64")]
    Avx512,
    /// AVX2 + FMA: 6 rows × 2 vectors of 8 f32 (a 6 × 16 tile, 12 of the 16 ymm).
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// Anything else: scalar `mul_add`, 4 × 8.
    Portable,
}

impl Isa {
    /// The fastest instruction set this CPU has, in the kernel's order of preference.
    fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Self::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Self::Avx2;
            }
        }
        Self::Portable
    }

    fn name(self) -> &'static str {
        match self {
            #[cfg(target_arch = "x86_64")]
            Self::Avx512 => "Avx512",
            #[cfg(target_arch = "x86_64")]
            Self::Avx2 => "Avx2",
            Self::Portable => "Portable",
        }
    }

    /// Flops of one round of the tile: 2 (multiply and add) per f32 accumulator lane.
    fn flops_per_iteration(self) -> usize {
        let (mr, nr) = self.tile_shape();
        2 * mr * nr
    }

    /// The micro-kernel's tile: (MR rows, NR columns).
    fn tile_shape(self) -> (usize, usize) {
        match self {
            #[cfg(target_arch = "x86_64")]
            Self::Avx512 => (12, 32),
            #[cfg(target_arch = "x86_64")]
            Self::Avx2 => (6, 16),
            Self::Portable => (4, 8),
        }
    }

    /// `out[r·stride + c] = Σₖ a[k·MR + r]·b[k·NR + c]` over k < d: the micro-kernel's tile
    /// from its packed panels (`a` of MR rows, `b` of NR, interleaved by coordinate).
    fn tile(self, d: usize, a: &[f32], b: &[f32], out: &mut [f32], stride: usize) {
        let (mr, nr) = self.tile_shape();
        assert!(
            d.is_multiple_of(4) && a.len() >= d * mr && b.len() >= d * nr && stride >= nr,
            "panels too short"
        );
        assert!(out.len() >= (mr - 1) * stride + nr, "tile out of bounds");
        let (a, b, out) = (a.as_ptr(), b.as_ptr(), out.as_mut_ptr());
        match self {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Isa::Avx512` proves AVX-512F (see `spin`); the asserts above prove the
            // ranges the tile reads and writes.
            Self::Avx512 => unsafe { x86::tile_avx512(d, a, b, out, stride) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Isa::Avx2` proves AVX2 and FMA; the ranges as above.
            Self::Avx2 => unsafe { x86::tile_avx2(d, a, b, out, stride) },
            // SAFETY: the ranges as above.
            Self::Portable => unsafe { tile_portable(d, a, b, out, stride) },
        }
    }

    /// Runs `iterations` rounds of the tile and returns the flops done. The sum of the
    /// accumulators is checked to be finite, which keeps the loop from being optimised away.
    fn spin(self, iterations: usize, x: f32) -> f64 {
        let total = match self {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Isa::Avx512` is only made by `Isa::detect`, after
            // `is_x86_feature_detected!("avx512f")` confirmed AVX-512F on this CPU.
            Self::Avx512 => unsafe { x86::spin_avx512(iterations, x) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Isa::Avx2` is only made by `Isa::detect`, after
            // `is_x86_feature_detected!` confirmed AVX2 and FMA on this CPU.
            Self::Avx2 => unsafe { x86::spin_avx2(iterations, x) },
            Self::Portable => spin_portable(iterations, x),
        };
        assert!(total.is_finite(), "the FMA loop diverged");
        (self.flops_per_iteration() * iterations) as f64
    }
}

/// Rounds of 4 × 8 scalar fused multiply-adds, acc ← acc·x + x; returns the accumulators' sum.
fn spin_portable(iterations: usize, x: f32) -> f32 {
    // `black_box` hides that the accumulators start equal, so they cannot be merged.
    let mut acc = std::hint::black_box([[x; 8]; 4]);
    for _ in 0..iterations {
        for c in acc.as_flattened_mut() {
            *c = c.mul_add(x, x);
        }
    }
    acc.as_flattened().iter().sum()
}

/// A micro-kernel tile of MR rows × NV vectors, four coordinates per turn of its loop (the
/// kernel's `fma_tile`), for one instruction set's vector type and five operations.
macro_rules! tile {
    (
        $(#[$attr:meta])* $name:ident, $v:ty, lanes = $lanes:expr, mr = $mr:expr, nv = $nv:expr,
        $zero:expr, $load:expr, $splat:expr, $fma:expr, $store:expr
    ) => {
        /// The micro-kernel's tile ([`Isa::tile`](super::Isa)).
        ///
        /// # Safety
        /// The CPU supports the instruction set; `a` is valid for d·MR reads, `b` for
        /// d·NV·LANES, `out` for the tile's writes at `stride`; d is a multiple of 4.
        $(#[$attr])*
        pub(super) unsafe fn $name(
            d: usize,
            a: *const f32,
            b: *const f32,
            out: *mut f32,
            stride: usize,
        ) {
            let nr = $nv * $lanes;
            // SAFETY: the caller's guarantees.
            unsafe {
                let mut acc: [[$v; $nv]; $mr] = [[$zero(); $nv]; $mr];
                for k in (0..d).step_by(4) {
                    for k in k..k + 4 {
                        let bk: [$v; $nv] =
                            std::array::from_fn(|v| $load(b.add(k * nr + v * $lanes)));
                        for (r, row) in acc.iter_mut().enumerate() {
                            let ar = $splat(*a.add(k * $mr + r));
                            for (c, &bv) in row.iter_mut().zip(&bk) {
                                *c = $fma(ar, bv, *c);
                            }
                        }
                    }
                }
                for (r, row) in acc.iter().enumerate() {
                    for (v, &c) in row.iter().enumerate() {
                        $store(out.add(r * stride + v * $lanes), c);
                    }
                }
            }
        }
    };
}

tile! {
    tile_portable, f32, lanes = 1, mr = 4, nv = 8,
    || 0.0f32, |p: *const f32| *p, |x: f32| x, f32::mul_add, |p: *mut f32, v| *p = v
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    tile! {
        #[target_feature(enable = "avx512f")] tile_avx512, __m512, lanes = 16, mr = 12, nv = 2,
        _mm512_setzero_ps, _mm512_loadu_ps, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_storeu_ps
    }

    tile! {
        #[target_feature(enable = "avx2,fma")] tile_avx2, __m256, lanes = 8, mr = 6, nv = 2,
        _mm256_setzero_ps, _mm256_loadu_ps, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_storeu_ps
    }

    /// Rounds of 12 × 2 zmm fused multiply-adds (12 × 32 f32), acc ← acc·x + x; returns the
    /// sum of every lane of every accumulator.
    #[target_feature(enable = "avx512f")]
    pub(super) fn spin_avx512(iterations: usize, x: f32) -> f32 {
        let m = _mm512_set1_ps(x);
        // `black_box` hides that the accumulators start equal, so they cannot be merged.
        let mut acc = std::hint::black_box([[m; 2]; 12]);
        for _ in 0..iterations {
            for c in acc.as_flattened_mut() {
                *c = _mm512_fmadd_ps(*c, m, m);
            }
        }
        let sum = acc
            .as_flattened()
            .iter()
            .fold(_mm512_setzero_ps(), |s, &c| _mm512_add_ps(s, c));
        _mm512_reduce_add_ps(sum)
    }

    /// Rounds of 6 × 2 ymm fused multiply-adds (6 × 16 f32), acc ← acc·x + x; returns the
    /// sum of every lane of every accumulator.
    #[target_feature(enable = "avx2,fma")]
    pub(super) fn spin_avx2(iterations: usize, x: f32) -> f32 {
        let m = _mm256_set1_ps(x);
        // `black_box` hides that the accumulators start equal, so they cannot be merged.
        let mut acc = std::hint::black_box([[m; 2]; 6]);
        for _ in 0..iterations {
            for c in acc.as_flattened_mut() {
                *c = _mm256_fmadd_ps(*c, m, m);
            }
        }
        let sum = acc
            .as_flattened()
            .iter()
            .fold(_mm256_setzero_ps(), |s, &c| _mm256_add_ps(s, c));
        let mut lanes = [0.0f32; 8];
        // SAFETY: `lanes` holds 8 f32, the 32 bytes an unaligned 256-bit store writes.
        unsafe { _mm256_storeu_ps(lanes.as_mut_ptr(), sum) };
        lanes.iter().sum()
    }
}
