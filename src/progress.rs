//! Progress and cancellation of the long passes: [`observe`] runs some work and reports, from
//! every pass of the pairwise kernel that the work starts, how many of the pass's pairs are
//! done, and from every O(n·d²) pass of d × d cross products (CKA, SVCCA, the spectra, each
//! Newton step of the separability, Procrustes, the projections' components, the jackknives
//! of CKA and of the spectra) how many of its rows; the callback can stop
//! the work, which then ends in [`Error::Cancelled`].
//!
//! Nothing changes in the metrics' signatures: the observer is set for the calling thread
//! while the work runs, and each pass picks it up once when it starts (one thread-local read;
//! nothing else when no observer is set). The O(n·d) sweeps (one read of the rows) and the
//! O(n·d·k) applications of a k × d matrix to every row (the projections) are short beside the
//! others and do not report, nor do passes that the work starts on other threads (the
//! metric evaluations that `Jackknife::delete_groups` and `stats::bootstrap` run in parallel).
//! The batches of [`batched_contrastive_loss`](crate::batched_contrastive_loss) (and of a
//! shard's part of it), when each has fewer than 2²² pairs, run in parallel and report
//! together as one pass, batch by batch; larger batches are each a pass of their own.
//! Call [`observe`] from outside rayon's pool (as a program's main thread is): on one of its
//! worker threads, jobs of other work that the worker runs while it waits would see the
//! observer too.

use std::cell::RefCell;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use crate::{Error, Result};

/// How far one pass has got: `done` of its `total` pairs (rows, in a pass of cross products),
/// and which pass it is (0 for the first that the observed work started; a metric may make
/// several, for example the contrastive loss's jackknife two, and the separability one for
/// each Newton step).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// The pass, counted from 0 within one [`observe`].
    pub pass: usize,
    /// Pairs visited so far (rows, in a pass of cross products).
    pub done: u64,
    /// Pairs the pass visits (rows, in a pass of cross products).
    pub total: u64,
}

impl Progress {
    /// `done / total`, in [0, 1] (1 for a pass of no pairs).
    ///
    /// # Examples
    ///
    /// ```
    /// use modality_gap::progress::Progress;
    ///
    /// assert_eq!(Progress { pass: 0, done: 1, total: 4 }.fraction(), 0.25);
    /// ```
    pub fn fraction(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.done as f64 / self.total as f64
        }
    }
}

/// Runs `work`, calling `on_progress` as the passes it starts advance: after each sweep of
/// rows of a pairwise pass (up to a few hundred rows against all columns) or each block of 256
/// rows of a pass of cross products, from the threads that run
/// them (so it must be `Send + Sync + 'static`: share state through an `Arc`); reports from
/// two threads may arrive out of order, and the largest `done` of a pass is its `total`. If
/// `on_progress` returns
/// [`ControlFlow::Break`], the passes skip their remaining rows and `observe` returns
/// [`Error::Cancelled`], whatever `work` returned. Results do not change when observed.
///
/// # Errors
///
/// [`Error::Cancelled`] when `on_progress` stopped the work; otherwise `work`'s.
///
/// # Examples
///
/// ```
/// use std::ops::ControlFlow;
/// use std::sync::{Arc, Mutex};
/// use modality_gap::{Embeddings, Error, Image, UnitEmbeddings, progress, uniform_loss};
///
/// let rows: Vec<[f64; 3]> = (0..400).map(|i| { let t = i as f64; [t.sin(), t.cos(), 1.0] }).collect();
/// let x = UnitEmbeddings::normalize(Embeddings::<f64, Image>::from_rows(&rows)?)?;
/// let last = Arc::new(Mutex::new(0.0));
/// let seen = Arc::clone(&last);
/// let loss = progress::observe(
///     move |p| {
///         *seen.lock().unwrap() = p.fraction();
///         ControlFlow::Continue(())
///     },
///     || uniform_loss(&x, 2.0),
/// )?;
/// assert_eq!((loss, *last.lock().unwrap()), (uniform_loss(&x, 2.0)?, 1.0));
/// // Stopped at the first report:
/// let stopped = progress::observe(|_| ControlFlow::Break(()), || uniform_loss(&x, 2.0));
/// assert!(matches!(stopped, Err(Error::Cancelled)));
/// # Ok::<(), modality_gap::Error>(())
/// ```
pub fn observe<R>(
    on_progress: impl Fn(Progress) -> ControlFlow<()> + Send + Sync + 'static,
    work: impl FnOnce() -> Result<R>,
) -> Result<R> {
    let observer = Arc::new(Observer {
        on_progress: Box::new(on_progress),
        cancelled: AtomicBool::new(false),
        passes: AtomicUsize::new(0),
    });
    let scope = Scope {
        previous: OBSERVER.with(|o| o.replace(Some(Arc::clone(&observer)))),
    };
    let result = work();
    drop(scope);
    if observer.cancelled.load(Ordering::Relaxed) {
        Err(Error::Cancelled)
    } else {
        result
    }
}

/// Restores the observer that was set before an [`observe`] when it ends, also when its work
/// unwinds (so a caught panic leaves no stale, perhaps cancelled, observer on the thread).
struct Scope {
    previous: Option<Arc<Observer>>,
}

impl Drop for Scope {
    fn drop(&mut self) {
        let previous = self.previous.take();
        OBSERVER.with(|o| *o.borrow_mut() = previous);
    }
}

thread_local! {
    /// The observer of the work running on this thread, if any.
    static OBSERVER: RefCell<Option<Arc<Observer>>> = const { RefCell::new(None) };
}

/// The callback of one [`observe`], and whether it has stopped the work.
struct Observer {
    on_progress: Box<dyn Fn(Progress) -> ControlFlow<()> + Send + Sync>,
    cancelled: AtomicBool,
    passes: AtomicUsize,
}

/// Whether the work observed on the calling thread was stopped (false when none is observed):
/// for loops of many passes, to end at once rather than pass after pass of skipped rows.
pub(crate) fn cancelled() -> bool {
    OBSERVER.with(|o| {
        (o.borrow().as_ref()).is_some_and(|observer| observer.cancelled.load(Ordering::Relaxed))
    })
}

/// The progress of one pass of `total` pairs under the calling thread's observer, or `None`
/// (nothing to report, nothing to check) when there is none.
pub(crate) fn pass(total: u64) -> Option<Pass> {
    OBSERVER.with(|o| {
        o.borrow().as_ref().map(|observer| Pass {
            pass: observer.passes.fetch_add(1, Ordering::Relaxed),
            observer: Arc::clone(observer),
            done: AtomicU64::new(0),
            total,
        })
    })
}

/// One observed pass: its pairs done so far, shared by the tasks that run it.
pub(crate) struct Pass {
    observer: Arc<Observer>,
    pass: usize,
    done: AtomicU64,
    total: u64,
}

impl Pass {
    /// Whether the work was stopped: the pass then skips its remaining pairs.
    pub(crate) fn cancelled(&self) -> bool {
        self.observer.cancelled.load(Ordering::Relaxed)
    }

    /// `pairs` more are done: report, and remember a request to stop.
    pub(crate) fn advance(&self, pairs: u64) {
        let done = self.done.fetch_add(pairs, Ordering::Relaxed) + pairs;
        let progress = Progress {
            pass: self.pass,
            done,
            total: self.total,
        };
        if (self.observer.on_progress)(progress).is_break() {
            self.observer.cancelled.store(true, Ordering::Relaxed);
        }
    }
}
