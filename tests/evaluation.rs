//! The paper's summaries against the oracle and closed forms: mean ± 95% CI over seeds
//! (Student's t), per-group prediction rates (Table 2, FairFace) and the zero-shot ROC-AUC of
//! a binary task (Table 1, HatefulMemes), plus the laws they obey.

use crate::common;

use std::collections::BTreeMap;

use common::{
    Case, F32, F64, PAPER_4_DECIMALS, T_CLOSED_FORM, T_INTEGRATED, T_QUANTILE, ULPS, assert_close,
    assert_relative, unit_from_rows,
};
use modality_gap::experiments::zero_shot_roc_auc;
use modality_gap::stats::{confidence_interval, group_rates, roc_auc, t_cdf, t_quantile};
use modality_gap::{Embeddings, Error, Image, Text, UnitEmbeddings};
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------------
// Student's t and the confidence interval
// ---------------------------------------------------------------------------------------------

/// The oracle's `t_ppf_975`: dof = 2 is the closed form 0.95·√(2/0.0975); dof = 9 comes from
/// Simpson integration and bisection, so it is compared at the README's rel 1e-8.
#[test]
fn t_quantile_matches_the_oracle() {
    let case = Case::load("edge_cases");
    let two = case.number(&["t_ppf_975", "2"]);
    assert_close(t_quantile(0.975, 2).unwrap(), two, F64, "dof 2");
    assert_eq!(two, 4.302652729749463);
    let nine = case.number(&["t_ppf_975", "9"]);
    assert_relative(t_quantile(0.975, 9).unwrap(), nine, T_INTEGRATED, "dof 9");
}

/// The paper's "mean ± 95% CI over three runs" of the gap (original and amended loss, at
/// initialisation and after training), from the per-seed numbers of `util/gap_amend_std.ipynb`
/// cell 1, against the oracle's `mean_ci95_t` and the paper's rounded numbers.
#[test]
fn confidence_intervals_match_the_oracle_and_the_paper() {
    let case = Case::load("edge_cases");
    for (name, values, paper) in [
        ("original_init", [1.1898, 1.1884, 1.1892], (1.1891, 0.0017)),
        (
            "original_trained",
            [1.3149, 1.2988, 1.2836],
            (1.2991, 0.0389),
        ),
        ("amended_init", [0.0314, 0.0551, 0.0299], (0.0388, 0.0351)),
        (
            "amended_trained",
            [0.7472, 0.7195, 0.7704],
            (0.7457, 0.0633),
        ),
    ] {
        let ci = confidence_interval(&values, 0.95).unwrap();
        let expected = case.numbers(&["ci95_t_gap_amend", name]);
        assert_close(ci.mean, expected[0], F64, name);
        assert_close(ci.half_width, expected[1], F64, name);
        assert_eq!(ci.n, 3);
        assert!((ci.mean - paper.0).abs() <= PAPER_4_DECIMALS, "{name} mean");
        assert!(
            (ci.half_width - paper.1).abs() <= PAPER_4_DECIMALS,
            "{name} half-width"
        );
        assert_close(ci.lower(), expected[0] - expected[1], F64, name);
        assert_close(ci.upper(), expected[0] + expected[1], F64, name);
        // half-width = t · s/√n with s of ddof = 1
        let t = t_quantile(0.975, 2).unwrap();
        assert_close(ci.half_width, t * ci.std / 3f64.sqrt(), ULPS, name);
    }
}

#[test]
fn confidence_interval_closed_form() {
    // Two values a, b: x̄ = (a+b)/2, s = |a−b|/√2, half-width = t_{(1+L)/2,1}·|a−b|/2, and
    // t_{0.95, 1} = tan(0.45π) = 6.313751514675043 (at level 0.9).
    let ci = confidence_interval(&[1.0, 3.0], 0.9).unwrap();
    assert_eq!(ci.mean, 2.0);
    assert_close(ci.std, 2f64.sqrt(), ULPS, "std");
    assert_relative(ci.half_width, 6.313751514675043, T_QUANTILE, "half-width");
    // Constant values: x̄ = x₀ and s = 0 exactly (0.1 + 0.1 + 0.1 = 0.30000000000000004, so a
    // plain sum over n would not give them).
    for n in [3, 5, 7] {
        let flat = confidence_interval(&vec![0.1; n], 0.95).unwrap();
        assert_eq!(
            (flat.mean, flat.std, flat.half_width),
            (0.1, 0.0, 0.0),
            "n {n}"
        );
    }
}

