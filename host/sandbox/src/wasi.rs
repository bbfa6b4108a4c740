//! What an [`Environment`] grants, as a WASI context: variables, the
//! read-only working directory, host paths, the network allow-list, and
//! real or deterministic clocks and randomness. The only place a guest's
//! view of the outside world is made (ARCHITECTURE invariant "a guest gets
//! only what its environment grants").

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use wasmtime_wasi::{FsPerms, WasiCtxBuilder};
use wrun_env::{
    Environment, DETERMINISTIC_EPOCH_SECS, PYTHON_PACKAGES_GUEST_PATH, PYTHON_STDLIB_GUEST_PATH,
    WORK_DIR_GUEST_PATH,
};

/// A WASI context builder granting exactly what `env` grants (outputs and
/// scratch space are added by the caller).
pub(crate) fn builder(env: &Environment) -> anyhow::Result<WasiCtxBuilder> {
    let mut b = WasiCtxBuilder::new();
    b.envs(&env.env_vars);
    if let Some(wd) = &env.working_dir {
        b.preopened_dir(wd, WORK_DIR_GUEST_PATH, FsPerms::ReadOnly)
            .map_err(|e| anyhow::anyhow!("mounting {}: {e}", wd.display()))?;
        // As Ray starts workers in the working directory: relative paths
        // resolve against it. wasi-libc does not read WASI's initial-cwd,
        // so the SDKs change to `PWD` as an instance starts (and "." is
        // mounted too, for guests that do not).
        b.initial_cwd(WORK_DIR_GUEST_PATH);
        if !env.env_vars.iter().any(|(k, _)| k == "PWD") {
            b.env("PWD", WORK_DIR_GUEST_PATH);
        }
        b.preopened_dir(wd, ".", FsPerms::ReadOnly)
            .map_err(|e| anyhow::anyhow!("mounting {}: {e}", wd.display()))?;
    }
    if let Some(py) = &env.python {
        for (host, guest) in [
            (&py.packages, PYTHON_PACKAGES_GUEST_PATH),
            (&py.stdlib, PYTHON_STDLIB_GUEST_PATH),
        ] {
            b.preopened_dir(host, guest, FsPerms::ReadOnly)
                .map_err(|e| anyhow::anyhow!("mounting {}: {e}", host.display()))?;
        }
    }
    for p in &env.read_paths {
        let guest = p.to_string_lossy();
        b.preopened_dir(p, guest.as_ref(), FsPerms::ReadOnly)
            .map_err(|e| anyhow::anyhow!("mounting {}: {e}", p.display()))?;
    }
    if !env.network.is_empty() {
        let allowed = Arc::clone(&env.network);
        b.allow_tcp(true).allow_udp(true);
        b.socket_addr_check(move |addr, usage| {
            use wasmtime_wasi::sockets::SocketAddrUse as U;
            let ok = match usage {
                // Binding the wildcard address is part of every connect.
                U::TcpBind | U::UdpBind => addr.ip().is_unspecified() && addr.port() == 0,
                U::TcpConnect | U::UdpSend => allowed.contains(&addr),
                _ => false,
            };
            Box::pin(async move { ok })
        });
    }
    if !env.real_clock {
        b.wall_clock(DeterministicWallClock::default());
        b.monotonic_clock(DeterministicMonotonicClock::default());
    }
    if !env.real_random {
        b.secure_random(Cycle::new(&SECURE));
        b.insecure_random(Cycle::new(&INSECURE));
        b.insecure_random_seed(0x7772_756e_7772_756e);
    }
    Ok(b)
}

/// 2000-01-01T00:00:00Z, one millisecond later at every read.
#[derive(Default)]
struct DeterministicWallClock {
    reads: AtomicU64,
}

impl wasmtime_wasi::HostWallClock for DeterministicWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_millis(1)
    }

    fn now(&self) -> Duration {
        let n = self.reads.fetch_add(1, Ordering::Relaxed);
        Duration::from_secs(DETERMINISTIC_EPOCH_SECS) + Duration::from_millis(n)
    }
}

/// Zero at the start, one millisecond later at every read.
#[derive(Default)]
struct DeterministicMonotonicClock {
    reads: AtomicU64,
}

impl wasmtime_wasi::HostMonotonicClock for DeterministicMonotonicClock {
    fn resolution(&self) -> u64 {
        1_000_000
    }

    fn now(&self) -> u64 {
        self.reads.fetch_add(1, Ordering::Relaxed) * 1_000_000
    }
}

/// The bytes every guest without the `random` capability reads, computed
/// once per process.
static SECURE: LazyLock<Vec<u8>> = LazyLock::new(|| deterministic_bytes(0x5eed));
static INSECURE: LazyLock<Vec<u8>> = LazyLock::new(|| deterministic_bytes(0x1a5e));

/// 1 KiB of splitmix64 output from `seed`: the same bytes every run.
fn deterministic_bytes(seed: u64) -> Vec<u8> {
    let mut x = seed;
    (0..128)
        .flat_map(|_| {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            (z ^ (z >> 31)).to_le_bytes()
        })
        .collect()
}

/// Cycles through a fixed buffer without copying it (the same stream as
/// wasmtime-wasi's `Deterministic` over the same bytes).
struct Cycle {
    bytes: &'static [u8],
    at: usize,
}

impl Cycle {
    fn new(bytes: &'static LazyLock<Vec<u8>>) -> Self {
        Cycle {
            bytes: bytes.as_slice(),
            at: 0,
        }
    }

    fn next_byte(&mut self) -> u8 {
        let b = self.bytes[self.at];
        self.at = (self.at + 1) % self.bytes.len();
        b
    }
}

impl rand_core::TryRng for Cycle {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(u32::from_be_bytes([
            self.next_byte(),
            self.next_byte(),
            self.next_byte(),
            self.next_byte(),
        ]))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let hi = u64::from(self.try_next_u32()?);
        let lo = u64::from(self.try_next_u32()?);
        Ok((hi << 32) | lo)
    }

    fn try_fill_bytes(&mut self, buf: &mut [u8]) -> Result<(), Infallible> {
        for b in buf {
            *b = self.next_byte();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::Rng;

    #[test]
    fn deterministic_randomness_is_the_same_stream_every_time() {
        let mut a = Cycle::new(&SECURE);
        let mut b = Cycle::new(&SECURE);
        let (mut x, mut y) = ([0u8; 2000], [0u8; 2000]);
        a.fill_bytes(&mut x);
        b.fill_bytes(&mut y);
        assert_eq!(x, y);
        assert_eq!(&x[1024..1030], &x[..6], "it cycles through 1 KiB");
        let mut c = Cycle::new(&SECURE);
        assert_eq!(c.next_u32(), u32::from_be_bytes([x[0], x[1], x[2], x[3]]));
    }
}
