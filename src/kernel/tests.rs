//! One test body for every path: each instruction set this CPU has (portable, AVX2, AVX-512)
//! and, on every CPU, the emulations of the AVX-512 and AVX2 tiles with array lanes;
//! sequential and parallel passes, awkward shapes, f32 and f64, and every epilogue, against
//! naive references.
//!
//! Two layers of proof: the kernel's dot products equal `fma_dot` bit for bit (so every
//! comparison below is exact or limited by the epilogue's own rounding), and [`fma_dot`] is
//! within the classical bound γ_d·Σ|aₖbₖ| of the exact dot product.

use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::epilogue::{self, Runs, cross_entropies, cross_entropies_by_runs};
use super::passes::{
    self, Targets, cross_entropies_left_out_by_runs_on, cross_entropies_left_out_on,
    cross_entropies_on, dot_matrix_on, gaussian_log_mean_and_shares_on, gaussian_log_mean_on,
    histogram_on, rank_tiles, ranks_and_flips_on, ranks_of, ranks_on, row_cross_entropies_on,
    top_k_on, values_in_bins_on,
};
use super::schedule::{ALL_TILES, paired_dots};
use super::{Element, Isa, Rows, Sets};

/// Σₖ aₖ·bₖ as the micro-kernels compute it: one fused multiply-add chain in `T`, from k = 0.
fn fma_dot<T: Element>(a: &[T], b: &[T]) -> T {
    a.iter()
        .zip(b)
        .fold(T::ZERO, |acc, (&x, &y)| x.mul_add(y, acc))
}

/// Relative tolerance of an f64 epilogue against its naive f64 reference on the same dot
/// products (the reference sums with compensation, so it is exact to a few ulps). The
/// epilogue sums at most 2·10⁵ terms here in blocks of at most 512, eight lanes each, then
/// the blocks' partials in order: its error is at most about (64 + 400)·ε ≈ 1e-13 relative
/// to the sum of magnitudes, which for the histograms' centred sums (terms of both signs)
/// is at most 10 times the sum itself. 1e-12 leaves a factor 2 over that worst case.
const EPILOGUE: f64 = 1e-12;

/// The same for the log-sum-exps of passes over f32 dot products, whose exponentials stop at
/// the Taylor degree `F32_DEGREE` (7): each term then errs by up to 5.3e-9 relative (the
/// truncation bound in `exp.rs`), so a log of a sum of positive terms by up to 5.3e-9
/// absolute, and a mean cross-entropy (a log-sum-exp minus a logit) likewise. 1e-8 leaves a
/// factor 2; a lower degree (6: 1.2e-7) fails it.
const F32_EXP: f64 = 1e-8;

/// The tolerance of an epilogue built on exponentials, for element type `T`.
fn exp_tolerance<T: Element>() -> f64 {
    if T::EXP_DEGREE < super::exp::F64_DEGREE {
        F32_EXP
    } else {
        EPILOGUE
    }
}

/// n × d values, uniform in [−1, 1) (or unit rows), from a seed, rounded to `T`.
fn values<T: Element>(n: usize, d: usize, seed: u64, unit: bool) -> Vec<T> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut v: Vec<f64> = (0..n * d).map(|_| rng.random_range(-1.0..1.0)).collect();
    if unit {
        for row in v.chunks_exact_mut(d) {
            let norm = row.iter().map(|x| x * x).sum::<f64>().sqrt();
            row.iter_mut().for_each(|x| *x /= norm);
        }
    }
    v.into_iter().map(T::from_f64).collect()
}

/// The shapes (n, m, d) every path runs: edges (1, lane widths ± 1, tile and block
/// boundaries), n ≠ m, and two passes large enough to run in parallel over several tasks.
fn shapes() -> Vec<(usize, usize, usize)> {
    let mut shapes = vec![
        (1, 1, 1),
        (1, 7, 3),
        (7, 1, 130),
        (2, 2, 2),
        (5, 13, 17),
        (13, 5, 16),
        (33, 31, 9),
        (64, 70, 64),
        (70, 64, 127),
        (12, 32, 33),
        (6, 16, 8),
        (25, 65, 1),
        (69, 69, 130),
    ];
    let mut rng = StdRng::seed_from_u64(7);
    shapes.extend((0..12).map(|_| {
        (
            rng.random_range(1..=70),
            rng.random_range(1..=70),
            rng.random_range(1..=130),
        )
    }));
    shapes.push((300, 530, 40)); // several column blocks, parallel
    shapes.push((1100, 40, 200)); // several sweeps and tasks, parallel
    shapes
}

