//! A runtime-environment manifest as a user (or a job's submitter, on the
//! head) hands it: any text is a checked environment or an error that
//! points into the file. Never a panic.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

fn dirs() -> &'static (PathBuf, PathBuf) {
    static DIRS: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    DIRS.get_or_init(|| {
        let root = std::env::temp_dir().join(format!("wrun-fuzz-manifest-{}", std::process::id()));
        let (dir, cache) = (root.join("job"), root.join("cache"));
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        std::fs::create_dir_all(&cache).expect("a scratch directory");
        (dir, cache)
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (dir, cache) = dirs();
    if let Err(e) = wrun_env::Environment::parse(text, "fuzz.toml", dir, cache, Default::default())
    {
        // An error names the file, and a line that exists (0: no line).
        assert_eq!(e.file, "fuzz.toml");
        assert!(e.line <= text.lines().count() + 1, "{e}");
    }
    let _ = wrun_env::Environment::working_dirs_named(text);
});
