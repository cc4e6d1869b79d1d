//! The register-blocked micro-kernels and their run-time dispatch: the kernel's only `unsafe`
//! (the crate's other `unsafe` maps files, `npy::map`, and lends `ndarray` views, `array`).
//!
//! A micro-kernel fills an MR × NR tile of dot products from two packed panels (see
//! [`super::pack`]): `a` holds MR rows interleaved by coordinate (`a[k·MR + r]`), `b` holds NR
//! rows interleaved the same way (`b[k·NR + c]`). Every entry is one sequential chain of fused
//! multiply-adds in the input precision, `acc ← fma(aₖ, bₖ, acc)` for k = 0, 1, …, d − 1 from
//! acc = 0, on every instruction set, so every path computes bitwise the same dot products;
//! only the tile shape and the speed differ.
//!
//! An instruction set is a zero-sized token ([`Avx512`], [`Avx2`], [`Portable`]) that can only
//! be obtained from [`Isa`], which checks the CPU at run time; holding one is the proof that
//! makes its `#[target_feature]` code safe to call.
//!
//! The tests also run each vector instruction set's tiles on every CPU: `PortableAvx512` and
//! `PortableAvx2` share their [`Geometry`] with the real tokens and replace the five
//! intrinsics of [`Lanes`] by arrays (`Array`), so that the packing, scheduling and tile
//! edges of every shipped tile shape are tested whatever the CPU of the test run.

use crate::Scalar;

/// An instruction set the kernel can run on. [`Isa::detect`] picks the fastest this CPU has.
/// Only this module can make one, and only after checking the CPU: holding an `Isa` is the
/// proof that its code may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Isa(Kind);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// x86-64 with AVX-512F: 16 f32 (8 f64) lanes, 32 vector registers.
    #[cfg(target_arch = "x86_64")]
    Avx512,
    /// x86-64 with AVX2 and FMA: 8 f32 (4 f64) lanes, 16 vector registers.
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// Any target: scalar code that the compiler may vectorise (NEON on aarch64).
    Portable,
    /// Tests, any target: the AVX-512 tiles with array lanes.
    #[cfg(test)]
    PortableAvx512,
    /// Tests, any target: the AVX2 tiles with array lanes.
    #[cfg(test)]
    PortableAvx2,
}

impl Isa {
    /// The fastest instruction set this CPU supports (checked at run time, cached by the
    /// standard library; a build without `-C target-cpu` still gets the vector paths).
    pub(crate) fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Self(Kind::Avx512);
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Self(Kind::Avx2);
            }
        }
        Self(Kind::Portable)
    }

    /// Every instruction set this CPU supports, fastest first, then the portable one, then the
    /// emulations of the vector instruction sets (which run on every CPU).
    #[cfg(test)]
    pub(crate) fn available() -> Vec<Self> {
        let mut found = vec![Self::detect()];
        #[cfg(target_arch = "x86_64")]
        if found[0] == Self(Kind::Avx512)
            && std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
        {
            found.push(Self(Kind::Avx2));
        }
        if found[0] != Self(Kind::Portable) {
            found.push(Self(Kind::Portable));
        }
        found.extend([Self(Kind::PortableAvx512), Self(Kind::PortableAvx2)]);
        found
    }

    /// Whether this is an emulation of a vector instruction set with array lanes (as slow as
    /// the portable kernel: the tests check only its dot products on their largest passes).
    #[cfg(test)]
    pub(crate) fn is_emulation(self) -> bool {
        matches!(self.0, Kind::PortableAvx512 | Kind::PortableAvx2)
    }

    /// Runs `job` with this instruction set's micro-kernel, with the whole job (driver,
    /// micro-kernel, epilogue: everything `#[inline(always)]`) compiled for that instruction
    /// set.
    pub(crate) fn run<T: Element, J: Job<T>>(self, job: J) -> J::Output {
        match self.0 {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Kind::Avx512` is only wrapped in an `Isa` (in this module) after
            // `is_x86_feature_detected!` confirmed AVX-512F on this CPU.
            Kind::Avx512 => unsafe { with_avx512(job, T::Avx512::new_unchecked()) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Kind::Avx2` is only wrapped after AVX2 and FMA were detected.
            Kind::Avx2 => unsafe { with_avx2(job, T::Avx2::new_unchecked()) },
            // SAFETY: the portable kernel runs on every CPU.
            Kind::Portable => job.run(unsafe { T::Portable::new_unchecked() }),
            #[cfg(test)]
            // SAFETY: the emulations use no CPU feature: they run on every CPU.
            Kind::PortableAvx512 => job.run(unsafe { T::PortableAvx512::new_unchecked() }),
            #[cfg(test)]
            // SAFETY: as above.
            Kind::PortableAvx2 => job.run(unsafe { T::PortableAvx2::new_unchecked() }),
        }
    }
}

