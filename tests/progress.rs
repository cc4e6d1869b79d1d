//! Progress and cancellation of the long passes (`progress::observe`): reports that reach
//! every pair, results that do not change when observed, a typed error when stopped, and the
//! observer's scope.

use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};

use modality_gap::progress::{self, Progress};
use modality_gap::{
    Centring, Embeddings, Error, HsicEstimator, Image, Spectrum, Temperature, Text, UnitEmbeddings,
    batched_contrastive_loss, cka, contrastive_loss, effective_rank, jackknife, uniform_loss,
};

/// n unit rows of dimension 8 from a fixed formula (no randomness needed).
fn rows<M: modality_gap::Modality>(n: usize, phase: f64) -> UnitEmbeddings<f64, M> {
    let values = (0..n * 8)
        .map(|k| ((k as f64) * 0.37 + phase).sin())
        .collect();
    UnitEmbeddings::normalize(Embeddings::from_row_major_vec(n, 8, values).unwrap()).unwrap()
}

/// The reports of `work` under an observer that never stops it, and its result.
fn observed<R>(work: impl FnOnce() -> modality_gap::Result<R>) -> (R, Vec<Progress>) {
    let reports = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&reports);
    let result = progress::observe(
        move |p| {
            sink.lock().unwrap().push(p);
            ControlFlow::Continue(())
        },
        work,
    )
    .unwrap();
    let reports = reports.lock().unwrap().clone();
    (result, reports)
}

#[test]
fn reports_reach_every_pair_and_change_no_result() {
    // Large enough for several tasks and sweeps on two threads.
    let (a, b) = (rows::<Image>(3000, 0.1), rows::<Text>(3000, 0.7));
    let (loss, reports) = observed(|| uniform_loss(&a, 2.0));
    assert_eq!(loss.to_bits(), uniform_loss(&a, 2.0).unwrap().to_bits());
    let total = 3000 * 2999 / 2;
    assert!(reports.len() > 1, "{} reports", reports.len());
    assert!(
        reports
            .iter()
            .all(|p| p.pass == 0 && p.total == total && p.done <= total)
    );
    assert_eq!(reports.iter().map(|p| p.done).max(), Some(total));
    // Two passes (the contrastive jackknife's): each counted to its end.
    let tau = Temperature::new(0.1).unwrap();
    let (jk, reports) = observed(|| jackknife::contrastive_loss(&a, &b, tau));
    assert_eq!(jk, jackknife::contrastive_loss(&a, &b, tau).unwrap());
    for pass in 0..2 {
        let done = reports
            .iter()
            .filter(|p| p.pass == pass)
            .map(|p| p.done)
            .max();
        assert_eq!(done, Some(3000 * 3000), "pass {pass}");
    }
}

#[test]
fn a_stop_request_ends_in_a_typed_error() {
    let (a, b) = (rows::<Image>(3000, 0.1), rows::<Text>(3000, 0.7));
    let calls = Arc::new(Mutex::new(0));
    let counter = Arc::clone(&calls);
    let stopped = progress::observe(
        move |_| {
            *counter.lock().unwrap() += 1;
            ControlFlow::Break(())
        },
        || contrastive_loss(&a, &b, Temperature::CLIP),
    );
    assert!(matches!(stopped, Err(Error::Cancelled)));
    // Stopped early: far fewer reports than sweeps in the pass.
    let (_, all) = observed(|| contrastive_loss(&a, &b, Temperature::CLIP));
    assert!(
        *calls.lock().unwrap() < all.len(),
        "{} of {}",
        calls.lock().unwrap(),
        all.len()
    );
    // The observer ends with its scope: the next call runs unobserved and whole.
    assert!(contrastive_loss(&a, &b, Temperature::CLIP).is_ok());
}