/// The matrix of `fma_dot(aᵢ, bⱼ)`.
fn fma_matrix<T: Element>(a: &[T], b: &[T], d: usize) -> Vec<T> {
    a.chunks_exact(d)
        .flat_map(|x| b.chunks_exact(d).map(move |y| fma_dot(x, y)))
        .collect()
}

#[track_caller]
fn assert_close(actual: f64, expected: f64, tolerance: f64, what: &str) {
    let bound = tolerance * expected.abs().max(1.0);
    assert!(
        (actual - expected).abs() <= bound,
        "{what}: {actual:e} vs {expected:e}"
    );
}

/// A pass of `a` against `b` and of `a` with itself, with its dot products as every
/// instruction set must compute them: made once, checked on each.
struct Pass<T> {
    /// The rows of `a`.
    n: usize,
    /// The rows of `b`.
    m: usize,
    /// The dimension.
    d: usize,
    /// The seed of `a` (`b`: `seed + 1`; the epilogues' raw rows: `seed + 2`, `seed + 3`).
    seed: u64,
    /// n × d unit rows.
    a: Vec<T>,
    /// m × d unit rows.
    b: Vec<T>,
    /// The n × m matrix of `fma_dot(aᵢ, bⱼ)`.
    between: Vec<T>,
    /// `fma_dot(aᵢ, aⱼ)` for i < j, in order (i, j).
    within: Vec<f64>,
}

impl<T: Element> Pass<T> {
    /// The pass of n × d unit rows from `seed` against m × d from `seed + 1`.
    fn new(n: usize, m: usize, d: usize, seed: u64) -> Self {
        let (a, b) = (
            values::<T>(n, d, seed, true),
            values::<T>(m, d, seed + 1, true),
        );
        let row = |i: usize| &a[i * d..][..d];
        let within = (0..n)
            .flat_map(|i| (i + 1..n).map(move |j| fma_dot(row(i), row(j)).to_f64()))
            .collect();
        Self {
            n,
            m,
            d,
            seed,
            between: fma_matrix(&a, &b, d),
            within,
            a,
            b,
        }
    }

    /// The pass's name in failure messages.
    fn label(&self, isa: Isa) -> String {
        let (n, m, d) = (self.n, self.m, self.d);
        format!("{isa:?} {} n={n} m={m} d={d}", T::NAME)
    }
}

/// The dot products of `pass` on `isa`, bit for bit: of A × B, of the pairs i < j of A (as a
/// multiset: every value falls in the one bin of `values_in_bins`), and the paired dots when
/// n = m.
fn check_dots<T: Element>(isa: Isa, pass: &Pass<T>) {
    let what = pass.label(isa);
    let (n, m, d) = (pass.n, pass.m, pass.d);
    let (a, b, dots) = (&pass.a[..], &pass.b[..], &pass.between[..]);
    let mut matrix = vec![f64::NAN; n * m];
    dot_matrix_on(isa, Sets::new(a, b, d), &mut matrix);
    for (k, (&got, &want)) in matrix.iter().zip(dots).enumerate() {
        assert_eq!(got, want.to_f64(), "{what}: dot ({}, {})", k / m, k % m);
    }
    if n == m {
        let diagonal = paired_dots(isa, Rows::new(a, d), Rows::new(b, d));
        let expected: Vec<T> = (0..n).map(|i| dots[i * m + i]).collect();
        assert!(diagonal == expected, "{what}: paired dots");
    }
    let mut got = values_in_bins_on(isa, Sets::one(a, d), true, &[true], ALL_TILES).concat();
    let mut expected = pass.within.clone();
    got.sort_by(f64::total_cmp);
    expected.sort_by(f64::total_cmp);
    assert!(got == expected, "{what}: dots within");
}

/// Every epilogue of `pass` on `isa`, checked, after its dot products ([`check_dots`]).
/// The tiles of the cross-entropies' pass with `targets`, their target dots included, merged
/// in order: the bits of the pass in one process.
fn check_cross_entropy_tiles(
    sets: Sets<'_>,
    shape: (usize, usize, usize, usize),
    scale: f64,
    targets: Targets<'_>,
) {
    let bounds = (scale, 1.0 + 1e-6);
    let tiles = passes::cross_entropy_tiles(sets, bounds, targets, ALL_TILES);
    let tiles = tiles.into_iter().map(|(tile, _)| tile).collect();
    assert_eq!(
        passes::cross_entropies_of(tiles, shape, scale, targets),
        Some(passes::cross_entropies(sets, scale, bounds.1, targets)),
        "tiles of the cross-entropies, {shape:?} at {scale}, {targets:?}"
    );
}

