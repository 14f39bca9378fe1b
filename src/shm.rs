//! The shared memory every process of a run sees: one MAP_SHARED mapping of a memfd, laid out as
//! a header (the value, the lock, counters), then one block per worker: its slot (on a cache
//! line of its own), its trace ring, its latency histograms. Each page a process touches first
//! is a page fault, in every process (a shared mapping's pages are not inherited mapped), and
//! the first touch of a page in any process allocates and zeroes it, a few microseconds each on
//! a virtual machine. So a block smaller than a page starts on a cache line, right after the
//! header or the block before it: a short run's blocks (the tutorial's: 320 bytes each) share
//! the header's page, and each process touches one page of the mapping; blocks never share a
//! cache line, so no two writers do. A block of a page or more starts on a page.
//!
//! Owns: creating the mapping and handing out typed references into it. Safe code elsewhere only
//! ever sees `&` references to atomics and to the lock word, whose interior mutability makes
//! sharing them across processes sound. The mapping is created before forking and inherited;
//! memmap2's `map_anon` would be MAP_PRIVATE (a child's writes unseen), hence the memfd. The
//! backends reach the header's value and lock words only through `sync::engine` (the local
//! engine), which gives them their meaning.

use std::mem::{align_of, size_of};
use std::sync::atomic::{AtomicI32, AtomicU8, AtomicU32, AtomicU64};

use memmap2::MmapMut;
use nix::sys::memfd::{MFdFlags, memfd_create};

/// Types that may live in the shared mapping and be reached through `&`.
///
/// # Safety
/// An implementor must be valid when all its bytes are zero (or be initialised by
/// `Shared::new` before any fork), hold no pointers that a process other than the one that
/// wrote them would follow, and be `Sync` through interior mutability, so that concurrent use
/// from several processes is sound.
pub unsafe trait Shareable: Sync {}
// SAFETY: std atomics are plain integers with interior mutability, valid at zero, address-free.
unsafe impl Shareable for AtomicU64 {}
// SAFETY: as above.
unsafe impl Shareable for AtomicU32 {}
// SAFETY: as above.
unsafe impl Shareable for AtomicI32 {}
// SAFETY: as above.
unsafe impl Shareable for AtomicU8 {}

/// The mutex backend's lock word, in shared memory: its layout here, its meaning and every
/// operation on it in `sync/mutex/lock.rs`. All zero is a free lock.
#[repr(C)]
pub struct RobustLock {
    /// 0, or the holder, `sync::mutex::lock::CONTENDED` and `sync::mutex::lock::DIED`.
    pub(crate) word: AtomicU32,
}

// SAFETY: a plain atomic integer: valid at zero (a free lock), no pointers, interior
// mutability only.
unsafe impl Shareable for RobustLock {}

/// A cache line of its own, so that hot data of different writers never shares one.
#[repr(C, align(64))]
pub struct Line<T>(pub T);

/// What all processes share besides the workers' slots.
#[repr(C)]
pub struct Header {
    /// The value and the mutex backend's lock, on one cache line: a locker that takes the lock
    /// has the value's line too, so a hand-off between cores moves one line, not two.
    pub guarded: Line<Guarded>,
    /// Ordered schedules: the number of the operation (round-robin) or the worker (sequential)
    /// whose turn it is.
    pub turn: Line<AtomicU64>,
    /// Set by runner when a worker failed: the others stop waiting for a turn that never comes.
    pub abort: Line<AtomicU32>,
    /// mutex, for an update made where its holder may die: `(worker + 1) << 32 | state`, and
    /// the value's bits before the update. The next locker repairs from it.
    pub marker: Line<[AtomicU64; 2]>,
}

/// The value and the lock that guards it (the mutex backend's; the other backends never touch
/// the lock word, so it costs them nothing).
#[repr(C)]
pub struct Guarded {
    /// The value's bits, read through the atomic type of the value (i32, f64 bits or u8).
    pub value: AtomicU64,
    /// The lock of the mutex backend: one futex word (`sync/mutex/lock.rs`), free at zero.
    pub mutex: RobustLock,
}