/// Work generic over the micro-kernel, dispatched by [`Isa::run`]. Implementations mark `run`
/// `#[inline(always)]`, so that it is compiled inside the `#[target_feature]` trampoline.
pub(crate) trait Job<T: Element> {
    /// What the job computes.
    type Output;
    /// Runs the job with micro-kernel `kernel`.
    fn run<K: MicroKernel<T>>(self, kernel: K) -> Self::Output;
}

/// AVX-512F code generation for a job.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn with_avx512<T: Element, J: Job<T>>(job: J, kernel: T::Avx512) -> J::Output {
    job.run(kernel)
}

/// AVX2 + FMA code generation for a job.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn with_avx2<T: Element, J: Job<T>>(job: J, kernel: T::Avx2) -> J::Output {
    job.run(kernel)
}

/// A micro-kernel for element type `T`: a token whose existence proves the CPU can run it.
pub(crate) trait MicroKernel<T>: Copy + Send + Sync {
    /// Rows of the first panel in a tile (each broadcast across a vector).
    const MR: usize;
    /// Rows of the second panel in a tile (loaded as whole vectors).
    const NR: usize;

    /// The token.
    ///
    /// # Safety
    ///
    /// The CPU supports the instruction set (for the portable kernel: always).
    unsafe fn new_unchecked() -> Self;

    /// `out[r·stride + c] = Σₖ a[k·MR + r] · b[k·NR + c]` for r < MR, c < NR, k < d, each a
    /// sequential chain of fused multiply-adds in `T`.
    ///
    /// # Panics
    ///
    /// If `a` holds fewer than d·MR values, `b` fewer than d·NR, or `out` is too short for the
    /// tile at that stride.
    fn tile(self, d: usize, a: &[T], b: &[T], out: &mut [T], stride: usize);
}

/// The element types the kernel runs on (`f32` and `f64`, the two [`Scalar`]s), with a
/// micro-kernel per instruction set; the tokens are only created by [`Isa::run`].
pub(crate) trait Element: Scalar {
    /// Zero.
    const ZERO: Self;
    /// The AVX-512 micro-kernel's type.
    #[cfg(target_arch = "x86_64")]
    type Avx512: MicroKernel<Self>;
    /// The AVX2 micro-kernel's type.
    #[cfg(target_arch = "x86_64")]
    type Avx2: MicroKernel<Self>;
    /// The portable micro-kernel's type.
    type Portable: MicroKernel<Self>;
    /// The type of the emulation of the AVX-512 micro-kernel.
    #[cfg(test)]
    type PortableAvx512: MicroKernel<Self>;
    /// The type of the emulation of the AVX2 micro-kernel.
    #[cfg(test)]
    type PortableAvx2: MicroKernel<Self>;

    /// The Taylor degree of the exponentials of the epilogues ([`super::exp::reduced`]):
    /// enough for this precision's dot products.
    const EXP_DEGREE: usize;

    /// `self · a + b` with one rounding (the micro-kernels' step).
    fn mul_add(self, a: Self, b: Self) -> Self;
}