fn check_every_epilogue<T: Element>(isa: Isa, pass: &Pass<T>) {
    check_dots(isa, pass);
    let what = pass.label(isa);
    let (n, m, d, seed) = (pass.n, pass.m, pass.d, pass.seed);
    let (a, b, dots) = (&pass.a[..], &pass.b[..], &pass.between[..]);
    let within = &pass.within[..];
    let (ra, rb) = (Rows::new(a, d), Rows::new(b, d));
    let sets = Sets::new(a, b, d);
    let exp = exp_tolerance::<T>();

    // Row and column log-sum-exps at a scale with one shift, and at one needing two.
    for scale in [100.0, 1000.0] {
        let (rows, cols) = cross_entropies(isa, ra, rb, scale, 1.0 + 1e-6);
        // Its tiles, each task against each panel of columns (a block each in these tests),
        // merged in order: the same bits.
        let tiles = epilogue::cross_entropy_tiles(isa, (ra, rb), (scale, 1.0 + 1e-6), ALL_TILES);
        let merged = epilogue::merge_cross_entropy_tiles(tiles, (n, m, d, size_of::<T>()));
        assert!(
            merged == Some((rows.clone(), cols.clone())),
            "{what}: tiles at {scale}"
        );
        for i in 0..n {
            let z: Vec<f64> = (0..m).map(|j| scale * dots[i * m + j].to_f64()).collect();
            assert_close(
                rows[i].value(),
                naive_lse(&z),
                exp,
                &format!("{what}: row {i} at {scale}"),
            );
        }
        for j in 0..m {
            let z: Vec<f64> = (0..n).map(|i| scale * dots[i * m + j].to_f64()).collect();
            assert_close(
                cols[j].value(),
                naive_lse(&z),
                exp,
                &format!("{what}: col {j} at {scale}"),
            );
        }
        // The door: the two mean cross-entropies against the diagonal.
        if n == m {
            check_cross_entropy_tiles(sets, (n, m, d, size_of::<T>()), scale, Targets::Diagonal);
            let labels: Vec<usize> = (0..n).map(|i| (3 * i + 1) % m).collect();
            let labels = Targets::Labels(&labels);
            check_cross_entropy_tiles(sets, (n, m, d, size_of::<T>()), scale, labels);
            let (to_b, to_a) = cross_entropies_on(isa, sets, scale, 1.0 + 1e-6, Targets::Diagonal);
            let z = |i: usize, j: usize| scale * dots[i * m + j].to_f64();
            let mean = |per: &dyn Fn(usize) -> f64| accurate_sum((0..n).map(per)) / n as f64;
            let rows = mean(&|i| naive_lse(&(0..m).map(|j| z(i, j)).collect::<Vec<_>>()) - z(i, i));
            let cols = mean(&|j| naive_lse(&(0..n).map(|i| z(i, j)).collect::<Vec<_>>()) - z(j, j));
            assert_close(to_b, rows, exp, &format!("{what}: mean CE rows at {scale}"));
            assert_close(
                to_a,
                cols,
                exp,
                &format!("{what}: mean CE columns at {scale}"),
            );
            if n >= 2 {
                let left_out = cross_entropies_left_out_on(isa, sets, scale, 1.0 + 1e-6);
                assert_eq!(left_out.means, (to_b, to_a), "{what}: means left out");
                let samples: Vec<_> = (0..n).map(|i| i..i + 1).collect();
                check_left_out(&left_out, &z, &samples, exp, &format!("{what} at {scale}"));
            }
            // The same pass with each column's parts over runs of the rows, and each run's
            // deviations from it.
            let (all_rows, all_cols) = cross_entropies(isa, ra, rb, scale, 1.0 + 1e-6);
            for g in [1, 2, 5, n].into_iter().filter(|&g| g <= n) {
                let runs = Runs::new(n, g);
                let pass = cross_entropies_by_runs(isa, (ra, rb), (scale, 1.0 + 1e-6), runs);
                let what = format!("{what}: {g} runs at {scale}");
                assert!(
                    pass.rows == all_rows && pass.cols == all_cols,
                    "{what}: totals"
                );
                for j in 0..n {
                    for h in 0..g {
                        let down: Vec<f64> = runs.range(h).map(|k| z(k, j)).collect();
                        let got = pass.col_runs[h * n + j].value();
                        assert_close(
                            got,
                            naive_lse(&down),
                            exp,
                            &format!("{what}: col {j}, run {h}"),
                        );
                    }
                }
                if g >= 2 {
                    let left_out =
                        cross_entropies_left_out_by_runs_on(isa, sets, scale, 1.0 + 1e-6, runs);
                    assert_eq!(left_out.means, (to_b, to_a), "{what}: means left out");
                    let units: Vec<_> = (0..g).map(|h| runs.range(h)).collect();
                    check_left_out(&left_out, &z, &units, exp, &what);
                }
            }
        }
        // Each row's cross-entropy against all columns, to targets of our choosing.
        let targets: Vec<usize> = (0..n).map(|i| (3 * i + 1) % m).collect();
        let per_row = row_cross_entropies_on(isa, sets, scale, 1.0 + 1e-6, &targets);
        for (i, (&got, &t)) in per_row.iter().zip(&targets).enumerate() {
            let z: Vec<f64> = (0..m).map(|j| scale * dots[i * m + j].to_f64()).collect();
            let expected = naive_lse(&z) - z[t];
            assert_close(
                got,
                expected,
                exp,
                &format!("{what}: CE of row {i} at {scale}"),
            );
        }
        // Grouped positives: column j belongs to row g(j), every row has one or more.
        if m >= n {
            let g = groups(n, m);
            let (to_b, to_a) =
                cross_entropies_on(isa, sets, scale, 1.0 + 1e-6, Targets::Groups(&g));
            check_cross_entropy_tiles(sets, (n, m, d, size_of::<T>()), scale, Targets::Groups(&g));
            let z = |i: usize, j: usize| scale * dots[i * m + j].to_f64();
            let rows = accurate_sum((0..n).map(|i| {
                let mine: Vec<usize> = (0..m).filter(|&j| g[j] == i).collect();
                let lse = naive_lse(&(0..m).map(|j| z(i, j)).collect::<Vec<_>>());
                mine.iter().map(|&j| lse - z(i, j)).sum::<f64>() / mine.len() as f64
            })) / n as f64;
            let cols = accurate_sum(
                (0..m)
                    .map(|j| naive_lse(&(0..n).map(|i| z(i, j)).collect::<Vec<_>>()) - z(g[j], j)),
            ) / m as f64;
            assert_close(
                to_b,
                rows,
                exp,
                &format!("{what}: grouped CE rows at {scale}"),
            );
            assert_close(
                to_a,
                cols,
                exp,
                &format!("{what}: grouped CE columns at {scale}"),
            );
        }
    }

    // Ranks and top-k: exact.
    if n == m {
        let targets: Vec<T> = (0..n).map(|i| dots[i * m + i]).collect();
        let (row_ranks, col_ranks) = ranks_on(isa, sets, None);
        let tiles = rank_tiles(sets, None, ALL_TILES);
        assert!(
            ranks_of(tiles, (n, m, d, size_of::<T>()))
                == Some((row_ranks.clone(), col_ranks.clone())),
            "{what}: tiles of ranks"
        );
        for i in 0..n {
            let outranks = |s: T, j: usize| s > targets[i] || (s == targets[i] && j > i);
            let expected = (0..m).filter(|&j| outranks(dots[i * m + j], j)).count();
            assert_eq!(row_ranks[i], expected as u64, "{what}: row rank {i}");
            let expected = (0..n).filter(|&r| outranks(dots[r * m + i], r)).count();
            assert_eq!(col_ranks[i], expected as u64, "{what}: column rank {i}");
        }
        // The flips of Recall@K's jackknife, from the ranks' own pass, at a K that some ranks
        // equal (and K = 1, the usual one).
        let beats = |s: T, j: usize, i: usize| s > targets[i] || (s == targets[i] && j > i);
        for k in [row_ranks[n / 2], col_ranks[0], 1] {
            let (same_ranks, (col_flips, row_flips)) = ranks_and_flips_on(isa, sets, k);
            assert_eq!(
                same_ranks,
                (row_ranks.clone(), col_ranks.clone()),
                "{what}: ranks"
            );
            for j in 0..n {
                let expected = (0..n)
                    .filter(|&i| row_ranks[i] == k && beats(dots[i * m + j], j, i))
                    .count();
                assert_eq!(
                    col_flips[j], expected as u64,
                    "{what}: flips of column {j}, K = {k}"
                );
                let expected = (0..n)
                    .filter(|&c| col_ranks[c] == k && beats(dots[j * m + c], j, c))
                    .count();
                assert_eq!(
                    row_flips[j], expected as u64,
                    "{what}: flips of row {j}, K = {k}"
                );
            }
        }
        // No query at rank n (ranks are at most n − 1): no flips.
        let (_, none) = ranks_and_flips_on(isa, sets, n as u64);
        assert_eq!(none, (vec![0; m], vec![0; n]), "{what}: no query at rank n");
    }
    if m >= n {
        let g = groups(n, m);
        let (row_ranks, col_ranks) = ranks_on(isa, sets, Some(&g));
        let tiles = rank_tiles(sets, Some(&g), ALL_TILES);
        assert!(
            ranks_of(tiles, (n, m, d, size_of::<T>()))
                == Some((row_ranks.clone(), col_ranks.clone())),
            "{what}: tiles of grouped ranks"
        );
        for i in 0..n {
            // The best positive: the largest value, on ties the larger index.
            let best = (0..m)
                .filter(|&j| g[j] == i)
                .max_by(|&x, &y| {
                    dots[i * m + x]
                        .partial_cmp(&dots[i * m + y])
                        .unwrap()
                        .then(x.cmp(&y))
                })
                .unwrap();
            let target = dots[i * m + best];
            let expected = (0..m)
                .filter(|&j| dots[i * m + j] > target || (dots[i * m + j] == target && j > best))
                .count();
            assert_eq!(
                row_ranks[i], expected as u64,
                "{what}: grouped row rank {i}"
            );
        }
        for j in 0..m {
            let target = dots[g[j] * m + j];
            let expected = (0..n)
                .filter(|&r| dots[r * m + j] > target || (dots[r * m + j] == target && r > g[j]))
                .count();
            assert_eq!(
                col_ranks[j], expected as u64,
                "{what}: grouped column rank {j}"
            );
        }
    }
    for k in [1, 5] {
        let (indices, similarities) = top_k_on(isa, sets, k);
        let width = k.min(m);
        for i in 0..n {
            let got: Vec<(f64, usize)> = similarities[i * width..][..width]
                .iter()
                .copied()
                .zip(indices[i * width..][..width].iter().copied())
                .collect();
            let mut order: Vec<usize> = (0..m).collect();
            order.sort_by(|&x, &y| {
                let (sx, sy) = (dots[i * m + x], dots[i * m + y]);
                sy.partial_cmp(&sx).unwrap().then(y.cmp(&x))
            });
            let expected: Vec<(f64, usize)> = order
                .into_iter()
                .take(k)
                .map(|j| (dots[i * m + j].to_f64(), j))
                .collect();
            assert!(got == expected, "{what}: top-{k} of row {i}");
        }
    }

    // Histograms of A × B and of the pairs i < j of A.
    let between: Vec<f64> = dots.iter().map(|v| v.to_f64()).collect();
    check_histogram(histogram_on(isa, sets, false, 37, 0.1), &between, &what);
    check_histogram(
        histogram_on(isa, Sets::one(a, d), true, 1000, -0.2),
        within,
        &what,
    );

    // The values in chosen bins (every third of 37): exactly the dot products there.
    let wanted: Vec<bool> = (0..37).map(|bin| bin % 3 == 1).collect();
    let bin = |v: f64| (((v + 1.0) * 37.0 / 2.0) as usize).min(36);
    for (pass_within, all, sets) in [(false, &between[..], sets), (true, within, Sets::one(a, d))] {
        let mut got = values_in_bins_on(isa, sets, pass_within, &wanted, ALL_TILES).concat();
        let mut expected: Vec<f64> = all.iter().copied().filter(|&v| wanted[bin(v)]).collect();
        got.sort_by(f64::total_cmp);
        expected.sort_by(f64::total_cmp);
        assert_eq!(
            got, expected,
            "{what}: values in bins (within: {pass_within})"
        );
    }

    // The Gaussian potential over the pairs i < j of raw (not unit) rows, shifted and scaled.
    let x = values::<T>(n, d, seed + 2, false);
    let shift: Vec<f64> = (0..d).map(|k| 0.01 * k as f64).collect();
    let rows = Rows::new(&x, d).shifted(&shift, 0.5);
    let seen: Vec<T> = x
        .chunks_exact(d)
        .flat_map(|r| {
            r.iter()
                .zip(&shift)
                .map(|(v, s)| T::from_f64((v.to_f64() - s) * 0.5))
        })
        .collect();
    let norms: Vec<f64> = paired_dots(isa, rows, rows)
        .iter()
        .map(|v| v.to_f64())
        .collect();
    for (i, norm) in norms.iter().enumerate() {
        let row = &seen[i * d..][..d];
        assert_eq!(
            *norm,
            fma_dot(row, row).to_f64(),
            "{what}: shifted norm {i}"
        );
    }
    let t = 0.7;
    let got = gaussian_log_mean_on(isa, Sets::one(&x, d), true, &shift, 0.5, t);
    let gram = fma_matrix(&seen, &seen, d);
    let pairs: Vec<(usize, usize)> = (0..n)
        .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
        .collect();
    let z: Vec<f64> = pairs
        .iter()
        .map(|&(i, j)| -t * ((norms[i] + norms[j]) - 2.0 * gram[i * n + j].to_f64()).max(0.0) * 4.0)
        .collect();
    if n >= 2 {
        let expected = naive_lse(&z) - (z.len() as f64).ln();
        assert_close(got, expected, exp, &format!("{what}: gaussian"));
        let (log_mean, shares) =
            gaussian_log_mean_and_shares_on(isa, Sets::one(&x, d), true, &shift, 0.5, t);
        assert_eq!(log_mean, got, "{what}: gaussian with shares");
        check_shares(&shares, n, &pairs, &z, exp, &format!("{what}: shares"));
    }

    // The same potential between x and a second set y of n rows, the pairs i ≠ j, both sets
    // shifted and scaled alike.
    let y = values::<T>(n, d, seed + 3, false);
    let y_rows = Rows::new(&y, d).shifted(&shift, 0.5);
    let y_seen = y_rows.gather(&(0..n).collect::<Vec<_>>());
    let y_norms: Vec<f64> = y_seen
        .chunks_exact(d)
        .map(|r| fma_dot(r, r).to_f64())
        .collect();
    let got = gaussian_log_mean_on(isa, Sets::new(&x, &y, d), false, &shift, 0.5, t);
    let cross = fma_matrix(&seen, &y_seen, d);
    let pairs: Vec<(usize, usize)> = (0..n)
        .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
        .collect();
    let z: Vec<f64> = pairs
        .iter()
        .map(|&(i, j)| {
            -t * ((norms[i] + y_norms[j]) - 2.0 * cross[i * n + j].to_f64()).max(0.0) * 4.0
        })
        .collect();
    if n >= 2 {
        let expected = naive_lse(&z) - (z.len() as f64).ln();
        assert_close(got, expected, exp, &format!("{what}: gaussian between"));
        let (log_mean, shares) =
            gaussian_log_mean_and_shares_on(isa, Sets::new(&x, &y, d), false, &shift, 0.5, t);
        assert_eq!(log_mean, got, "{what}: gaussian between with shares");
        check_shares(
            &shares,
            n,
            &pairs,
            &z,
            exp,
            &format!("{what}: shares between"),
        );
    }
}