/// Values of extreme magnitude: what fits in f64 is returned, what does not is
/// `Error::Overflow`, never an infinite interval.
#[test]
fn confidence_interval_at_extreme_magnitudes() {
    // s = 1e300 and the half-width t_{0.975, 2}·s/√3 fit, though the squares 1e600 do not.
    let wide = confidence_interval(&[1e300, -1e300, 0.0], 0.95).unwrap();
    assert_eq!(wide.mean, 0.0);
    assert_relative(wide.std, 1e300, ULPS, "std");
    let t = t_quantile(0.975, 2).unwrap();
    assert_relative(wide.half_width, t * 1e300 / 3f64.sqrt(), ULPS, "half-width");
    // A sum beyond f64::MAX, a mean and standard deviation within it.
    let high = confidence_interval(&[f64::MAX; 4], 0.95).unwrap();
    assert_eq!((high.mean, high.std), (f64::MAX, 0.0));
    let near = confidence_interval(&[1e308, 1.5e308, 1.7e308], 0.5).unwrap();
    assert_relative(near.mean, 1.4e308, ULPS, "mean");
    // The half-width t_{0.975, 1}·s/√2 = 12.7·0.35e308 is beyond f64::MAX.
    assert!(matches!(
        confidence_interval(&[1e308, 1.7e308], 0.95),
        Err(Error::Overflow { .. })
    ));
    // s itself: deviations (2, 2, −4)·MAX/3 give s = √(4/3)·MAX.
    assert!(matches!(
        confidence_interval(&[f64::MAX, f64::MAX, -f64::MAX], 0.95),
        Err(Error::Overflow { .. })
    ));
    // Tiny values keep their spread: (1e-200)² would underflow to 0.
    let tiny = confidence_interval(&[1e-200, 3e-200], 0.95).unwrap();
    assert_relative(tiny.mean, 2e-200, ULPS, "tiny mean");
    assert_relative(tiny.std, 2f64.sqrt() * 1e-200, ULPS, "tiny std");
    let subnormal = confidence_interval(&[5e-324, 1e-323, 0.0], 0.95).unwrap();
    assert_eq!(subnormal.mean, 5e-324);
    assert_relative(subnormal.std, 5e-324, ULPS, "subnormal std");
}

/// A level within an ulp of 1 keeps its meaning: q = (1 − level)/2 = ε/4 on the lower tail,
/// where (1 + level)/2 would round to 1. With two values 1 and 2, s/√2 = ½ and
/// t_{1−q, 1} = cot(πq) ≈ 1/(πq).
#[test]
fn confidence_interval_at_a_level_next_to_one() {
    let level = 1.0 - f64::EPSILON / 2.0;
    assert!(level < 1.0 && 0.5 + 0.5 * level == 1.0);
    let ci = confidence_interval(&[1.0, 2.0], level).unwrap();
    let q = f64::EPSILON / 4.0;
    let expected = 0.5 / (std::f64::consts::PI * q);
    assert_relative(ci.half_width, expected, T_QUANTILE, "half-width");
}

