//! `dev`'s live status: one line kept up to date in place on a terminal (queued, in
//! flight, done, retried, dead-lettered), and a log writer that never tears it.
//!
//! The line goes to standard error, like `reconcile`'s progress bar and every log line:
//! standard output keeps only the banner (or the JSON document), so `dev > banner.txt`
//! still shows the status, and a program reading `dev`'s output never sees it.
//!
//! Quiet with `--json` or when standard error is not a terminal: then no task runs and
//! nothing is drawn (see [`live_status_wanted`]).

use std::io::{self, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;
use tracing_subscriber::fmt::MakeWriter;

use crate::pipeline::{LiveCounter, LiveCounts};

/// How often the line is redrawn: often enough to watch a burst drain, rarely enough that
/// reading the queue's counts costs nothing noticeable (one SQLite query or two SQS calls).
pub const REFRESH: Duration = Duration::from_millis(500);

/// Whether `dev` shows the live line: only for a person at a terminal. `--json` means a
/// program reads the output, and a pipe or file would only collect redraw noise.
pub fn live_status_wanted(json: bool, is_terminal: bool) -> bool {
    !json && is_terminal
}

/// The line itself. Always every field, in the same order, so the numbers stay in
/// place while they change.
pub fn status_line(counts: &LiveCounts) -> String {
    format!(
        "queued {} · in flight {} · done {} · retried {} · dead-lettered {}",
        counts.queued, counts.in_flight, counts.done, counts.retried, counts.dead_lettered
    )
}

/// What stays on screen once the line is gone: the same numbers, once, at the end.
pub fn summary_line(counts: &LiveCounts) -> String {
    format!("final: {}", status_line(counts))
}

/// The live line: a spinner-style [`ProgressBar`] fed by a task that reads the counts
/// every [`REFRESH`]. Created before logging starts (the log writer needs its bar),
/// started once the banner is out, finished on shutdown.
pub struct LiveStatus {
    bar: ProgressBar,
    /// Where the line will be drawn once started; `None` when it is not wanted (or
    /// already started). Until then the bar draws nowhere, so log lines written through
    /// it come out as if it did not exist.
    target: Option<ProgressDrawTarget>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl LiveStatus {
    /// On standard error when `wanted`; otherwise never drawn and never started.
    pub fn new(wanted: bool) -> Self {
        Self::on(wanted.then(ProgressDrawTarget::stderr))
    }

    /// On `target` (`None`: quiet). Tests draw on a terminal stand-in this way.
    pub fn on(target: Option<ProgressDrawTarget>) -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        let style = ProgressStyle::with_template("{spinner} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(style);
        let (stop, _) = watch::channel(false);
        Self {
            bar,
            target,
            stop,
            task: None,
        }
    }

    /// Whether the line will be (or is) drawn.
    pub fn wanted(&self) -> bool {
        self.target.is_some() || self.task.is_some()
    }

    /// Whether the refresh task runs.
    pub fn is_live(&self) -> bool {
        self.task.is_some()
    }

    /// Starts drawing and refreshing, if wanted; otherwise does nothing. Must run inside
    /// the Tokio runtime.
    pub fn start(&mut self, counter: LiveCounter) {
        let Some(target) = self.target.take() else {
            return;
        };
        self.bar.set_draw_target(target);
        self.task = Some(tokio::spawn(refresh(
            self.bar.clone(),
            counter,
            self.stop.subscribe(),
        )));
    }

    /// Stops the task and clears the line; afterwards log lines go straight out.
    pub async fn finish(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            // The task clears the line itself as it stops, so nothing can redraw it
            // after the clear. A task that panicked left a line behind: clear it here.
            if task.await.is_err() {
                self.bar.finish_and_clear();
            }
        }
        self.bar.set_draw_target(ProgressDrawTarget::hidden());
    }

    /// The writer to give the logger: log lines through it go above the live line.
    pub fn log_writer(&self) -> AboveStatus {
        AboveStatus {
            bar: self.bar.clone(),
        }
    }
}

impl Drop for LiveStatus {
    /// Leaving without [`LiveStatus::finish`] (an error or a panic on the way out): the
    /// line must not stay on the terminal. Best effort, as the task may still draw once
    /// before the abort takes effect; the normal way out is `finish`.
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            self.bar.finish_and_clear();
            self.bar.set_draw_target(ProgressDrawTarget::hidden());
        }
    }
}