/// The deviations L₋ᵢ − L of the two mean cross-entropies against the diagonal, when row i
/// and column i of the n × n logits `z` leave, against the means recomputed without them.
fn check_left_out(
    left_out: &super::passes::LeftOut,
    z: &dyn Fn(usize, usize) -> f64,
    units: &[std::ops::Range<usize>],
    tol: f64,
    what: &str,
) {
    let n = units.last().map_or(0, |unit| unit.end);
    // The mean over rows (columns with `transpose`) of the samples in `keep`.
    let mean = |keep: &[usize], transpose: bool| {
        let z = |k: usize, j: usize| if transpose { z(j, k) } else { z(k, j) };
        let per = keep
            .iter()
            .map(|&k| naive_lse(&keep.iter().map(|&j| z(k, j)).collect::<Vec<_>>()) - z(k, k));
        accurate_sum(per) / keep.len() as f64
    };
    let all: Vec<usize> = (0..n).collect();
    for (transpose, got, side) in [
        (false, &left_out.rows, "rows"),
        (true, &left_out.cols, "columns"),
    ] {
        assert_eq!(got.len(), units.len(), "{what}: {side} left out");
        let whole = mean(&all, transpose);
        for (unit, &got) in units.iter().zip(got) {
            let keep: Vec<usize> = (0..n).filter(|k| !unit.contains(k)).collect();
            let expected = mean(&keep, transpose) - whole;
            assert_close(
                got,
                expected,
                tol,
                &format!("{what}: {side} without {unit:?}"),
            );
        }
    }
}

