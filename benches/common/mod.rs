//! Shared by the benchmarks: a global allocator that counts this thread's heap
//! allocations. The only unsafe code in the project, in the benchmarks:
//! `GlobalAlloc` is an unsafe trait, and this one only counts and forwards to the
//! system allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Counts heap allocations per thread.
pub struct Counting;

thread_local! {
    /// Allocations made by this thread (other threads' are not the caller's cost).
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

/// Heap allocations this thread has made so far.
pub fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

#[allow(
    unsafe_code,
    reason = "a counting wrapper around System, for the benchmarks only"
)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // `try_with`: nothing to count while this thread's locals are being torn down.
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}