/// One instruction set's vector of `T`: the five operations a micro-kernel needs.
trait Lanes<T>: Copy {
    /// The vector.
    type V: Copy;
    /// The number of `T` in a vector.
    const LANES: usize;

    /// # Safety
    /// The CPU supports the instruction set.
    unsafe fn zero() -> Self::V;
    /// Every lane set to `*p`.
    ///
    /// # Safety
    /// The CPU supports the instruction set; `p` is valid for one read.
    unsafe fn splat(p: *const T) -> Self::V;
    /// `LANES` values from `p` (unaligned).
    ///
    /// # Safety
    /// The CPU supports the instruction set; `p` is valid for `LANES` reads.
    unsafe fn load(p: *const T) -> Self::V;
    /// `a · b + c` with one rounding per lane.
    ///
    /// # Safety
    /// The CPU supports the instruction set.
    unsafe fn fma(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// Writes `LANES` values to `p` (unaligned).
    ///
    /// # Safety
    /// The CPU supports the instruction set; `p` is valid for `LANES` writes.
    unsafe fn store(p: *mut T, v: Self::V);
}

/// The generic micro-kernel: MR × NV vector accumulators, live in registers for the whole
/// k-loop (MR·NV + NV + 1 registers must fit the instruction set's register file). The loop
/// takes [`UNROLL`] steps at a time: the same chains in the same order, with a quarter of the
/// loop's own instructions (on Zen 3, about 5 % more multiply-adds per second).
///
/// # Safety
/// The CPU supports `S`'s instruction set; `a` is valid for d·MR reads, `b` for d·NV·LANES
/// reads, and `out` for writes at `r·stride + c` for r < MR, c < NV·LANES.
#[inline(always)]
unsafe fn fma_tile<T, S: Lanes<T>, const MR: usize, const NV: usize>(
    d: usize,
    a: *const T,
    b: *const T,
    out: *mut T,
    stride: usize,
) {
    let nr = NV * S::LANES;
    // SAFETY: the caller guarantees the instruction set and every pointer range used below.
    unsafe {
        let mut acc = [[S::zero(); NV]; MR];
        let whole = d - d % UNROLL;
        for k in (0..whole).step_by(UNROLL) {
            for u in k..k + UNROLL {
                fma_step::<T, S, MR, NV>(&mut acc, a.add(u * MR), b.add(u * nr));
            }
        }
        for k in whole..d {
            fma_step::<T, S, MR, NV>(&mut acc, a.add(k * MR), b.add(k * nr));
        }
        for (r, row) in acc.iter().enumerate() {
            for (v, &c) in row.iter().enumerate() {
                S::store(out.add(r * stride + v * S::LANES), c);
            }
        }
    }
}

/// Coordinate steps [`fma_tile`] takes per turn of its loop.
const UNROLL: usize = 4;

/// One coordinate k of [`fma_tile`]: `acc[r][v] ← fma(aₖ[r], bₖ[v], acc[r][v])`.
///
/// # Safety
/// The CPU supports `S`'s instruction set; `ak` is valid for MR reads, `bk` for NV·LANES.
#[inline(always)]
unsafe fn fma_step<T, S: Lanes<T>, const MR: usize, const NV: usize>(
    acc: &mut [[S::V; NV]; MR],
    ak: *const T,
    bk: *const T,
) {
    // SAFETY: the caller guarantees the instruction set and the ranges.
    unsafe {
        let bv: [S::V; NV] = std::array::from_fn(|v| S::load(bk.add(v * S::LANES)));
        for (r, row) in acc.iter_mut().enumerate() {
            let ar = S::splat(ak.add(r));
            for (c, b) in row.iter_mut().zip(bv) {
                *c = S::fma(ar, b, *c);
            }
        }
    }
}

/// Checks the slice lengths a tile needs, so that [`fma_tile`]'s pointer reads stay in bounds.
#[inline(always)]
fn check_tile<T>(d: usize, mr: usize, nr: usize, a: &[T], b: &[T], out: &[T], stride: usize) {
    assert!(
        a.len() >= d * mr
            && b.len() >= d * nr
            && stride >= nr
            && out.len() >= (mr - 1) * stride + nr,
        "micro-kernel panels too short"
    );
}

/// A vector instruction set's geometry, shared by its token and the token that emulates it in
/// the tests, so that both run the same tiles.
#[cfg(any(test, target_arch = "x86_64"))]
#[derive(Clone, Copy)]
struct Geometry {
    /// Bytes of a vector register.
    bytes: usize,
    /// Rows of a tile ([`MicroKernel::MR`]).
    mr: usize,
    /// Vectors across a tile ([`MicroKernel::NR`] is `nv` times the lanes).
    nv: usize,
}

#[cfg(any(test, target_arch = "x86_64"))]
impl Geometry {
    /// The lanes of `T` in a vector.
    const fn lanes<T>(self) -> usize {
        self.bytes / size_of::<T>()
    }
}

/// AVX-512F: 64-byte vectors (16 f32, 8 f64); 12 × 2 accumulators of the 32 zmm registers.
#[cfg(any(test, target_arch = "x86_64"))]
const AVX512: Geometry = Geometry {
    bytes: 64,
    mr: 12,
    nv: 2,
};

/// AVX2: 32-byte vectors (8 f32, 4 f64); 6 × 2 accumulators of the 16 ymm registers.
#[cfg(any(test, target_arch = "x86_64"))]
const AVX2: Geometry = Geometry {
    bytes: 32,
    mr: 6,
    nv: 2,
};

/// Implements [`MicroKernel`] for a token and element type with the given lanes, and either a
/// vector instruction set's geometry (whose lanes must be those given) or a shape.
macro_rules! micro_kernel {
    ($token:ty, $elem:ty, $lanes:ty, $geometry:expr) => {
        const _: () = assert!(
            <$lanes as Lanes<$elem>>::LANES == $geometry.lanes::<$elem>(),
            "lanes of another width than the geometry's"
        );
        micro_kernel!($token, $elem, $lanes, mr = $geometry.mr, nv = $geometry.nv);
    };
    ($token:ty, $elem:ty, $lanes:ty, mr = $mr:expr, nv = $nv:expr) => {
        impl MicroKernel<$elem> for $token {
            const MR: usize = $mr;
            const NR: usize = $nv * <$lanes as Lanes<$elem>>::LANES;

            unsafe fn new_unchecked() -> Self {
                Self(())
            }

            #[inline(always)]
            fn tile(self, d: usize, a: &[$elem], b: &[$elem], out: &mut [$elem], stride: usize) {
                check_tile(
                    d,
                    $mr,
                    $nv * <$lanes as Lanes<$elem>>::LANES,
                    a,
                    b,
                    out,
                    stride,
                );
                // SAFETY: the token proves the instruction set (it is only created by `Isa`
                // after detection, or is the portable one or an emulation); `check_tile`
                // proved the ranges.
                unsafe {
                    fma_tile::<$elem, $lanes, { $mr }, { $nv }>(
                        d,
                        a.as_ptr(),
                        b.as_ptr(),
                        out.as_mut_ptr(),
                        stride,
                    )
                }
            }
        }
    };
}

/// The AVX-512F token.
#[cfg(target_arch = "x86_64")]
#[derive(Debug, Clone, Copy)]
pub(crate) struct Avx512(());

/// The AVX2 + FMA token.
#[cfg(target_arch = "x86_64")]
#[derive(Debug, Clone, Copy)]
pub(crate) struct Avx2(());

/// The portable token: valid on every CPU.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Portable(());

/// The emulation of the AVX-512 token: its tiles with [`Array`] lanes, valid on every CPU.
#[cfg(test)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct PortableAvx512(());

/// The emulation of the AVX2 token: its tiles with [`Array`] lanes, valid on every CPU.
#[cfg(test)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct PortableAvx2(());

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::{AVX2, AVX512, Avx2, Avx512, Lanes, MicroKernel, check_tile, fma_tile};