/// Each sample's share (rₖ − r̄)/S of the potentials exp(z) of `pairs`, rₖ summing the pairs
/// that contain k, S all of them, r̄ = 2S/n, against the kernel's `shares`: each sum carries
/// the relative error `tol` of the exponentials, so a share errs by up to
/// tol·(rₖ + r̄)/S = tol·(share + 2r̄/S) = tol·(share + 4/n).
fn check_shares(
    shares: &[f64],
    n: usize,
    pairs: &[(usize, usize)],
    z: &[f64],
    tol: f64,
    what: &str,
) {
    // Shares do not change when every term is scaled alike: shift by the largest exponent.
    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let total = accurate_sum(z.iter().map(|z| (z - max).exp()));
    let mut r = vec![Vec::new(); n];
    for (&(i, j), z) in pairs.iter().zip(z) {
        r[i].push((z - max).exp());
        r[j].push((z - max).exp());
    }
    let mean = 2.0 * total / n as f64;
    let expected: Vec<f64> = r
        .into_iter()
        .map(|terms| (accurate_sum(terms) - mean) / total)
        .collect();
    assert_eq!(shares.len(), n, "{what}: length");
    for (k, (got, want)) in shares.iter().zip(&expected).enumerate() {
        assert!(
            (got - want).abs() <= tol * (want.abs() + 4.0 / n as f64),
            "{what}[{k}]: got {got:e}, expected {want:e}"
        );
    }
}

