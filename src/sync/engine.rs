//! The engine: where the value lives, beneath every backend.
//!
//! Today there is one engine, [`Local`]: the value's cell, the mutex's lock word and its update
//! marker, all in the run's shared mapping (`shm`), reached by the
//! workers through plain atomics. The backends say *how* the value is kept consistent (a lock,
//! a read-modify-write, nothing, an owner); the engine says *where* it is. A backend touches the
//! value only through the engine, never through `Shared`'s header directly, so that another
//! engine (a network service, under the same four backends) replaces this file and the
//! factory's choice of engine, not the backends' call sites.
//!
//! Owns: the typed view of the header's value and lock words. Does not own: the layout (`shm`),
//! the lock's protocol (`mutex/lock.rs`) or the workers' slots (exec and watch read those).

use std::sync::atomic::AtomicU64;

use crate::shm::{RobustLock, Shared};
use crate::value::{Scalar, Value};

/// The value in the run's shared mapping.
#[derive(Clone, Copy)]
pub(crate) struct Local<'a> {
    shared: &'a Shared,
}

impl<'a> Local<'a> {
    #[inline(always)]
    pub(crate) fn of(shared: &'a Shared) -> Local<'a> {
        Local { shared }
    }

    /// The value's cell, as the atomic type of its scalar: each run reaches it through one type.
    #[inline(always)]
    pub(crate) fn cell<T: Scalar>(&self) -> &'a T::Atomic {
        self.shared.value::<T::Atomic>()
    }

    /// Stores `value` (before any fork: the initial value).
    pub(crate) fn store(&self, value: Value) {
        with_scalar!(value, T, v => T::store(self.cell::<T>(), v));
    }

    /// Reads the value as the type of `ty_of`.
    pub(crate) fn load(&self, ty_of: Value) -> Value {
        with_scalar!(ty_of, T, _v => T::load(self.cell::<T>()).to_value())
    }

    /// The mutex's lock word.
    #[inline(always)]
    pub(crate) fn lock(&self) -> &'a RobustLock {
        self.shared.mutex()
    }

    /// The mutex's update marker: `[owner and state, old bits]`.
    #[inline(always)]
    pub(crate) fn marker(&self) -> &'a [AtomicU64; 2] {
        self.shared.marker()
    }
}
