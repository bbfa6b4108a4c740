//! `wrun:runtime/logging`: structured guest log lines.

use wrun_core::logs::{Level, LogLine};

use crate::bindings::wrun::runtime::logging;
use crate::model::HostState;

impl logging::Host for HostState {
    fn log(&mut self, level: logging::Level, message: String) -> wasmtime::Result<()> {
        let level = match level {
            logging::Level::Trace => Level::Trace,
            logging::Level::Debug => Level::Debug,
            logging::Level::Info => Level::Info,
            logging::Level::Warn => Level::Warn,
            logging::Level::Error => Level::Error,
        };
        self.write_line(LogLine {
            actor: None,
            task: self.label.clone(),
            level,
            message,
        });
        Ok(())
    }
}