/// Redraws the line every [`REFRESH`] until told to stop, then clears it.
async fn refresh(bar: ProgressBar, counter: LiveCounter, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(REFRESH);
    // A slow read of the counts (SQS) must not be followed by a burst of catch-up reads.
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        let next = async {
            tick.tick().await;
            counter.counts().await
        };
        tokio::select! {
            biased;
            // A dropped sender also ends the wait: stop then too.
            _ = stop.wait_for(|stop| *stop) => break,
            counts = next => {
                // Unreadable counts keep the last line: the worker already logs why the
                // queue cannot be read, and a line flickering to "?" would add nothing.
                if let Ok(counts) = counts {
                    bar.set_message(status_line(&counts));
                }
                bar.tick();
            }
        }
    }
    bar.finish_and_clear();
}

/// A log destination (a tracing [`MakeWriter`]) that hides the live line, writes the
/// log line to standard error, and draws the live line again below it.
///
/// Why through the bar rather than clearing the line by hand before each write: the
/// bar's own lock is held for the clear, the write and the redraw, so a refresh on
/// another thread can never land in the middle of a log line, and the bar knows how
/// many terminal rows its line took (a narrow terminal wraps it). While the line is
/// not drawn (not wanted, not started yet, or finished) the bar's target is hidden and
/// this is a plain write to standard error.
#[derive(Clone)]
pub struct AboveStatus {
    bar: ProgressBar,
}

impl<'a> MakeWriter<'a> for AboveStatus {
    type Writer = LogLine<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LogLine { bar: &self.bar }
    }
}

/// One log event's output; tracing formats an event whole and writes it in one call.
pub struct LogLine<'a> {
    bar: &'a ProgressBar,
}

impl Write for LogLine<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        // All of `buf` in one suspension: a partial write would let the line be redrawn
        // in the middle of the log line.
        self.bar.suspend(|| {
            let mut err = io::stderr().lock();
            err.write_all(buf)?;
            err.flush()
        })?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

/// `init_logs` (commands/mod.rs) with its output going above the live line: the same
/// filter and formats, only the writer differs. A second call keeps the first logger.
pub fn init_logs_with(json: bool, status: &LiveStatus) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("info,aws_config=warn,aws_smithy_runtime=warn")
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(status.log_writer());
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.compact().try_init()
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_person_at_a_terminal_gets_the_line() {
        assert!(live_status_wanted(false, true));
        assert!(!live_status_wanted(true, true));
        assert!(!live_status_wanted(false, false));
        assert!(!live_status_wanted(true, false));
    }

    #[test]
    fn the_line_shows_every_count_in_a_fixed_order() {
        let counts = LiveCounts {
            queued: 3,
            in_flight: 1,
            dead_lettered: 2,
            done: 12,
            retried: 4,
            worker_dead_lettered: 1,
        };
        assert_eq!(
            status_line(&counts),
            "queued 3 · in flight 1 · done 12 · retried 4 · dead-lettered 2"
        );
        assert_eq!(
            status_line(&LiveCounts::default()),
            "queued 0 · in flight 0 · done 0 · retried 0 · dead-lettered 0"
        );
        assert_eq!(
            summary_line(&counts),
            "final: queued 3 · in flight 1 · done 12 · retried 4 · dead-lettered 2"
        );
    }

    #[test]
    fn status_line_stays_one_line() {
        let counts = LiveCounts {
            queued: u64::MAX,
            ..LiveCounts::default()
        };
        assert!(!status_line(&counts).contains(['\n', '\r']));
    }

    #[test]
    fn an_unwanted_status_has_nothing_to_draw() {
        let status = LiveStatus::new(live_status_wanted(true, true));
        assert!(!status.wanted());
        assert!(!status.is_live());
        assert!(status.bar.is_hidden());
    }
}