    /// 16 f32 lanes of a 512-bit zmm register (AVX-512F).
    #[derive(Clone, Copy)]
    pub(super) struct Zmm32;
    /// 8 f64 lanes of a zmm register (AVX-512F).
    #[derive(Clone, Copy)]
    pub(super) struct Zmm64;
    /// 8 f32 lanes of a 256-bit ymm register (AVX2 + FMA).
    #[derive(Clone, Copy)]
    pub(super) struct Ymm32;
    /// 4 f64 lanes of a ymm register (AVX2 + FMA).
    #[derive(Clone, Copy)]
    pub(super) struct Ymm64;

    /// Implements [`Lanes`] from the instruction set's five intrinsics.
    macro_rules! lanes {
        ($name:ty, $elem:ty, $v:ty,
         $zero:ident, $splat:ident, $load:ident, $fma:ident, $store:ident) => {
            impl Lanes<$elem> for $name {
                type V = $v;
                const LANES: usize = size_of::<$v>() / size_of::<$elem>();
                #[inline(always)]
                unsafe fn zero() -> $v {
                    // SAFETY: the caller guarantees the instruction set.
                    unsafe { $zero() }
                }
                #[inline(always)]
                unsafe fn splat(p: *const $elem) -> $v {
                    // SAFETY: the caller guarantees the instruction set and one valid read.
                    unsafe { $splat(*p) }
                }
                #[inline(always)]
                unsafe fn load(p: *const $elem) -> $v {
                    // SAFETY: the caller guarantees the instruction set and LANES valid reads.
                    unsafe { $load(p) }
                }
                #[inline(always)]
                unsafe fn fma(a: $v, b: $v, c: $v) -> $v {
                    // SAFETY: the caller guarantees the instruction set.
                    unsafe { $fma(a, b, c) }
                }
                #[inline(always)]
                unsafe fn store(p: *mut $elem, v: $v) {
                    // SAFETY: the caller guarantees the instruction set and LANES valid writes.
                    unsafe { $store(p, v) }
                }
            }
        };
    }

