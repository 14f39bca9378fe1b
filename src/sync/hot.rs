//! What the hot loops of the backends that update the value in place (`mutex`, `atomic`,
//! `none`) share: the chunking of an order and the choice of its pace. Each backend's loop is
//! its own function in its own folder, instantiated per type, operation and pace
//! (`with_scalar!`, `with_op!`, [`with_pace!`]): straight-line code, no dispatch, allocation or
//! formatting inside.

use std::sync::atomic::Ordering;

use crate::shm::Slot;
use crate::sync::Order;

/// Runs `$body` with `$pace` bound to the order's pace: `Free` (compiled away) when the job has
/// neither busy work nor a round-robin schedule, else `Paced`.
macro_rules! with_pace {
    ($order:expr, $shared:expr, $pace:ident => $body:expr) => {{
        if $order.pacing.is_free() {
            let $pace = $crate::sync::pace::Free;
            $body
        } else {
            let $pace = $order.pacing.paced($order.index, $shared);
            $body
        }
    }};
}

/// Runs `iterations` operations in chunks of `stride`: `chunk(n)` runs `n`, the first timed.
/// Publishes the count after each chunk.
#[inline(always)]
pub(crate) fn chunked<E>(
    order: &Order,
    stride: u64,
    slot: &Slot,
    mut chunk: impl FnMut(u64) -> Result<(), E>,
) -> Result<u64, E> {
    let mut done = 0;
    while done < order.iterations {
        let n = (order.iterations - done).min(stride);
        chunk(n)?;
        done += n;
        slot.ops.store(order.done_before + done, Ordering::Relaxed);
    }
    Ok(done)
}