/// ν = 1 (Cauchy): t_p = tan(π(p − ½)); ν = 2: t_p = (2p − 1)/√(2p(1 − p)). The solver is
/// not used for these, so they are checked against `t_cdf`'s continued fraction as well.
#[test]
fn t_quantile_matches_the_closed_forms_at_one_and_two_dof() {
    use std::f64::consts::PI;
    for p in [
        0.001,
        0.025,
        0.1,
        0.3,
        0.45,
        0.5 - 1e-9,
        0.6,
        0.9,
        0.975,
        0.999,
    ] {
        // p − ½ is exact and tan is well conditioned away from its poles.
        let cauchy = (PI * (p - 0.5)).tan();
        assert_close(
            t_quantile(p, 1).unwrap(),
            cauchy,
            T_CLOSED_FORM,
            &format!("dof 1, p {p}"),
        );
        let two = (2.0 * p - 1.0) / (2.0 * p * (1.0 - p)).sqrt();
        assert_close(
            t_quantile(p, 2).unwrap(),
            two,
            T_CLOSED_FORM,
            &format!("dof 2, p {p}"),
        );
        for dof in [1, 2] {
            let tail = t_cdf(-t_quantile(p.min(1.0 - p), dof).unwrap().abs(), dof).unwrap();
            assert_relative(tail, p.min(1.0 - p), T_QUANTILE, &format!("cdf dof {dof}"));
        }
    }
    // Near the pole: −cot(πp) = −1/(πp) + πp/3 + O(p³).
    for p in [1e-12, 1e-100, 1e-300] {
        let expected = -1.0 / (PI * p) + PI * p / 3.0;
        assert_relative(
            t_quantile(p, 1).unwrap(),
            expected,
            T_QUANTILE,
            "dof 1 tail",
        );
    }
    // Beyond: 1/(πp) exceeds f64::MAX for p below about 1.8e-309.
    for p in [1e-309, 5e-324] {
        assert!(matches!(t_quantile(p, 1), Err(Error::Overflow { .. })));
    }
    assert!(t_quantile(1.9e-309, 1).unwrap().is_finite());
    assert!(t_quantile(5e-324, 2).unwrap().is_finite());
    assert!(t_quantile(5e-324, 3).unwrap().is_finite());
    // The CDF's closed forms: ½ + atan(t)/π and ½ + t/(2√(2 + t²)).
    for t in [-30.0, -2.5, -0.1, 0.7, 4.0] {
        assert_close(
            t_cdf(t, 1).unwrap(),
            0.5 + f64::atan(t) / PI,
            T_QUANTILE,
            "cdf dof 1",
        );
        let two = 0.5 + t / (2.0 * (2.0 + t * t).sqrt());
        assert_close(t_cdf(t, 2).unwrap(), two, T_QUANTILE, "cdf dof 2");
    }
}

/// Deep tails at many degrees of freedom, against mpmath 1.3.0 at 60 digits
/// (`betainc(ν/2, 1/2, 0, ν/(ν+t²), regularized=True)/2`): the tail's exponent
/// −(ν/2)·ln(1 + t²/ν) ≈ −t²/2 amplifies the relative error of t²/ν by t²/2, so t²/ν is formed
/// as t·t/ν (two roundings), not through logarithms (1.5e-13 at ν = 10⁹, t = −10 before).
#[test]
fn the_t_cdf_keeps_deep_tails_at_many_degrees_of_freedom() {
    for (t, dof, expected) in [
        (-10.0, 1_000_000_000, 7.619_872_453_045_539e-24),
        (-20.0, 1_000_000_000, 2.753_734_815_816_397_7e-89),
        (-10.0, 1_000_000, 7.639_305_384_089_125e-24),
    ] {
        assert_relative(t_cdf(t, dof).unwrap(), expected, T_QUANTILE, "deep tail");
    }
}

/// Reference quantiles, computed with mpmath 1.3.0 at 40 decimal digits and rounded to f64: the CDF
/// as `betainc(ν/2, 1/2, 0, ν/(ν+t²), regularized=True)/2`, inverted by `findroot` on its
/// logarithm, at the exact binary value of each p. They agree with the textbook tables
/// (e.g. 2.0423 for ν = 30, 2.2622 for ν = 9, 3.1824 for ν = 3 at 0.975).
const MPMATH_QUANTILES: [(usize, f64, f64); 15] = [
    (30, 0.975, 2.0422724563012378),
    (1000, 0.975, 1.962339080826408),
    (3, 0.975, 3.1824463052837086),
    (5, 0.995, 4.032142983555227),
    (9, 0.975, 2.262157162798205),
    (10, 0.9, 1.3721836411103359),
    (4, 0.6, 0.27072229470759734),
    (7, 0.999, 4.785289628638333),
    (3, 1e-10, -2225.7692846830932),
    (50, 1e-12, -9.260139683684145),
    (100000, 0.975, 1.9599877075346093),
    (20, 0.5000001, 2.538144595402267e-7),
    (10000, 1e-20, -9.282474153254304),
    (1000000, 1e-8, -5.6120468343692815),
    (1000000000, 1e-5, -4.264890814382885),
];

