//! Manifest errors: where in the file, which field, and what was expected.

use std::ops::Range;
use std::path::Path;

/// A manifest that cannot be used: where, which field, and what was expected.
#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", place(file, *line, *column))]
pub struct ManifestError {
    /// The manifest.
    pub file: String,
    /// 1-based line (0: the whole file).
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong and what was expected.
    pub message: String,
}

impl ManifestError {
    /// The error `message` at `span` of the manifest `file` whose text is
    /// `text` (no span: the whole file).
    pub(crate) fn at(file: &str, text: &str, span: Option<Range<usize>>, message: String) -> Self {
        let (line, column) = span.map_or((0, 0), |s| line_col(text, s.start));
        ManifestError {
            file: file.to_string(),
            line,
            column,
            message,
        }
    }
}

/// A manifest's text, or the error of one that cannot be read.
pub(crate) fn read_text(path: &Path) -> Result<String, ManifestError> {
    std::fs::read_to_string(path).map_err(|e| {
        let file = path.display().to_string();
        ManifestError::at(&file, "", None, format!("cannot read the manifest: {e}"))
    })
}

/// `FILE:LINE:COLUMN`, or `FILE` for an error of the whole file.
fn place(file: &str, line: usize, column: usize) -> String {
    match line {
        0 => file.to_string(),
        _ => format!("{file}:{line}:{column}"),
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}
