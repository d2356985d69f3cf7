//! Ending a run that cannot end by itself, for the `skewer` binary: the
//! stall watchdog and the out-of-memory exit.
//!
//! Both are last resorts for what no error can reach: a decoder looping on
//! corrupt data cannot be interrupted from another thread, and an allocation
//! that fails cannot unwind. Each says what was being read (from the reads
//! [`crate::source`] registers while they run), removes the temporary files
//! ([`crate::files`]) and ends the process with exit 2.

use std::io::Write;
use std::sync::OnceLock;
use std::time::Duration;

/// What a program's user can change when a run is stopped, in its own
/// words (the `skewer` binary names its flags); the library's messages name
/// none.
#[derive(Debug, Clone, Copy)]
pub struct Hints {
    /// Appended to the stall message, e.g. "(--stall-timeout sets the limit)".
    pub stall: &'static str,
    /// Appended to the out-of-memory message, e.g. "lower --memory-budget".
    pub memory: &'static str,
}

static HINTS: OnceLock<Hints> = OnceLock::new();

/// Set the hints once, before [`start`] and before memory can run out.
pub fn set_hints(h: Hints) {
    let _ = HINTS.set(h);
}

pub(crate) fn hints() -> Hints {
    HINTS.get().copied().unwrap_or(Hints {
        stall: "",
        memory: "lower the memory kept between passes or the number of threads, or give the job more memory",
    })
}

/// Start a thread that ends the process when a read makes no progress (no
/// batch decoded) for `limit`.
pub fn start(limit: Duration) {
    let every = (limit / 10).clamp(Duration::from_millis(100), Duration::from_secs(5));
    let spawned = std::thread::Builder::new()
        .name("skewer-watchdog".into())
        .spawn(move || loop {
            std::thread::sleep(every);
            if let Some((what, idle)) = crate::source::stalled_read(limit) {
                eprintln!(
                    "error: {what}: no progress for {} s while decoding; the file is probably corrupt (a decoder loop). Stopped{}",
                    idle.as_secs(),
                    hints().stall
                );
                crate::files::remove_all_temporary();
                std::process::exit(2);
            }
        });
    if let Err(e) = spawned {
        eprintln!("warning: no stall watchdog: {e}");
    }
}

/// Out of memory (from a global allocator that got no memory for `size`
/// bytes): say so, naming what was being read, remove the temporary files
/// and exit 2. Nothing here allocates: the message is formatted into a
/// buffer on the stack and written with one system call.
#[cold]
pub fn out_of_memory(size: usize) -> ! {
    let mut buf = [0u8; 1024];
    let mut w = std::io::Cursor::new(&mut buf[..]);
    let _ = write!(w, "error: out of memory (allocating {size} bytes)");
    crate::source::with_current_read(|what| {
        let _ = write!(w, " while reading {what}");
    });
    // No machine has a terabyte to give one allocation: a length or count
    // read from a corrupt file asked for it.
    let _ = if size >= 1 << 40 {
        writeln!(
            w,
            "; the file is probably corrupt (a length or count in it is absurd)"
        )
    } else {
        writeln!(w, "; {}", hints().memory)
    };
    let n = w.position() as usize;
    // SAFETY: write(2) of a buffer we own to stderr.
    unsafe {
        libc::write(2, buf.as_ptr().cast(), n);
    }
    crate::files::remove_all_temporary_now();
    // SAFETY: ends the process at once; nothing after this runs, so nothing
    // can allocate.
    unsafe { libc::_exit(2) }
}

/// The binary's global allocator: mimalloc, and an error that names the
/// input instead of an abort when memory runs out.
pub struct Allocator(pub mimalloc::MiMalloc);

// SAFETY: every call is passed to mimalloc unchanged; only a null result
// (no memory) is acted on, and that path does not return.
unsafe impl std::alloc::GlobalAlloc for Allocator {
    unsafe fn alloc(&self, l: std::alloc::Layout) -> *mut u8 {
        checked(self.0.alloc(l), l.size())
    }
    unsafe fn alloc_zeroed(&self, l: std::alloc::Layout) -> *mut u8 {
        checked(self.0.alloc_zeroed(l), l.size())
    }
    unsafe fn realloc(&self, p: *mut u8, l: std::alloc::Layout, size: usize) -> *mut u8 {
        checked(self.0.realloc(p, l, size), size)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: std::alloc::Layout) {
        self.0.dealloc(p, l)
    }
}

#[inline(always)]
fn checked(p: *mut u8, size: usize) -> *mut u8 {
    if p.is_null() {
        out_of_memory(size)
    }
    p
}