#[test]
fn t_quantile_matches_high_precision_values() {
    for (dof, p, expected) in MPMATH_QUANTILES {
        let got = t_quantile(p, dof).unwrap();
        assert_relative(got, expected, T_QUANTILE, &format!("dof {dof}, p {p}"));
    }
}

/// Beyond any table: as ν → ∞ the quantile tends to the normal's, with
/// t − z ≈ z(z² + 1)/(4ν) (Abramowitz & Stegun 26.7.5); at ν = 2⁶⁴ − 1 that is 1e-19, below
/// f64 resolution. z_{0.975} = 1.959963984540054 (A&S Table 26.5, to 16 digits).
#[test]
fn t_quantile_tends_to_the_normal_quantile() {
    let z = 1.959963984540054;
    assert_relative(
        t_quantile(0.975, usize::MAX).unwrap(),
        z,
        T_QUANTILE,
        "ν = 2⁶⁴ − 1",
    );
    let nu = 1e9;
    let cornish_fisher = z + z * (z * z + 1.0) / (4.0 * nu);
    assert_relative(
        t_quantile(0.975, 1_000_000_000).unwrap(),
        cornish_fisher,
        T_QUANTILE,
        "1e9",
    );
}

#[test]
fn t_quantile_and_confidence_interval_reject_bad_input() {
    for p in [0.0, 1.0, -0.5, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            t_quantile(p, 3),
            Err(Error::InvalidParameter { name: "p", .. })
        ));
    }
    assert!(matches!(
        t_quantile(0.9, 0),
        Err(Error::InvalidParameter { name: "dof", .. })
    ));
    assert!(matches!(
        t_cdf(f64::NAN, 3),
        Err(Error::InvalidParameter { name: "t", .. })
    ));
    assert!(matches!(
        t_cdf(1.0, 0),
        Err(Error::InvalidParameter { name: "dof", .. })
    ));
    assert!(matches!(
        confidence_interval(&[1.0], 0.95),
        Err(Error::TooFewSamples {
            required: 2,
            found: 1
        })
    ));
    assert!(matches!(
        confidence_interval(&[], 0.95),
        Err(Error::TooFewSamples { found: 0, .. })
    ));
    assert!(matches!(
        confidence_interval(&[1.0, f64::NAN, 2.0], 0.95),
        Err(Error::NonFinite { row: 1, column: 0 })
    ));
    for level in [0.0, 1.0, 95.0, f64::NAN] {
        assert!(matches!(
            confidence_interval(&[1.0, 2.0], level),
            Err(Error::InvalidParameter { name: "level", .. })
        ));
    }
}

proptest! {
    /// t_{1−p} = −t_p exactly: both reduce to the same q = min(p, 1 − p).
    #[test]
    fn t_quantile_is_antisymmetric(p in 0.5f64..1.0, dof in 1usize..2000) {
        prop_assert_eq!(t_quantile(1.0 - p, dof).unwrap(), -t_quantile(p, dof).unwrap());
    }

    /// F(F⁻¹(q)) = q on the lower tail, relative, from q = 1e-30 to ½, for ν up to 10⁶.
    #[test]
    fn t_quantile_inverts_the_cdf(exponent in -30.0f64..-0.302, dof in 1usize..1_000_000) {
        let q = 10f64.powf(exponent);
        let t = t_quantile(q, dof).unwrap();
        prop_assert!(t < 0.0);
        let back = t_cdf(t, dof).unwrap();
        // F is steep in the tail: F(t(1 + δ)) ≈ q(1 − δ·t f(t)/F(t)), with t f/F ≤ ν + 1 and
        // ≲ 100 for q ≥ 1e-30; T_QUANTILE is the budget for δ and for F itself.
        prop_assert!((back - q).abs() <= 100.0 * T_QUANTILE * q, "q {q:e}, dof {dof}: F = {back:e}");
    }

    /// More degrees of freedom, lighter tails: t_p decreases with ν for p > ½.
    #[test]
    fn t_quantile_decreases_with_the_degrees_of_freedom(p in 0.51f64..0.9999, dof in 1usize..500) {
        prop_assert!(t_quantile(p, dof + 1).unwrap() < t_quantile(p, dof).unwrap());
    }
}

