//! Compiled components on disk, by content hash, compiled once.
//!
//! The key is the SHA-256 of the component plus the engine's compatibility
//! hash; entries are written to a fresh temporary file and renamed into
//! place (readers never see half a file, and two processes writing the same
//! entry both write whole ones), and loaded with mmap. Within a process,
//! concurrent loads of the same component wait for the first to compile it.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parking_lot::Mutex;
use wasmtime::component::Component;
use wasmtime::Engine;

/// A component refused at load time.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A core module where a component was expected.
    #[error("{what} is a core WebAssembly module, not a component; build it for the wasm32-wasip2 target (or wrap it with `wasm-tools component new`)")]
    CoreModule {
        /// What was loaded.
        what: String,
    },
    /// Not valid WebAssembly.
    #[error("{what} is not a valid WebAssembly component: {reason}")]
    Malformed {
        /// What was loaded.
        what: String,
        /// What wasmtime said.
        reason: String,
    },
    /// A component of another world.
    #[error("{what} does not fit the wrun:runtime/job world ({reason}); build it with the wrun guest SDK and `wrun::export_job!`")]
    WrongWorld {
        /// What was loaded.
        what: String,
        /// What does not fit.
        reason: String,
    },
    /// A component name calls could not use.
    #[error("{what}: {reason}")]
    ComponentName {
        /// What was loaded.
        what: String,
        /// What is wrong with the name.
        reason: String,
    },
    /// A component of another language than its environment declares.
    #[error("{what} was built with the {found} SDK, but its environment {manifest} declares runtime.language = \"{declared}\"; fix the manifest's runtime.language, or submit the {declared} build")]
    Language {
        /// What was loaded.
        what: String,
        /// The manifest.
        manifest: String,
        /// `runtime.language`.
        declared: String,
        /// The SDK that built the component.
        found: String,
    },
    /// What its environment grants that guests of its language cannot use.
    #[error("{what} was built with the {language} SDK, whose guests cannot use what its environment {manifest} grants: {reason}")]
    Unusable {
        /// What was loaded.
        what: String,
        /// The SDK that built the component.
        language: String,
        /// The manifest (or its named environment).
        manifest: String,
        /// What cannot be used, why, and what to do.
        reason: String,
    },
    /// Packages a manifest lists that this node could not provide.
    #[error("{manifest}: runtime.packages: {reason}")]
    Packages {
        /// The manifest.
        manifest: String,
        /// Why, and what to do.
        reason: String,
    },
    /// The cache could not be written or read.
    #[error("compiled-component cache at {path}: {reason}")]
    Cache {
        /// The entry.
        path: String,
        /// Why.
        reason: String,
    },
}

/// Told `(what, bytes)` before a component not in the cache is compiled,
/// which takes seconds for a large one: `wrun submit` says so on a terminal.
pub type CompileNotice = Arc<dyn Fn(&str, usize) + Send + Sync>;

/// Where a component came from (for the figures printed to users).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Found compiled in the cache.
    Hit,
    /// Compiled now.
    Compiled,
}

/// Compiled components on disk, by content hash.
pub struct ComponentCache {
    dir: PathBuf,
    /// Told before a component is compiled (it was not in the cache).
    on_compile: Option<CompileNotice>,
    /// One lock per component being loaded: concurrent loads of one
    /// component compile it once.
    loading: Mutex<HashMap<String, Arc<Mutex<()>>>>,
}