/// The batched loss: small batches, run in parallel, report as one pass of all their pairs,
/// batch by batch, and stop between batches; a batch of more than 2²² pairs is a pass of its
/// own.
#[test]
fn batches_report_as_one_pass_or_each_its_own() {
    let (a, b) = (rows::<Image>(3000, 0.1), rows::<Text>(3000, 0.7));
    let tau = Temperature::new(0.1).unwrap();
    let (loss, reports) = observed(|| batched_contrastive_loss(&a, &b, tau, 10));
    assert_eq!(loss, batched_contrastive_loss(&a, &b, tau, 10).unwrap());
    let total = 300 * 10 * 10;
    assert_eq!(reports.len(), 300);
    assert!(reports.iter().all(|p| p.pass == 0 && p.total == total));
    assert_eq!(reports.iter().map(|p| p.done).max(), Some(total));
    let calls = Arc::new(Mutex::new(0));
    let counter = Arc::clone(&calls);
    let stopped = progress::observe(
        move |_| {
            *counter.lock().unwrap() += 1;
            ControlFlow::Break(())
        },
        || batched_contrastive_loss(&a, &b, tau, 10),
    );
    assert!(matches!(stopped, Err(Error::Cancelled)));
    // Only the batches already started when the first stopped report.
    let started = rayon::current_num_threads() + 1;
    let calls = *calls.lock().unwrap();
    assert!(calls <= started.min(299), "{calls} reports");

    // Two batches of 2100² pairs, each a pass the kernel reports sweep by sweep.
    let (a, b) = (rows::<Image>(4300, 0.1), rows::<Text>(4300, 0.7));
    let (_, reports) = observed(|| batched_contrastive_loss(&a, &b, tau, 2100));
    assert!(reports.iter().all(|p| p.total == 2100 * 2100));
    for pass in 0..2 {
        let done = reports.iter().filter(|p| p.pass == pass).map(|p| p.done);
        assert_eq!(done.max(), Some(2100 * 2100), "pass {pass}");
    }
    assert!(reports.iter().all(|p| p.pass < 2));
}

/// A pass of d × d cross products (here the effective rank's and CKA's) reports its rows,
/// block by block, to the last, and a stop request ends it in a typed error.
#[test]
fn cross_product_passes_report_their_rows() {
    let (a, b) = (rows::<Image>(5000, 0.2), rows::<Text>(5000, 0.9));
    let (a, b) = (a.as_embeddings(), b.as_embeddings());
    let rank = || effective_rank(a, Spectrum::Variances, Centring::Mean);
    let (value, reports) = observed(rank);
    assert_eq!(format!("{value:?}"), format!("{:?}", rank().unwrap()));
    assert!(reports.len() >= 5000 / 256, "{} reports", reports.len());
    assert!(reports.iter().all(|p| p.pass == 0 && p.total == 5000));
    assert_eq!(reports.iter().map(|p| p.done).max(), Some(5000));
    let similarity = || cka(a, b, HsicEstimator::Biased);
    let (value, reports) = observed(similarity);
    assert_eq!(value.to_bits(), similarity().unwrap().to_bits());
    // Three passes (ÃᵀÃ, B̃ᵀB̃, ÃᵀB̃) of 20 blocks each. Stopped at the first report, the first
    // pass skips its remaining blocks (a report at most from each leaf then running), and the
    // others run none.
    assert_eq!(reports.len(), 3 * 5000_usize.div_ceil(256));
    let calls = Arc::new(Mutex::new(0));
    let counter = Arc::clone(&calls);
    let stopped = progress::observe(
        move |_| {
            *counter.lock().unwrap() += 1;
            ControlFlow::Break(())
        },
        similarity,
    );
    assert!(matches!(stopped, Err(Error::Cancelled)));
    let calls = *calls.lock().unwrap();
    assert!(
        calls <= 1 + rayon::current_num_threads().min(4),
        "{calls} reports"
    );
    // The separability's Newton steps end at the first pass that finds the work stopped.
    let (x, y) = (rows::<Image>(3000, 0.2), rows::<Text>(3000, 0.9));
    let steps = Arc::new(Mutex::new(std::collections::BTreeSet::new()));
    let seen = Arc::clone(&steps);
    let stopped = progress::observe(
        move |p| {
            seen.lock().unwrap().insert(p.pass);
            ControlFlow::Break(())
        },
        || modality_gap::modality_separability(&x, &y),
    );
    assert!(matches!(stopped, Err(Error::Cancelled)));
    assert_eq!(steps.lock().unwrap().len(), 1);
}

#[test]
fn observers_nest_and_unwind_to_the_outer_one() {
    let x = rows::<Image>(500, 0.3);
    let outer = Arc::new(Mutex::new(0));
    let seen = Arc::clone(&outer);
    let result = progress::observe(
        move |_| {
            *seen.lock().unwrap() += 1;
            ControlFlow::Continue(())
        },
        || {
            // The inner observer takes the inner work's reports, then hands back.
            let inner = progress::observe(|_| ControlFlow::Continue(()), || uniform_loss(&x, 2.0))?;
            let after = uniform_loss(&x, 2.0)?;
            Ok((inner, after))
        },
    )
    .unwrap();
    assert_eq!(result.0, result.1);
    assert!(
        *outer.lock().unwrap() >= 1,
        "the outer observer saw the second pass"
    );
}
