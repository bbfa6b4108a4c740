//! What a failure of a guest becomes: the error its caller sees, decided by
//! what the instance recorded (CPU time, deadline, memory) and by the
//! error's type, never by its text.

use std::sync::atomic::Ordering;
use std::time::Duration;

use wasmtime::component::ResourceTableError;
use wrun_core::{ErrorKind, TaskError};

use crate::model::HostState;

pub(crate) fn timeout_error(label: &str, t: Duration) -> TaskError {
    TaskError::new(
        ErrorKind::Timeout,
        label,
        format!("ran past its timeout of {} ms", t.as_millis()),
    )
}

/// The error of a call cancelled while it ran.
pub(crate) fn cancelled_error(label: &str) -> TaskError {
    TaskError::new(
        ErrorKind::TaskCancelled,
        label,
        crate::CancelCause::Asked.reason(),
    )
}

/// What a guest of a stopped job ends with (never retried).
pub(crate) fn job_stopped_error(label: &str) -> TaskError {
    TaskError::new(
        ErrorKind::TaskCancelled,
        label,
        "its job was stopped (wrun job stop)",
    )
}

/// A host-side failure while moving a value in or out (a full table).
pub(crate) fn classify_host(e: wasmtime::Error, label: &str) -> TaskError {
    match e.downcast_ref::<ResourceTableError>() {
        Some(ResourceTableError::Full) => TaskError::new(
            ErrorKind::Trap,
            label,
            "the guest holds too many object references (and other handles) at once; raise limits.max_refs in its environment or release references sooner",
        ),
        _ => TaskError::internal(label, format!("{e:#}")),
    }
}

/// Turns a wasmtime failure into the error the caller sees, by what the
/// instance recorded (CPU time, deadline, memory) and by the error's type.
pub(crate) fn classify(e: wasmtime::Error, state: &HostState, label: &str) -> TaskError {
    if state.cancelled {
        return cancelled_error(label);
    }
    if state.job_stopped {
        return job_stopped_error(label);
    }
    if state.job_cpu_exceeded {
        let job = &state.caller.job;
        let limit = job.env.limits.job_cpu_time.as_secs_f64();
        let secs = |ticks: u64| ticks as f64 * limit / state.job_cpu_ticks.max(1) as f64;
        let here = secs(job.cpu.used.load(Ordering::Relaxed));
        let elsewhere = secs(job.cpu.elsewhere.load(Ordering::Relaxed));
        return TaskError::new(
            ErrorKind::Timeout,
            label,
            format!(
                "its job used more than its CPU-time budget of {limit} s, all its tasks and actors on every node together (limits.job_cpu_time): {here:.1} s here and {elsewhere:.1} s elsewhere; it was interrupted"
            ),
        );
    }
    if state.cpu_exceeded {
        let limit = state.caller.env.cpu_time.unwrap_or_default();
        return TaskError::new(
            ErrorKind::Timeout,
            label,
            format!(
                "used more than its CPU-time limit of {} ms (limits.cpu_time) and was interrupted",
                limit.as_millis()
            ),
        );
    }
    if state.timed_out {
        let ms = state.deadline.map_or(0, |(_, t)| t.as_millis());
        return TaskError::new(
            ErrorKind::Timeout,
            label,
            format!(
                "ran past its timeout of {ms} ms (the call's timeout option) and was interrupted"
            ),
        );
    }
    if state.limits.hit {
        return TaskError::new(
            ErrorKind::MemoryLimit,
            label,
            format!(
                "the guest tried to grow its memory past its limit of {} bytes (limits.memory)",
                state.limits.limit
            ),
        );
    }
    let mut message = if let Some(ResourceTableError::Full) = e.downcast_ref::<ResourceTableError>()
    {
        format!(
            "the guest holds more than {} object references (and other handles) at once; raise limits.max_refs in its environment or release references sooner",
            state.caller.env.limits.max_refs
        )
    } else {
        match e.downcast_ref::<wasmtime::Trap>() {
            Some(wasmtime::Trap::StackOverflow) => "stack overflow (call stack exhausted)".to_string(),
            Some(wasmtime::Trap::UnreachableCodeReached) => {
                "wasm `unreachable` executed (the guest panicked or aborted)".to_string()
            }
            Some(wasmtime::Trap::MemoryOutOfBounds) => {
                "wasm trap: out of bounds memory access (in Rust and C guests, often a stack overflow of the in-memory shadow stack)".to_string()
            }
            Some(t) => t.to_string(),
            None => format!("{e:#}"),
        }
    };
    let tail = state.stderr_tail.text();
    if !tail.is_empty() {
        message.push_str("; guest stderr: ");
        message.push_str(&tail);
    }
    TaskError::new(ErrorKind::Trap, label, message)
}