/// Σ values with Neumaier's compensation: the reference sums are accurate to a few ulps
/// whatever their length.
/// Groups of columns for rows: column j belongs to row n − 1 − (j mod n) (m ≥ n, so every row
/// has one or more columns, and the groups differ in size unless n divides m).
fn groups(n: usize, m: usize) -> Vec<usize> {
    (0..m).map(|j| n - 1 - j % n).collect()
}

fn accurate_sum(values: impl IntoIterator<Item = f64>) -> f64 {
    let (mut sum, mut carry) = (0.0f64, 0.0);
    for v in values {
        let t = sum + v;
        carry += if sum.abs() >= v.abs() {
            (sum - t) + v
        } else {
            (v - t) + sum
        };
        sum = t;
    }
    sum + carry
}

fn naive_lse(z: &[f64]) -> f64 {
    let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    max + accurate_sum(z.iter().map(|v| (v - max).exp())).ln()
}

fn check_histogram(got: super::epilogue::CosineCounts, values: &[f64], what: &str) {
    let bins = got.counts.len();
    let mut expected = vec![0u64; bins];
    for &v in values {
        let bin = (((v + 1.0) * bins as f64 / 2.0).floor().max(0.0) as usize).min(bins - 1);
        expected[bin] += 1;
    }
    assert_eq!(got.counts, expected, "{what}: histogram counts");
    let centred = accurate_sum(values.iter().map(|v| v - got.centre));
    let squares = accurate_sum(values.iter().map(|v| (v - got.centre).powi(2)));
    assert_close(
        got.sum,
        centred,
        EPILOGUE,
        &format!("{what}: histogram sum"),
    );
    assert_close(
        got.sum_squares,
        squares,
        EPILOGUE,
        &format!("{what}: histogram squares"),
    );
    let (min, max) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    assert_eq!((got.min, got.max), (min, max), "{what}: histogram range");
}

