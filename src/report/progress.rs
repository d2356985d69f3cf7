//! The progress bar the command line draws on stderr during long runs.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::engine::Progress;

/// A progress bar on stderr (drawn only when stderr is a terminal).
pub struct Bar {
    bar: indicatif::ProgressBar,
    bytes: AtomicU64,
    total: AtomicU64,
}

impl Bar {
    /// A bar when `enabled` and stderr is a terminal, else a hidden one.
    pub fn new(enabled: bool) -> Bar {
        Bar {
            bar: if enabled && std::io::stderr().is_terminal() {
                indicatif::ProgressBar::new(0)
            } else {
                indicatif::ProgressBar::hidden()
            },
            bytes: AtomicU64::new(0),
            total: AtomicU64::new(0),
        }
    }
}

impl Progress for Bar {
    fn start(&self, pass: u32, total_rows: Option<u64>, total_bytes: u64) {
        let style = match total_rows {
            Some(_) => {
                "pass {prefix} [{bar:30}] {human_pos}/{human_len} rows  {rate}  {msg}  eta {eta}"
            }
            None => "pass {prefix} {spinner} {human_pos} rows  {rate}  {msg}",
        };
        if let Ok(s) = indicatif::ProgressStyle::with_template(style) {
            let s = s.with_key(
                "rate",
                |st: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{} rows/s", indicatif::HumanCount(st.per_sec() as u64));
                },
            );
            self.bar.set_style(s.progress_chars("=> "));
        }
        self.bar.set_prefix(format!("{pass}"));
        self.bar.set_length(total_rows.unwrap_or(0));
        self.bar.set_position(0);
        self.bar
            .set_message(format!("0 B of {}", indicatif::HumanBytes(total_bytes)));
        self.bar.set_draw_target(if self.bar.is_hidden() {
            indicatif::ProgressDrawTarget::hidden()
        } else {
            indicatif::ProgressDrawTarget::stderr()
        });
        self.bytes.store(0, Ordering::Relaxed);
        self.total.store(total_bytes, Ordering::Relaxed);
    }
    fn advance(&self, rows: u64, bytes: u64) {
        let done = self.bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
        self.bar.set_message(format!(
            "{} of {}",
            indicatif::HumanBytes(done),
            indicatif::HumanBytes(self.total.load(Ordering::Relaxed))
        ));
        self.bar.inc(rows);
    }
    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