impl ComponentCache {
    /// A cache in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ComponentCache {
            dir: dir.into(),
            on_compile: None,
            loading: Mutex::new(HashMap::new()),
        }
    }

    /// The same cache, telling `notice` before it compiles a component.
    pub fn with_compile_notice(mut self, notice: Option<CompileNotice>) -> Self {
        self.on_compile = notice;
        self
    }

    /// The default cache: `$WRUN_CACHE_DIR` or `$XDG_CACHE_HOME/wrun` or `~/.cache/wrun`.
    pub fn default_dir() -> PathBuf {
        if let Some(d) = std::env::var_os("WRUN_CACHE_DIR") {
            return PathBuf::from(d);
        }
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))
            .unwrap_or_else(std::env::temp_dir);
        base.join("wrun")
    }

    /// Loads `bytes` as a component, compiling it only when no compiled copy
    /// for this engine exists yet (telling `notice`, else the cache's own,
    /// first). Blocking: compiles on this thread.
    pub(crate) fn load(
        &self,
        engine: &Engine,
        bytes: &[u8],
        what: &str,
        notice: Option<&CompileNotice>,
    ) -> Result<(Component, CacheOutcome, String), LoadError> {
        check_is_component(bytes, what)?;
        let hash = wrun_core::content_hash(bytes);
        let mut h = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        let path = self
            .dir
            .join("components")
            .join(format!("{hash}-{:016x}.cwasm", h.finish()));
        let lock = self.loading.lock().entry(hash.clone()).or_default().clone();
        let outcome = {
            let _one_at_a_time = lock.lock();
            self.load_or_compile(engine, bytes, what, &path, notice)
        };
        drop(lock);
        let mut loading = self.loading.lock();
        if loading
            .get(&hash)
            .is_some_and(|l| Arc::strong_count(l) == 1)
        {
            loading.remove(&hash);
        }
        drop(loading);
        outcome.map(|(c, o)| (c, o, hash))
    }

    fn load_or_compile(
        &self,
        engine: &Engine,
        bytes: &[u8],
        what: &str,
        path: &Path,
        notice: Option<&CompileNotice>,
    ) -> Result<(Component, CacheOutcome), LoadError> {
        if path.exists() {
            // SAFETY: files in the cache were written by `Engine::precompile_component`
            // of an engine with the same compatibility hash (it is in the name), and
            // are only ever replaced atomically.
            match unsafe { Component::deserialize_file(engine, path) } {
                Ok(c) => return Ok((c, CacheOutcome::Hit)),
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "discarding unreadable cache entry");
                    let _ = std::fs::remove_file(path);
                }
            }
        }
        if let Some(notice) = notice.or(self.on_compile.as_ref()) {
            notice(what, bytes.len());
        }
        let compiled = engine
            .precompile_component(bytes)
            .map_err(|e| LoadError::Malformed {
                what: what.to_string(),
                reason: format!("{e:#}"),
            })?;
        let cache_err = |reason: String| LoadError::Cache {
            path: path.display().to_string(),
            reason,
        };
        let dir = path.parent().unwrap_or(&self.dir);
        std::fs::create_dir_all(dir).map_err(|e| cache_err(e.to_string()))?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| cache_err(e.to_string()))?;
        tmp.write_all(&compiled)
            .map_err(|e| cache_err(e.to_string()))?;
        tmp.persist(path).map_err(|e| cache_err(e.to_string()))?;
        // SAFETY: just written by this engine, see above.
        let c = unsafe { Component::deserialize_file(engine, path) }
            .map_err(|e| cache_err(format!("{e:#}")))?;
        Ok((c, CacheOutcome::Compiled))
    }
}

/// Tells a component from a core module or from something that is not Wasm,
/// so the error says what to do.
fn check_is_component(bytes: &[u8], what: &str) -> Result<(), LoadError> {
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        return Err(LoadError::Malformed {
            what: what.to_string(),
            reason: "it does not start with the WebAssembly magic bytes `\\0asm`".into(),
        });
    }
    // Core modules are version 1 layer 0; components carry layer 1.
    if bytes[4..8] == [1, 0, 0, 0] {
        return Err(LoadError::CoreModule {
            what: what.to_string(),
        });
    }
    Ok(())
}

/// What the SDK's build recorded in a component: which SDK built it and
/// the language packages it bundled.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct BuildMarks {
    /// The `wrun-sdk` custom section each SDK's build leaves (in the core
    /// module for Rust, at the top for the others); None for a component
    /// built otherwise.
    pub language: Option<String>,
    /// The `wrun-packages` section of a Python build: the packages it
    /// bundled, as the manifest wrote them.
    pub packages: Vec<String>,
}

/// Reads a component's [`BuildMarks`] (none of a malformed one).
pub fn build_marks(bytes: &[u8]) -> BuildMarks {
    let mut marks = BuildMarks::default();
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        let Ok(payload) = payload else {
            return BuildMarks::default();
        };
        let wasmparser::Payload::CustomSection(c) = payload else {
            continue;
        };
        let text = std::str::from_utf8(c.data()).unwrap_or_default();
        match c.name() {
            "wrun-sdk" if marks.language.is_none() && wrun_env::LANGUAGES.contains(&text) => {
                marks.language = Some(text.to_string());
            }
            "wrun-packages" => marks
                .packages
                .extend(text.lines().filter(|l| !l.is_empty()).map(str::to_string)),
            _ => {}
        }
    }
    marks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_build_marks_of_a_component_are_read_and_anything_else_is_none() {
        let component = |section: &[u8]| [b"\0asm\x0d\0\x01\0".as_slice(), section].concat();
        let marked =
            component(b"\x00\x0f\x08wrun-sdkpython\x00\x1b\x0dwrun-packagesa==1\nbb==2.0\n");
        let marks = build_marks(&marked);
        assert_eq!(marks.language.as_deref(), Some("python"));
        assert_eq!(marks.packages, ["a==1", "bb==2.0"]);
        assert_eq!(
            build_marks(&component(b"")),
            BuildMarks::default(),
            "unmarked"
        );
        let other = component(b"\x00\x0e\x08wrun-sdkcobol");
        assert_eq!(build_marks(&other).language, None, "not an SDK language");
        assert_eq!(build_marks(b"not wasm at all"), BuildMarks::default());
    }

    #[test]
    fn non_wasm_and_core_modules_get_specific_errors() {
        let e = check_is_component(b"hello world!", "x.wasm").unwrap_err();
        assert!(e.to_string().contains("magic bytes"), "{e}");
        let e = check_is_component(b"\0asm\x01\0\0\0", "m.wasm").unwrap_err();
        assert!(e.to_string().contains("core WebAssembly module"), "{e}");
        assert!(check_is_component(b"\0asm\x0d\0\x01\0", "c.wasm").is_ok());
    }
}
