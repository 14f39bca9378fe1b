//! The progress bar on standard error: only for runs longer than about a second, only when
//! standard error is a terminal and the report is for people, never with `--quiet`. It is
//! drawn from runner's wait loop (no ticker thread), and cleared before the report. It writes
//! through `exec::stderr::Writer`, as everything runner writes to standard error: a terminal
//! that takes nothing (output stopped with Ctrl-S, a stalled connection) cannot hold runner
//! once a signal came, and a failed write is dropped.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long a run goes before its progress is shown.
const SHOW_AFTER: Duration = Duration::from_secs(1);

pub struct Progress {
    enabled: bool,
    total: u64,
    started: Instant,
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn new(total: u64, enabled: bool) -> Progress {
        Progress { enabled, total, started: Instant::now(), bar: None }
    }

    /// `done` operations of `total` so far.
    pub fn update(&mut self, done: u64) {
        if !self.enabled || (self.bar.is_none() && self.started.elapsed() < SHOW_AFTER) {
            return;
        }
        let total = self.total;
        let bar = self.bar.get_or_insert_with(|| {
            // indicatif's own `stderr()` target, but writing through runner's writer (the
            // terminal's size and whether it is one still read from descriptor 2).
            let term = console::Term::read_write_pair(std::io::stdin(), crate::exec::stderr::Writer);
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::term(term, 20));
            let style = ProgressStyle::with_template(
                "{elapsed_precise} [{bar:30}] {percent:>3}% {human_pos}/{human_len} ops, eta {eta}",
            )
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        });
        bar.set_position(done.min(total));
    }

    /// Clears the bar, if it was shown.
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