/// The multiply-adds n·m·d of the largest pass on which the emulations of the vector
/// instruction sets check every epilogue: above it (the two parallel shapes of [`shapes`],
/// whose epilogues and references would cost each emulation seconds), their dot products.
const EMULATION_EPILOGUES_UP_TO: usize = 1 << 20;

#[test]
fn every_path_every_epilogue_every_shape() {
    for (s, &(n, m, d)) in shapes().iter().enumerate() {
        let single = Pass::<f32>::new(n, m, d, s as u64);
        let double = Pass::<f64>::new(n, m, d, 100 + s as u64);
        for isa in Isa::available() {
            if isa.is_emulation() && n * m * d > EMULATION_EPILOGUES_UP_TO {
                check_dots(isa, &single);
                check_dots(isa, &double);
            } else {
                check_every_epilogue(isa, &single);
                check_every_epilogue(isa, &double);
            }
        }
    }
}

/// |fma_dot(a, b) − a·b| ≤ γ_d Σ|aₖbₖ|, γ_d = d·u / (1 − d·u), against the exact f64 sum of
/// the products of f32 values (each product and the sum exact to far below f32's u).
fn check_fma_dot_bound(d: usize, seed: u64) {
    let (a, b) = (
        values::<f32>(1, d, seed, false),
        values::<f32>(1, d, seed + 1, false),
    );
    let exact: f64 = a
        .iter()
        .zip(&b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum();
    let magnitude: f64 = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (f64::from(*x) * f64::from(*y)).abs())
        .sum();
    let du = d as f64 * f64::from(f32::EPSILON) / 2.0;
    let bound = du / (1.0 - du) * magnitude;
    let got = f64::from(fma_dot(&a, &b));
    assert!(
        (got - exact).abs() <= bound,
        "d={d}: {got} vs {exact} (bound {bound:e})"
    );
}

#[test]
fn fma_dot_is_within_the_classical_error_bound() {
    for d in [1, 2, 7, 64, 512, 768, 4096] {
        for seed in 0..20 {
            check_fma_dot_bound(d, seed);
        }
    }
}