// ---------------------------------------------------------------------------------------------
// Per-group rates (Table 2)
// ---------------------------------------------------------------------------------------------

/// The oracle's toy FairFace bookkeeping: labels '<race>_<gender>' reduced to the race with
/// `split('_')[0]` (the caller's job), class names mapped to indices here; crime and non-human
/// rates per race, their sum, and the exact-match accuracy of the unreduced labels (per-class
/// rates of the own class, weighted by class size).
#[test]
fn group_rates_match_the_oracle_denigration_toy() {
    let case = Case::load("edge_cases");
    let strings = |key: &str| -> Vec<String> {
        case.expected(&["denigration_rates_toy", key])
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    let (truth, predicted) = (strings("true"), strings("pred"));
    let crime = ["thief", "criminal", "suspicious person"];
    let non_human = ["animal", "gorilla", "chimpanzee", "orangutan"];
    let mut classes: Vec<&str> = truth.iter().chain(&predicted).map(String::as_str).collect();
    classes.extend(crime.iter().chain(&non_human));
    classes.sort_unstable();
    classes.dedup();
    let index = |name: &str| classes.iter().position(|&c| c == name).unwrap();
    let predictions: Vec<usize> = predicted.iter().map(|p| index(p)).collect();
    let crime: Vec<usize> = crime.iter().map(|c| index(c)).collect();
    let non_human: Vec<usize> = non_human.iter().map(|c| index(c)).collect();
    let races: Vec<&str> = truth.iter().map(|t| t.split('_').next().unwrap()).collect();

    let rates = group_rates(&races, &predictions, &[crime, non_human]).unwrap();
    let expected = case.expected(&["denigration_rates_toy", "rates"]);
    let groups: Vec<&str> = rates.iter().map(|r| r.group).collect();
    assert_eq!(groups, ["Black", "East Asian", "Latino", "White"]);
    for r in &rates {
        let e = &expected[r.group];
        assert_eq!(
            r.rates[0],
            e["crime"].as_f64().unwrap(),
            "{} crime",
            r.group
        );
        assert_eq!(
            r.rates[1],
            e["non_human"].as_f64().unwrap(),
            "{} non-human",
            r.group
        );
        assert_eq!(
            r.rates[0] + r.rates[1],
            e["sum"].as_f64().unwrap(),
            "{} sum",
            r.group
        );
    }
    assert_eq!(
        rates.iter().map(|r| r.size).collect::<Vec<_>>(),
        [3, 1, 1, 3]
    );

    // Accuracy: group by the true class, one singleton category per class.
    let true_classes: Vec<usize> = truth.iter().map(|t| index(t)).collect();
    let singletons: Vec<[usize; 1]> = (0..classes.len()).map(|c| [c]).collect();
    let per_class = group_rates(&true_classes, &predictions, &singletons).unwrap();
    let correct: f64 = per_class
        .iter()
        .map(|r| r.size as f64 * r.rates[r.group])
        .sum();
    let accuracy = correct / truth.len() as f64;
    assert_eq!(accuracy, expected["accuracy"]["value"].as_f64().unwrap());
}

#[test]
fn group_rates_reject_bad_input() {
    let empty: [&[usize]; 0] = [];
    assert!(matches!(
        group_rates::<u8, _>(&[], &[], &empty),
        Err(Error::Empty)
    ));
    assert!(matches!(
        group_rates(&[1, 2], &[0], &[[0]]),
        Err(Error::LengthMismatch {
            expected: 2,
            found: 1
        })
    ));
}

proptest! {
    /// Against brute force: each group once, in order; sizes add up to n; each rate is the
    /// count of its members predicted in the category over the size.
    #[test]
    fn group_rates_count_what_they_say(
        samples in prop::collection::vec((0u8..5, 0usize..8), 1..60),
        categories in prop::collection::vec(prop::collection::vec(0usize..8, 0..4), 0..4),
    ) {
        let (groups, predictions): (Vec<u8>, Vec<usize>) = samples.into_iter().unzip();
        let rates = group_rates(&groups, &predictions, &categories).unwrap();
        let mut members: BTreeMap<u8, Vec<usize>> = BTreeMap::new();
        for (g, p) in groups.iter().zip(&predictions) {
            members.entry(*g).or_default().push(*p);
        }
        prop_assert_eq!(rates.len(), members.len());
        prop_assert_eq!(rates.iter().map(|r| r.size).sum::<usize>(), groups.len());
        for (r, (g, preds)) in rates.iter().zip(&members) {
            prop_assert_eq!(r.group, *g);
            prop_assert_eq!(r.size, preds.len());
            for (rate, category) in r.rates.iter().zip(&categories) {
                let hits = preds.iter().filter(|p| category.contains(p)).count();
                prop_assert_eq!(*rate, hits as f64 / preds.len() as f64);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// ROC-AUC (HatefulMemes)
// ---------------------------------------------------------------------------------------------

/// The oracle's binary sub-case (120 images, two prompts, d = 16; rows already unit-norm and
/// taken as they are, as `binary_roc_auc` does). The oracle ranks by the softmax probability
/// at logit scales 100 and 1; both equal the margin's AUC, exactly (the same pair counts).
#[test]
fn zero_shot_roc_auc_matches_the_oracle() {
    let case = Case::load("zeroshot_n200_c10_d16");
    let img = UnitEmbeddings::verify_unit(case.embeddings::<f64, Image>("bin_img"), F64).unwrap();
    let prompts =
        UnitEmbeddings::verify_unit(case.embeddings::<f64, Text>("bin_class_txt"), F64).unwrap();
    let labels = case.labels("bin_labels");
    let auc = zero_shot_roc_auc(&img, &prompts, &labels).unwrap();
    assert_eq!(auc, case.number(&["binary_roc_auc_scale100"]));
    assert_eq!(auc, case.number(&["binary_roc_auc_scale1"]));
}

/// f32 input ranks exactly as the same values widened to f64: the margin is formed in f64
/// either way, so both give the same AUC bit for bit.
#[test]
fn zero_shot_roc_auc_is_the_same_for_f32_and_its_f64_widening() {
    let case = Case::load("zeroshot_n200_c10_d16");
    let img = case.unit::<f32, Image>("bin_img");
    let prompts = case.unit::<f32, Text>("bin_class_txt");
    let img64 = UnitEmbeddings::verify_unit(img.cast::<f64>().unwrap(), F32).unwrap();
    let prompts64 = UnitEmbeddings::verify_unit(prompts.cast::<f64>().unwrap(), F32).unwrap();
    let labels = case.labels("bin_labels");
    assert_eq!(
        zero_shot_roc_auc(&img, &prompts, &labels).unwrap(),
        zero_shot_roc_auc(&img64, &prompts64, &labels).unwrap()
    );
}

#[test]
fn roc_auc_closed_forms() {
    let labels = [false, false, true, true];
    assert_eq!(roc_auc(&labels, &[0.1, 0.2, 0.3, 0.4]).unwrap(), 1.0);
    assert_eq!(roc_auc(&labels, &[0.4, 0.3, 0.2, 0.1]).unwrap(), 0.0);
    assert_eq!(roc_auc(&labels, &[0.5; 4]).unwrap(), 0.5);
    // sklearn.metrics.roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) = 0.75 (its
    // documentation's example).
    assert_eq!(roc_auc(&labels, &[0.1, 0.4, 0.35, 0.8]).unwrap(), 0.75);
}

#[test]
fn roc_auc_rejects_bad_input() {
    assert!(matches!(roc_auc(&[], &[]), Err(Error::Empty)));
    assert!(matches!(
        roc_auc(&[true], &[0.1, 0.2]),
        Err(Error::LengthMismatch {
            expected: 1,
            found: 2
        })
    ));
    assert!(matches!(
        roc_auc(&[true, false], &[0.1, f64::INFINITY]),
        Err(Error::NonFinite { row: 1, column: 0 })
    ));
    for labels in [[true, true], [false, false]] {
        assert!(matches!(
            roc_auc(&labels, &[0.1, 0.2]),
            Err(Error::InvalidParameter { name: "labels", .. })
        ));
    }
    let img = unit_from_rows::<Text>(&[[1.0, 0.0], [0.0, 1.0]]).with_modality::<Image>();
    let two = unit_from_rows::<Text>(&[[1.0, 0.0], [0.0, 1.0]]);
    let three = unit_from_rows::<Text>(&[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]);
    assert!(matches!(
        zero_shot_roc_auc(&img, &three, &[0, 1]),
        Err(Error::LengthMismatch {
            expected: 2,
            found: 3
        })
    ));
    assert!(matches!(
        zero_shot_roc_auc(&img, &two, &[0, 2]),
        Err(Error::InvalidParameter { name: "labels", .. })
    ));
    assert!(matches!(
        zero_shot_roc_auc(&img, &two, &[0]),
        Err(Error::LengthMismatch { .. })
    ));
    assert!(matches!(
        zero_shot_roc_auc(&img, &two, &[1, 1]),
        Err(Error::InvalidParameter { name: "labels", .. })
    ));
    let wide = UnitEmbeddings::normalize(
        Embeddings::<f64, Text>::from_rows(&[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]).unwrap(),
    )
    .unwrap();
    assert!(matches!(
        zero_shot_roc_auc(&img, &wide, &[0, 1]),
        Err(Error::DimensionMismatch { .. })
    ));
}

/// Scores on a grid of 7 values, so ties are frequent.
fn scored_labels() -> impl Strategy<Value = (Vec<f64>, Vec<bool>)> {
    prop::collection::vec((-3i32..4, any::<bool>()), 2..80)
        .prop_filter("both classes", |v| {
            v.iter().any(|&(_, p)| p) && v.iter().any(|&(_, p)| !p)
        })
        .prop_map(|v| v.into_iter().map(|(s, p)| (f64::from(s), p)).unzip())
}

proptest! {
    /// Against counting every (positive, negative) pair, ties one half: the same integers,
    /// the same division, so exactly equal.
    #[test]
    fn roc_auc_counts_pairs((scores, positive) in scored_labels()) {
        let (mut twice_u, mut pairs) = (0u64, 0u64);
        let class = |wanted: bool| scores.iter().zip(&positive).filter(move |&(_, &p)| p == wanted);
        for (&si, _) in class(true) {
            for (&sj, _) in class(false) {
                twice_u += match si.partial_cmp(&sj).unwrap() {
                    std::cmp::Ordering::Greater => 2,
                    std::cmp::Ordering::Equal => 1,
                    std::cmp::Ordering::Less => 0,
                };
                pairs += 1;
            }
        }
        prop_assert_eq!(roc_auc(&positive, &scores).unwrap(), twice_u as f64 / (2 * pairs) as f64);
    }

    /// Only the order of the scores matters: a strictly increasing map (here s³ + s, exact on
    /// these integers) leaves the AUC unchanged, and reversing the order gives 1 − AUC.
    #[test]
    fn roc_auc_depends_only_on_the_order((scores, positive) in scored_labels()) {
        let auc = roc_auc(&positive, &scores).unwrap();
        let mapped: Vec<f64> = scores.iter().map(|s| s * s * s + s).collect();
        prop_assert_eq!(roc_auc(&positive, &mapped).unwrap(), auc);
        let reversed: Vec<f64> = scores.iter().map(|s| -s).collect();
        assert_close(roc_auc(&positive, &reversed).unwrap(), 1.0 - auc, ULPS, "reversed");
    }
}