/// What one worker reports about itself, written by that worker while it lives; once runner
/// has reaped it (mid-run), runner marks it `ended`, and (mutex) the one that took over the
/// lock it died holding writes the record of that recovery here: each worker dies at most
/// once, so the slots are the list of every death inside the lock.
#[repr(C)]
#[derive(Default)]
pub struct Slot {
    /// Operations completed.
    pub ops: AtomicU64,
    /// CLOCK_MONOTONIC nanoseconds when the worker started (after the barrier) and ended.
    pub start_ns: AtomicU64,
    pub end_ns: AtomicU64,
    /// Failed compare-exchanges (atomic backend).
    pub retries: AtomicU64,
    /// mutex: when (CLOCK_MONOTONIC ns) the lock this worker died holding was taken over.
    pub recovered_ns: AtomicU64,
    /// 1 once the worker has written its results.
    pub done: AtomicU32,
    /// Set by runner once it has reaped this worker (however it ended): an ordered schedule's
    /// waiters read it to tell a slow worker whose turn it is from a dead one. No pid is read
    /// for that: a pid means one thing to runner and another to a `/proc` mounted for another
    /// PID namespace.
    pub ended: AtomicU32,
    /// mutex: who took over the lock this worker died holding, and whether the value was
    /// restored (`sync/mutex/recovery.rs` encodes it); 0 while nobody did.
    pub recovered_by: AtomicU32,
    /// Redis: commands this worker sent again after a timeout (32 bits keep the slot on one
    /// cache line; saturating, never wrapping).
    pub resent: AtomicU32,
    /// Redis: operations whose every send timed out, applied or not (nobody can tell); as
    /// `resent`.
    pub ambiguous: AtomicU32,
}

/// Per-worker areas besides the slot, in 64-bit words: the exported latency histograms and the
/// trace ring. A worker writes only its own; the parent reads them after the worker ended (or
/// died: what it wrote before its death stays readable).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Areas {
    pub hist_words: usize,
    pub ring_words: usize,
}

/// The mapping of one run.
pub struct Shared {
    map: MmapMut,
    workers: usize,
    areas: Areas,
}

/// Large blocks start on a page (of 4 KiB, the smallest there is), so that what a worker writes
/// first (its slot, ring and the start of its histograms) lies in one page.
const PAGE: usize = 4096;
/// Small blocks start on a cache line, so that no two workers ever write the same line.
const LINE: usize = align_of::<Line<Slot>>();

/// The boundary a worker's block starts on: a cache line when the block is smaller than a page.
const fn block_align(areas: Areas) -> usize {
    if block_content(areas) < PAGE { LINE } else { PAGE }
}

/// Bytes one worker's block holds: slot, ring, histograms.
const fn block_content(areas: Areas) -> usize {
    size_of::<Line<Slot>>() + (areas.ring_words + areas.hist_words) * size_of::<AtomicU64>()
}

const fn blocks_offset(areas: Areas) -> usize {
    size_of::<Header>().next_multiple_of(block_align(areas))
}

/// Bytes of one worker's block, rounded to the boundary blocks start on.
const fn block_bytes(areas: Areas) -> usize {
    block_content(areas).next_multiple_of(block_align(areas))
}

impl Shared {
    /// Maps a zeroed shared region for `workers` blocks (zero is a free lock).
    pub fn new(workers: usize, areas: Areas) -> std::io::Result<Shared> {
        let len = blocks_offset(areas) + workers * block_bytes(areas);
        let fd = memfd_create("runner-shared", MFdFlags::MFD_CLOEXEC)?;
        let file = std::fs::File::from(fd);
        file.set_len(len as u64)?;
        // SAFETY: the memfd is ours alone (no other process can open or truncate it), so the
        // mapping's length stays valid for its lifetime; a fresh memfd reads as zeros.
        let map = unsafe { MmapMut::map_mut(&file)? };
        Ok(Shared { map, workers, areas })
    }

    /// A reference to a `T` at `offset` in the mapping.
    fn at<T: Shareable>(&self, offset: usize) -> &T {
        assert!(offset.is_multiple_of(align_of::<T>()) && offset + size_of::<T>() <= self.map.len());
        // SAFETY: in bounds and aligned (asserted; the mapping is page-aligned), `T` is valid for
        // any bytes the mapping can hold (zeros or what a `T` wrote) by `Shareable`, and only
        // shared references are handed out, so all mutation goes through interior mutability.
        unsafe { &*(self.map.as_ptr().add(offset) as *const T) }
    }

    /// The value's cell, viewed as the atomic type of its scalar (`AtomicI32`, `AtomicU64`,
    /// `AtomicU8`): each run reaches it through one type only.
    pub fn value<A: Shareable>(&self) -> &A {
        const { assert!(size_of::<A>() <= 8) };
        self.at(std::mem::offset_of!(Header, guarded.0.value))
    }

    /// Maps the header's page into this process, by reading a word of it, so that a worker's
    /// first operation does not take the page fault inside its timed window.
    pub fn attach(&self) {
        let _ = self.abort().load(std::sync::atomic::Ordering::Relaxed);
    }

    pub fn turn(&self) -> &AtomicU64 {
        self.at(std::mem::offset_of!(Header, turn))
    }