#[test]
fn passes_are_bitwise_identical_for_any_thread_count() {
    // Four tasks for every pass (TASK_MULTIPLE), each parallel pass above the cut-off, each
    // task of many sweeps (the unit tests' sweeps are small).
    let (n, m, d) = (2500, 700, 256);
    let (a, b) = (values::<f32>(n, d, 1, true), values::<f32>(m, d, 2, true));
    let (ra, rb) = (Rows::new(&a, d), Rows::new(&b, d));
    let isa = Isa::detect();
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let (rows, cols) = cross_entropies(isa, ra, rb, 50.0, 1.0 + 1e-6);
            let counts = histogram_on(isa, Sets::one(&a, d), true, 64, 0.0);
            let zero = vec![0.0; d];
            let potential = gaussian_log_mean_on(isa, Sets::one(&a, d), true, &zero, 1.0, 2.0);
            let between =
                gaussian_log_mean_on(isa, Sets::new(&a[..m * d], &b, d), false, &zero, 1.0, 2.0);
            let (_, shares) =
                gaussian_log_mean_and_shares_on(isa, Sets::one(&a, d), true, &zero, 1.0, 2.0);
            let left_out =
                cross_entropies_left_out_on(isa, Sets::new(&a[..m * d], &b, d), 50.0, 1.0 + 1e-6);
            let by_runs = cross_entropies_left_out_by_runs_on(
                isa,
                Sets::new(&a[..m * d], &b, d),
                50.0,
                1.0 + 1e-6,
                Runs::new(m, 9),
            );
            let mut out: Vec<f64> = rows.iter().chain(&cols).map(|l| l.value()).collect();
            out.extend(left_out.rows.iter().chain(&left_out.cols));
            out.extend(by_runs.rows.iter().chain(&by_runs.cols));
            out.extend([counts.sum, counts.sum_squares, potential, between]);
            out.extend(shares);
            out
        })
    };
    let one = run(1);
    for threads in [2, 8] {
        let other = run(threads);
        assert!(
            one.iter()
                .zip(&other)
                .all(|(x, y)| x.to_bits() == y.to_bits()),
            "{threads} threads differ"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn random_shapes_and_values_on_every_path(
        n in 1usize..50, m in 1usize..50, d in 1usize..100, seed in 0u64..1000,
    ) {
        let (single, double) = (Pass::<f32>::new(n, m, d, seed), Pass::<f64>::new(n, m, d, seed));
        for isa in Isa::available() {
            check_every_epilogue(isa, &single);
            check_every_epilogue(isa, &double);
        }
    }
}

/// The f32 exponential (degree 7) at its worst: near-duplicate rows, where every exponent is
/// near 0 and only expm1's relative precision carries the value, and a large t, where the
/// exponents spread over tens of units and cross every reduction interval. Each pass is checked
/// against log1p(mean expm1 z) or the log-sum-exp, in f64, of the same f32 dot products.
#[test]
fn the_f32_exponential_keeps_tight_cones_exact_and_large_t_within_its_bound() {
    let (n, d) = (90, 16);
    let centre: Vec<f64> = (0..d).map(|k| 1.0 + 0.1 * k as f64).collect();
    // (noise, t, tolerance, relative): the tolerance is relative to |value| when `relative`.
    let cases = [
        (1e-3, 2.0, 1e-12, true),      // exponents ~ −1e-5: full relative precision
        (1e-2, 300.0, F32_EXP, false), // exponents ~ −0.1 … −2: k ≠ 0, r near ±ln 2 / 2
        (3e-2, 5e3, F32_EXP, false),   // exponents to about −100: the terms spread widely
    ];
    for (noise, t, tolerance, relative) in cases {
        let jitter = values::<f64>(n, d, 11, false);
        let x: Vec<f32> = jitter
            .iter()
            .enumerate()
            .map(|(k, e)| (centre[k % d] + noise * e) as f32)
            .collect();
        let mean: Vec<f64> = (0..d)
            .map(|k| {
                x.iter()
                    .skip(k)
                    .step_by(d)
                    .map(|&v| f64::from(v))
                    .sum::<f64>()
                    / n as f64
            })
            .collect();
        let scale = (1.0 / noise).log2().round().exp2();
        let rows = Rows::new(&x, d).shifted(&mean, scale);
        let seen = rows.gather(&(0..n).collect::<Vec<_>>());
        let norms: Vec<f64> = seen
            .chunks_exact(d)
            .map(|r| f64::from(fma_dot(r, r)))
            .collect();
        let gram = fma_matrix(&seen, &seen, d);
        let z: Vec<f64> = (0..n)
            .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
            .map(|(i, j)| {
                let squared = (norms[i] + norms[j]) - 2.0 * f64::from(gram[i * n + j]);
                -t * (squared.max(0.0) / (scale * scale))
            })
            .collect();
        let count = z.len() as f64;
        let exact = if relative {
            (accurate_sum(z.iter().map(|v| v.exp_m1())) / count).ln_1p()
        } else {
            naive_lse(&z) - count.ln()
        };
        for isa in Isa::available() {
            let got = gaussian_log_mean_on(isa, Sets::one(&x, d), true, &mean, scale, t);
            let bound = tolerance
                * if relative {
                    exact.abs()
                } else {
                    exact.abs().max(1.0)
                };
            assert!(
                (got - exact).abs() <= bound,
                "{isa:?} noise {noise} t {t}: {got:e} vs {exact:e} (bound {bound:e})"
            );
        }
    }
}