    lanes!(
        Zmm32,
        f32,
        __m512,
        _mm512_setzero_ps,
        _mm512_set1_ps,
        _mm512_loadu_ps,
        _mm512_fmadd_ps,
        _mm512_storeu_ps
    );
    lanes!(
        Zmm64,
        f64,
        __m512d,
        _mm512_setzero_pd,
        _mm512_set1_pd,
        _mm512_loadu_pd,
        _mm512_fmadd_pd,
        _mm512_storeu_pd
    );
    lanes!(
        Ymm32,
        f32,
        __m256,
        _mm256_setzero_ps,
        _mm256_set1_ps,
        _mm256_loadu_ps,
        _mm256_fmadd_ps,
        _mm256_storeu_ps
    );
    lanes!(
        Ymm64,
        f64,
        __m256d,
        _mm256_setzero_pd,
        _mm256_set1_pd,
        _mm256_loadu_pd,
        _mm256_fmadd_pd,
        _mm256_storeu_pd
    );

    micro_kernel!(Avx512, f32, Zmm32, AVX512);
    micro_kernel!(Avx512, f64, Zmm64, AVX512);
    micro_kernel!(Avx2, f32, Ymm32, AVX2);
    micro_kernel!(Avx2, f64, Ymm64, AVX2);
}

/// Scalar "vectors" of one lane; `mul_add` is the fused multiply-add on every target.
#[derive(Clone, Copy)]
struct Scalar1;