    pub fn abort(&self) -> &AtomicU32 {
        self.at(std::mem::offset_of!(Header, abort))
    }

    /// The update marker: `[owner and state, old bits]`.
    pub fn marker(&self) -> &[AtomicU64; 2] {
        self.at(std::mem::offset_of!(Header, marker))
    }

    pub fn mutex(&self) -> &RobustLock {
        self.at(std::mem::offset_of!(Header, guarded.0.mutex))
    }

    /// Worker `index`'s histogram area (`hist_words` words).
    pub fn hist(&self, index: usize) -> &[AtomicU64] {
        self.words(index, self.areas.ring_words, self.areas.hist_words)
    }

    /// Worker `index`'s trace ring (`ring_words` words), right after its slot: a worker's
    /// lifecycle events, its slot and the start of its histograms share a page.
    pub fn ring(&self, index: usize) -> &[AtomicU64] {
        self.words(index, 0, self.areas.ring_words)
    }

    /// The byte offset of worker `index`'s block.
    fn block(&self, index: usize) -> usize {
        assert!(index < self.workers);
        blocks_offset(self.areas) + index * block_bytes(self.areas)
    }

    /// `len` words of worker `index`'s block, `skip` words after its slot.
    fn words(&self, index: usize, skip: usize, len: usize) -> &[AtomicU64] {
        let offset = self.block(index) + size_of::<Line<Slot>>() + skip * size_of::<AtomicU64>();
        assert!(
            offset.is_multiple_of(align_of::<AtomicU64>()) && offset + len * size_of::<AtomicU64>() <= self.map.len()
        );
        // SAFETY: in bounds and aligned (asserted), atomics are valid for any bits, and only a
        // shared slice is handed out, so every write goes through the atomics.
        unsafe { std::slice::from_raw_parts(self.map.as_ptr().add(offset) as *const AtomicU64, len) }
    }

    pub fn workers(&self) -> usize {
        self.workers
    }

    pub fn slot(&self, index: usize) -> &Slot {
        let slot: &Line<Slot> = self.at(self.block(index));
        &slot.0
    }
}

// SAFETY: a slot is a struct of atomics: valid at zero, interior mutability only.
unsafe impl Shareable for Slot {}
// SAFETY: an array of shareable atomics is as shareable as they are.
unsafe impl<T: Shareable, const N: usize> Shareable for [T; N] {}
// SAFETY: a line only adds alignment to a shareable value.
unsafe impl<T: Shareable> Shareable for Line<T> {}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tutorial's layout (5 workers, one operation each, no trace of operations): the header
    /// and every block in one page, each block on cache lines of its own.
    #[test]
    fn small_blocks_share_the_header_page_but_no_line() {
        // One sample pair a kind, eight lifecycle events (`watch::areas`).
        let areas = Areas { hist_words: 2 * (1 + 2 * 2), ring_words: 1 + 8 * 3 };
        let shared = Shared::new(5, areas).unwrap();
        let base = shared.map.as_ptr() as usize;
        let end = |i: usize| shared.hist(i).as_ptr_range().end as usize - base;
        assert!(end(4) <= PAGE, "the last block ends at {}", end(4));
        for i in 0..5 {
            let start = shared.slot(i) as *const Slot as usize - base;
            assert!(start.is_multiple_of(LINE) && start >= size_of::<Header>());
            assert!(i == 0 || start >= end(i - 1).next_multiple_of(LINE), "block {i} shares a line");
        }
    }

    /// The value and the lock word on one cache line (a hand-off moves one line), and no other
    /// header field on it.
    #[test]
    fn value_and_lock_share_a_line_of_their_own() {
        let shared = Shared::new(1, Areas { hist_words: 0, ring_words: 0 }).unwrap();
        let line = |p: usize| (p - shared.map.as_ptr() as usize) / LINE;
        let value = line(shared.value::<AtomicU64>() as *const AtomicU64 as usize);
        assert_eq!(value, line(shared.mutex() as *const RobustLock as usize));
        for other in [
            shared.turn() as *const AtomicU64 as usize,
            shared.abort() as *const AtomicU32 as usize,
            shared.marker() as *const [AtomicU64; 2] as usize,
        ] {
            assert_ne!(line(other), value);
        }
    }

    /// A long run's blocks still start on a page each.
    #[test]
    fn large_blocks_start_on_pages() {
        let areas = Areas { hist_words: 2 * (1 + 2 * 2048), ring_words: 1 + 8 * 3 };
        let shared = Shared::new(2, areas).unwrap();
        let base = shared.map.as_ptr() as usize;
        for i in 0..2 {
            assert!((shared.slot(i) as *const Slot as usize - base).is_multiple_of(PAGE));
        }
    }
}
