//! What is kept between the two passes, on either backend, within one
//! memory budget.
//!
//! Pass one may keep each numeric leaf's values (finite keys in host memory
//! on the CPU, uploaded chunks in device buffers on the GPU) so that pass
//! two can run over them without reading the source again. A [`Budget`]
//! bounds the bytes kept in all; a [`Kept`] store holds each leaf's chunks.
//! A leaf is kept whole or not at all: the first chunk over the budget
//! *spills* the leaf (its chunks are dropped and their bytes released), and
//! pass two reads that leaf's column again.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Bytes that may be kept, and bytes kept now (shared by every store of a
/// run).
#[derive(Debug)]
pub struct Budget {
    limit: AtomicU64,
    used: AtomicU64,
}

impl Budget {
    pub fn new(limit: u64) -> Budget {
        Budget {
            limit: AtomicU64::new(limit),
            used: AtomicU64::new(0),
        }
    }

    /// Whether `bytes` more would fit now (a hint: another thread may take
    /// the room before [`Kept::keep`] reserves it).
    pub fn fits(&self, bytes: u64) -> bool {
        self.used.load(Ordering::Relaxed).saturating_add(bytes)
            <= self.limit.load(Ordering::Relaxed)
    }

    fn reserve(&self, bytes: u64) -> bool {
        let prev = self.used.fetch_add(bytes, Ordering::Relaxed);
        if prev.saturating_add(bytes) > self.limit.load(Ordering::Relaxed) {
            self.used.fetch_sub(bytes, Ordering::Relaxed);
            return false;
        }
        true
    }

    fn release(&self, bytes: u64) {
        self.used.fetch_sub(bytes, Ordering::Relaxed);
    }

    /// Keep no more than is kept now (the device had less memory than the
    /// budget assumed).
    pub fn shrink_to_used(&self) {
        self.limit
            .store(self.used.load(Ordering::Relaxed), Ordering::Relaxed);
    }

    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }
}

/// Each numeric leaf's kept chunks (`T`: host keys or device buffers).
#[derive(Debug)]
pub struct Kept<T> {
    leaves: Vec<Mutex<Leaf<T>>>,
}

#[derive(Debug)]
struct Leaf<T> {
    chunks: Vec<T>,
    bytes: u64,
    spilled: bool,
}

impl<T> Kept<T> {
    pub fn new(leaves: usize) -> Kept<T> {
        Kept {
            leaves: (0..leaves)
                .map(|_| {
                    Mutex::new(Leaf {
                        chunks: Vec::new(),
                        bytes: 0,
                        spilled: false,
                    })
                })
                .collect(),
        }
    }

    fn leaf(&self, leaf: usize) -> std::sync::MutexGuard<'_, Leaf<T>> {
        // A panic while holding the lock leaves a consistent Vec: go on.
        self.leaves[leaf]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Keep `chunk` (`bytes` of the budget) for `leaf` when the budget
    /// allows; else spill the leaf. Returns whether it was kept.
    pub fn keep(&self, budget: &Budget, leaf: usize, bytes: u64, chunk: T) -> bool {
        let mut l = self.leaf(leaf);
        if l.spilled {
            return false;
        }
        if !budget.reserve(bytes) {
            Self::spill_locked(budget, &mut l);
            return false;
        }
        l.chunks.push(chunk);
        l.bytes += bytes;
        true
    }

    /// Drop what `leaf` kept: pass two reads it again.
    pub fn spill(&self, budget: &Budget, leaf: usize) {
        Self::spill_locked(budget, &mut self.leaf(leaf));
    }

    fn spill_locked(budget: &Budget, l: &mut Leaf<T>) {
        l.spilled = true;
        l.chunks = Vec::new();
        budget.release(std::mem::take(&mut l.bytes));
    }

    pub fn is_spilled(&self, leaf: usize) -> bool {
        self.leaf(leaf).spilled
    }

    /// The chunks kept for `leaf` (None when it spilled), handing their
    /// bytes back to the budget.
    pub fn take(&self, budget: &Budget, leaf: usize) -> Option<Vec<T>> {
        let mut l = self.leaf(leaf);
        if l.spilled {
            return None;
        }
        budget.release(std::mem::take(&mut l.bytes));
        Some(std::mem::take(&mut l.chunks))
    }

    /// Drop everything (pass two will not run).
    pub fn clear(&self, budget: &Budget) {
        for leaf in 0..self.leaves.len() {
            self.take(budget, leaf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leaf_is_kept_whole_or_spilled() {
        let b = Budget::new(100);
        let k: Kept<u32> = Kept::new(2);
        assert!(k.keep(&b, 0, 60, 1));
        assert!(k.keep(&b, 1, 30, 2));
        // Over the budget: leaf 0 spills and frees its 60 bytes.
        assert!(!k.keep(&b, 0, 20, 3));
        assert!(k.is_spilled(0));
        assert_eq!(b.used(), 30);
        // A spilled leaf stays spilled even when room comes back.
        assert!(!k.keep(&b, 0, 1, 4));
        assert_eq!(k.take(&b, 0), None);
        assert_eq!(k.take(&b, 1), Some(vec![2]));
        assert_eq!(b.used(), 0);
        b.shrink_to_used();
        assert!(!b.fits(1));
        assert!(b.fits(0));
    }
}
