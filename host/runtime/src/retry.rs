//! Which failed attempts of a task run again: system failures (a trap, a
//! lost node, a timeout) while retries are left, and guest errors only when
//! the task's options ask for them (`retry_exceptions`, optionally limited
//! to some error types), as in Ray.

use wrun_core::{ErrorKind, TaskError, TaskOptions};

/// Whether a failed attempt runs again (system failures always, guest
/// errors when the options say so, while retries are left).
pub(crate) fn retriable(e: &TaskError, options: &TaskOptions, attempt: u32) -> bool {
    let exception_retried = options.retry_exceptions
        && e.kind == ErrorKind::Application
        && (options.retry_exception_types.is_empty()
            || e.is_one_of(&options.retry_exception_types));
    let kind_retried = e.kind.is_system_failure() || exception_retried;
    kind_retried && attempt < options.max_retries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_cover_system_failures_and_guest_errors_only_when_asked() {
        let trap = TaskError::new(ErrorKind::Trap, "t", "x");
        let app = TaskError::new(ErrorKind::Application, "t", "x");
        let bad = TaskError::new(ErrorKind::InvalidArgument, "t", "x");
        let mut o = TaskOptions {
            max_retries: 2,
            ..Default::default()
        };
        assert!(retriable(&trap, &o, 0) && retriable(&trap, &o, 1));
        assert!(!retriable(&trap, &o, 2), "no retries left");
        assert!(!retriable(&app, &o, 0));
        o.retry_exceptions = true;
        assert!(retriable(&app, &o, 0));
        assert!(!retriable(&bad, &o, 0), "a refused call is not retried");
        o.retry_exception_types = vec!["app.Overdrawn".into()];
        assert!(!retriable(&app, &o, 0), "an error of another type");
        let mut overdrawn = app.clone();
        overdrawn.types = ["app.Overdrawn".into(), "builtins.Exception".into()].into();
        assert!(retriable(&overdrawn, &o, 0));
        assert!(
            retriable(&trap, &o, 0),
            "system failures are retried anyway"
        );
    }
}