/// Implements [`Lanes`] of one lane for [`Scalar1`] and an element type.
macro_rules! scalar_lanes {
    ($elem:ty) => {
        impl Lanes<$elem> for Scalar1 {
            type V = $elem;
            const LANES: usize = 1;
            #[inline(always)]
            unsafe fn zero() -> $elem {
                0.0
            }
            #[inline(always)]
            unsafe fn splat(p: *const $elem) -> $elem {
                // SAFETY: the caller guarantees one valid read.
                unsafe { *p }
            }
            #[inline(always)]
            unsafe fn load(p: *const $elem) -> $elem {
                // SAFETY: the caller guarantees one valid read.
                unsafe { *p }
            }
            #[inline(always)]
            unsafe fn fma(a: $elem, b: $elem, c: $elem) -> $elem {
                a.mul_add(b, c)
            }
            #[inline(always)]
            unsafe fn store(p: *mut $elem, v: $elem) {
                // SAFETY: the caller guarantees one valid write.
                unsafe { *p = v }
            }
        }
    };
}
scalar_lanes!(f32);
scalar_lanes!(f64);

micro_kernel!(Portable, f32, Scalar1, mr = 4, nv = 8);
micro_kernel!(Portable, f64, Scalar1, mr = 4, nv = 8);

/// Array "vectors" of `N` lanes, each operation lane by lane, on every CPU: the vector
/// instruction sets' tiles without their intrinsics. `fma` is `mul_add` in every lane (one
/// rounding, as the intrinsics), so the tiles are bitwise those of the real kernels.
#[cfg(test)]
#[derive(Clone, Copy)]
struct Array<const N: usize>;

#[cfg(test)]
impl<T: Element, const N: usize> Lanes<T> for Array<N> {
    type V = [T; N];
    const LANES: usize = N;
    #[inline(always)]
    unsafe fn zero() -> [T; N] {
        [T::ZERO; N]
    }
    #[inline(always)]
    unsafe fn splat(p: *const T) -> [T; N] {
        // SAFETY: the caller guarantees one valid read.
        [unsafe { *p }; N]
    }
    #[inline(always)]
    unsafe fn load(p: *const T) -> [T; N] {
        // SAFETY: the caller guarantees N valid reads; `read_unaligned` needs no alignment.
        unsafe { p.cast::<[T; N]>().read_unaligned() }
    }
    #[inline(always)]
    unsafe fn fma(a: [T; N], b: [T; N], c: [T; N]) -> [T; N] {
        std::array::from_fn(|l| a[l].mul_add(b[l], c[l]))
    }
    #[inline(always)]
    unsafe fn store(p: *mut T, v: [T; N]) {
        // SAFETY: the caller guarantees N valid writes; `write_unaligned` needs no alignment.
        unsafe { p.cast::<[T; N]>().write_unaligned(v) }
    }
}

#[cfg(test)]
micro_kernel!(PortableAvx512, f32, Array<16>, AVX512);
#[cfg(test)]
micro_kernel!(PortableAvx512, f64, Array<8>, AVX512);
#[cfg(test)]
micro_kernel!(PortableAvx2, f32, Array<8>, AVX2);
#[cfg(test)]
micro_kernel!(PortableAvx2, f64, Array<4>, AVX2);

/// Implements [`Element`] for f32 or f64 with its exponential's Taylor degree.
macro_rules! element {
    ($elem:ty, $degree:expr) => {
        impl Element for $elem {
            const ZERO: Self = 0.0;
            const EXP_DEGREE: usize = $degree;
            #[cfg(target_arch = "x86_64")]
            type Avx512 = Avx512;
            #[cfg(target_arch = "x86_64")]
            type Avx2 = Avx2;
            type Portable = Portable;
            #[cfg(test)]
            type PortableAvx512 = PortableAvx512;
            #[cfg(test)]
            type PortableAvx2 = PortableAvx2;

            #[inline(always)]
            fn mul_add(self, a: Self, b: Self) -> Self {
                <$elem>::mul_add(self, a, b)
            }
        }
    };
}
element!(f32, super::exp::F32_DEGREE);
element!(f64, super::exp::F64_DEGREE);
