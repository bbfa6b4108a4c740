//! Daemon processes of one machine: `wrun start` spawns them in the
//! background (their logs in the state directory), waits until they serve,
//! and records their pids there, so `wrun stop` can stop them cleanly.
//!
//! State directory (`--state-dir`, default `~/.cache/wrun/cluster`):
//! `cluster.token` (the head's), `head.addr`, `control/` (the head's sled
//! state), `run/*.pid` and `run/*.addr`, `logs/*.log`, `node-*/components/`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The default state directory.
pub fn default_state_dir() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join(".cache/wrun/cluster")
}

/// Where pid and address files are.
pub fn run_dir(state: &Path) -> PathBuf {
    state.join("run")
}

/// The file in which a daemon writes its address once it serves.
pub fn addr_file(state: &Path, role: &str, pid: u32) -> PathBuf {
    run_dir(state).join(format!("{role}-{pid}.addr"))
}

/// The pid file of a daemon.
pub fn pid_file(state: &Path, role: &str, pid: u32) -> PathBuf {
    run_dir(state).join(format!("{role}-{pid}.pid"))
}

/// Writes `contents` to `path` atomically (readers never see half a file).
pub fn write_atomic(path: &Path, contents: &str) -> std::io::Result<()> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d)?;
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, contents)?;
    std::fs::rename(tmp, path)
}

/// Starts `wrun __serve ROLE ARGS` in the background and waits until it
/// writes its address; returns (pid, address).
pub fn spawn(state: &Path, role: &str, args: &[String]) -> anyhow::Result<(u32, String)> {
    use std::os::unix::process::CommandExt;
    let logs = state.join("logs");
    std::fs::create_dir_all(&logs)?;
    std::fs::create_dir_all(run_dir(state))?;
    let exe = std::env::current_exe()?;
    let log_path = logs.join(format!("{role}-starting.log"));
    let log = std::fs::File::create(&log_path)?;
    let mut child = Command::new(exe)
        .arg("__serve")
        .arg(role)
        .arg("--state-dir")
        .arg(state)
        .args(args)
        .envs(daemon_env())
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        // Its own process group: the terminal's ^C does not reach it.
        .process_group(0)
        .spawn()?;
    let pid = child.id();
    let final_log = logs.join(format!("{role}-{pid}.log"));
    let _ = std::fs::rename(&log_path, &final_log);
    let addr = addr_file(state, role, pid);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(a) = std::fs::read_to_string(&addr) {
            return Ok((pid, a.trim().to_string()));
        }
        if let Some(status) = child.try_wait()? {
            let tail = std::fs::read_to_string(&final_log).unwrap_or_default();
            let tail: Vec<&str> = tail.lines().rev().take(20).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            anyhow::bail!(
                "the {role} daemon exited ({status}) before serving:\n{}",
                tail.join("\n")
            );
        }
        if Instant::now() > deadline {
            anyhow::bail!(
                "the {role} daemon (pid {pid}) did not start serving within 60 s; see {}",
                final_log.display()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What a daemon's environment adds: mimalloc gives freed memory back to
/// the system at once (its default waits for the next allocations, so an
/// idle daemon kept what a finished job had used), unless the user said
/// otherwise.
fn daemon_env() -> Vec<(&'static str, String)> {
    match std::env::var_os("MIMALLOC_PURGE_DELAY") {
        Some(_) => Vec::new(),
        None => vec![("MIMALLOC_PURGE_DELAY", "0".to_string())],
    }
}

/// Becomes `wrun __serve ROLE ARGS` in the foreground (`wrun start
/// --block`: containers and service managers keep the process they
/// started); returns only if that could not be done.
pub fn exec(state: &Path, role: &str, args: &[String]) -> anyhow::Error {
    use std::os::unix::process::CommandExt;
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => return e.into(),
    };
    let err = Command::new(exe)
        .arg("__serve")
        .arg(role)
        .arg("--state-dir")
        .arg(state)
        .args(args)
        .envs(daemon_env())
        .exec();
    anyhow::anyhow!("cannot run the {role} daemon in the foreground: {err}")
}

/// The daemons started from this state directory: (pid file, pid).
pub fn daemons(state: &Path) -> Vec<(PathBuf, u32)> {
    let Ok(dir) = std::fs::read_dir(run_dir(state)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in dir.flatten() {
        let p = e.path();
        if p.extension().and_then(|x| x.to_str()) != Some("pid") {
            continue;
        }
        if let Some(pid) = std::fs::read_to_string(&p)
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
        {
            out.push((p, pid));
        }
    }
    out.sort_by_key(|(p, _)| p.clone());
    out
}

/// Whether the process lives (a zombie does not: it is reaped, not
/// running). `kill(pid, 0)` tells existence; a child of ours that exited
/// is reaped here so it stops existing.
fn alive(pid: u32) -> bool {
    let Some(pid) = rustix::process::Pid::from_raw(pid as i32) else {
        return false;
    };
    let _ = rustix::process::waitpid(Some(pid), rustix::process::WaitOptions::NOHANG);
    rustix::process::test_kill_process(pid).is_ok()
}

/// Stops every daemon of this state directory: SIGTERM, then waits for it
/// to exit (SIGKILL after 10 s). Returns what was stopped.
pub fn stop_all(state: &Path) -> Vec<String> {
    let mut stopped = Vec::new();
    for (pid_path, pid) in daemons(state) {
        let name = pid_path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        if alive(pid) {
            signal(pid, rustix::process::Signal::TERM);
            let deadline = Instant::now() + Duration::from_secs(10);
            while alive(pid) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            if alive(pid) {
                signal(pid, rustix::process::Signal::KILL);
            }
            stopped.push(format!("{name} (pid {pid})"));
        }
        let _ = std::fs::remove_file(&pid_path);
        let _ = std::fs::remove_file(pid_path.with_extension("addr"));
    }
    stopped
}

fn signal(pid: u32, sig: rustix::process::Signal) {
    if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
        let _ = rustix::process::kill_process(pid, sig);
    }
}

/// Removes this process's pid and address files (on a clean stop).
pub struct PidGuard {
    files: Vec<PathBuf>,
}

impl PidGuard {
    /// Writes this process's pid and address files.
    pub fn register(state: &Path, role: &str, address: &str) -> std::io::Result<PidGuard> {
        let pid = std::process::id();
        let pid_path = pid_file(state, role, pid);
        write_atomic(&pid_path, &pid.to_string())?;
        let addr = addr_file(state, role, pid);
        write_atomic(&addr, address)?;
        Ok(PidGuard {
            files: vec![pid_path, addr],
        })
    }
}

impl Drop for PidGuard {
    fn drop(&mut self) {
        for f in &self.files {
            let _ = std::fs::remove_file(f);
        }
    }
}
