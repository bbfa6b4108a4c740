//! Copying a large object in: one core copies at well under the memory
//! bandwidth, so a buffer of many MiB is split over a few threads, as Ray's
//! plasma store does (`parallel_memcopy`).

use std::mem::MaybeUninit;

use bytes::Bytes;
use parking_lot::Mutex;

/// Below this a copy stays on the calling thread (a thread costs tens of
/// microseconds; 16 MiB take a few milliseconds to copy).
const PARALLEL_FROM: usize = 16 << 20;

/// Threads one copy uses at most.
const MAX_THREADS: usize = 4;

/// A copy of `src` in a buffer of its own (a guest's `put`).
pub fn copy_to_bytes(src: &[u8]) -> Bytes {
    let len = src.len();
    let threads = if len < PARALLEL_FROM {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_THREADS))
    };
    if threads == 1 {
        return Bytes::copy_from_slice(src);
    }
    let mut buf: Vec<u8> = Vec::with_capacity(len);
    let dst = &mut buf.spare_capacity_mut()[..len];
    let part = len.div_ceil(threads);
    // Each part is taken once, by a thread of its own or, when that thread
    // has not started (or could not be made), by this one.
    let parts: Vec<Mutex<Option<Part<'_>>>> = dst
        .chunks_mut(part)
        .zip(src.chunks(part))
        .map(|p| Mutex::new(Some(p)))
        .collect();
    std::thread::scope(|s| {
        for cell in &parts[1..] {
            let spawned = std::thread::Builder::new()
                .name("wrun-copy".into())
                .spawn_scoped(s, || take_and_copy(cell));
            if let Err(e) = spawned {
                tracing::debug!(error = %e, "a copy thread could not start");
            }
        }
        for cell in &parts {
            take_and_copy(cell);
        }
    });
    // SAFETY: the parts cover `dst`, the first `len` bytes of the capacity,
    // and every one was taken and written before the scope ended (this
    // thread takes those no other thread took).
    unsafe { buf.set_len(len) };
    Bytes::from(buf)
}

/// Where one part goes, and where it comes from.
type Part<'a> = (&'a mut [MaybeUninit<u8>], &'a [u8]);

fn take_and_copy(cell: &Mutex<Option<Part<'_>>>) {
    let part = cell.lock().take();
    if let Some((dst, src)) = part {
        dst.write_copy_of_slice(src);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_and_small_copies_are_byte_for_byte() {
        for len in [0, 1, 4097, PARALLEL_FROM - 1, PARALLEL_FROM + 12_345] {
            let src: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            assert_eq!(copy_to_bytes(&src)[..], src[..], "length {len}");
        }
    }
}
