//! A progress bar for the examples' long passes: [`with_bar`] observes the work
//! (`modality_gap::progress::observe`) and draws a bar on the terminal (indicatif, on stderr;
//! nothing when stderr is not a terminal) once the work has run for a second.

use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use modality_gap::Result;
use modality_gap::progress::{self, Progress};

/// How long the work runs before a bar appears.
const QUIET: Duration = Duration::from_secs(1);

/// Runs `work` with a bar named `label` for each of its observed passes (pairwise, or of cross
/// products), shown once the work has run for [`QUIET`].
pub fn with_bar<R>(label: &'static str, work: impl FnOnce() -> Result<R>) -> Result<R> {
    let start = Instant::now();
    let bar: Arc<Mutex<Option<(usize, ProgressBar)>>> = Arc::new(Mutex::new(None));
    let shown = Arc::clone(&bar);
    let result = progress::observe(
        move |p: Progress| {
            let mut shown = shown.lock().unwrap();
            if start.elapsed() >= QUIET {
                let (pass, bar) = shown.get_or_insert_with(|| (p.pass, new_bar(label, p.pass)));
                if *pass != p.pass {
                    bar.finish_and_clear();
                    *bar = new_bar(label, p.pass);
                    *pass = p.pass;
                }
                bar.set_position((p.fraction() * 1000.0) as u64);
            }
            ControlFlow::Continue(())
        },
        work,
    );
    if let Some((_, bar)) = bar.lock().unwrap().take() {
        bar.finish_and_clear();
    }
    result
}

fn new_bar(label: &'static str, pass: usize) -> ProgressBar {
    let bar = ProgressBar::new(1000).with_message(format!("{label}, pass {}", pass + 1));
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {percent}% ({elapsed}, about {eta} left)")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar
}
