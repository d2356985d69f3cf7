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

use std::collections::HashMap;
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
/// A leaf's entry is made by its first chunk: a run may number many more
/// leaves than keep values (one per numeric column and group,
/// docs/slices-and-windows.md).
#[derive(Debug)]
pub struct Kept<T> {
    /// Leaf `l` is in shard `l % SHARDS`, so threads keeping other leaves
    /// rarely wait on one lock.
    shards: Vec<Mutex<HashMap<usize, Leaf<T>>>>,
}

const SHARDS: usize = 64;

#[derive(Debug)]
struct Leaf<T> {
    chunks: Vec<T>,
    bytes: u64,
    spilled: bool,
}

impl<T> Default for Leaf<T> {
    fn default() -> Self {
        Leaf {
            chunks: Vec::new(),
            bytes: 0,
            spilled: false,
        }
    }
}

impl<T> Default for Kept<T> {
    fn default() -> Self {
        Kept {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
        }
    }
}

impl<T> Kept<T> {
    fn shard(&self, leaf: usize) -> std::sync::MutexGuard<'_, HashMap<usize, Leaf<T>>> {
        // A panic while holding the lock leaves a consistent map: go on.
        self.shards[leaf % SHARDS]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Keep `chunk` (`bytes` of the budget) for `leaf` when the budget
    /// allows; else spill the leaf. Returns whether it was kept.
    pub fn keep(&self, budget: &Budget, leaf: usize, bytes: u64, chunk: T) -> bool {
        let mut shard = self.shard(leaf);
        let l = shard.entry(leaf).or_default();
        if l.spilled {
            return false;
        }
        if !budget.reserve(bytes) {
            Self::spill_locked(budget, l);
            return false;
        }
        l.chunks.push(chunk);
        l.bytes += bytes;
        true
    }

    /// Drop what `leaf` kept: pass two reads it again.
    pub fn spill(&self, budget: &Budget, leaf: usize) {
        Self::spill_locked(budget, self.shard(leaf).entry(leaf).or_default());
    }

    fn spill_locked(budget: &Budget, l: &mut Leaf<T>) {
        l.spilled = true;
        l.chunks = Vec::new();
        budget.release(std::mem::take(&mut l.bytes));
    }

    pub fn is_spilled(&self, leaf: usize) -> bool {
        self.shard(leaf).get(&leaf).is_some_and(|l| l.spilled)
    }

    /// The chunks kept for `leaf` (None when it spilled), handing their
    /// bytes back to the budget.
    pub fn take(&self, budget: &Budget, leaf: usize) -> Option<Vec<T>> {
        let l = self.shard(leaf).remove(&leaf).unwrap_or_default();
        budget.release(l.bytes);
        (!l.spilled).then_some(l.chunks)
    }

    /// Drop everything (pass two will not run).
    pub fn clear(&self, budget: &Budget) {
        for shard in &self.shards {
            let mut shard = shard
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for (_, l) in shard.drain() {
                budget.release(l.bytes);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leaf_is_kept_whole_or_spilled() {
        let b = Budget::new(100);
        let k: Kept<u32> = Kept::default();
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
