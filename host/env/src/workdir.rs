//! Working directories: packed into the cache under the hash of their
//! contents (so the second use costs a hash check), and listed for a
//! cluster job to carry.

use std::ops::Range;
use std::path::{Path, PathBuf};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use sha2::{Digest, Sha256};
use toml::Spanned;

use crate::hex;

/// What a working directory leaves out: `files.excludes`, gitignore-style
/// patterns relative to the directory, as Ray's `excludes`.
pub struct Excludes(Option<Gitignore>);

impl Excludes {
    /// Nothing left out.
    pub fn none() -> Self {
        Excludes(None)
    }

    /// The patterns for the working directory `root`.
    pub fn parse(root: &Path, patterns: &[String]) -> Result<Self, String> {
        let spanned: Vec<_> = patterns
            .iter()
            .map(|p| Spanned::new(0..0, p.clone()))
            .collect();
        Self::new(root, &Some(spanned)).map_err(|(_, e)| e)
    }

    pub(crate) fn new(
        root: &Path,
        patterns: &Option<Vec<Spanned<String>>>,
    ) -> Result<Self, (Range<usize>, String)> {
        let Some(patterns) = patterns.as_ref().filter(|p| !p.is_empty()) else {
            return Ok(Excludes(None));
        };
        let mut b = GitignoreBuilder::new(root);
        for p in patterns {
            b.add_line(None, p.get_ref()).map_err(|e| {
                (
                    p.span(),
                    format!("`{}` is not a gitignore-style pattern: {e}", p.get_ref()),
                )
            })?;
        }
        let set = b.build().map_err(|e| (0..0, e.to_string()))?;
        Ok(Excludes(Some(set)))
    }

    fn leaves_out(&self, rel: &Path, is_dir: bool) -> bool {
        self.0
            .as_ref()
            .is_some_and(|g| g.matched(rel, is_dir).is_ignore())
    }
}

/// Copies `src` into `cache/workdirs/<hash of its contents>` unless that
/// exists; returns the copy and whether it was made now. Symbolic links are
/// refused: they could point outside the directory.
pub(crate) fn pack_working_dir(
    src: &Path,
    excludes: &Excludes,
    cache: &Path,
    manifest_hash: &mut Sha256,
) -> Result<(PathBuf, bool), String> {
    let files = working_dir_files(src, excludes)?;
    let mut h = Sha256::new();
    for rel in &files {
        let bytes =
            std::fs::read(src.join(rel)).map_err(|e| format!("reading {}: {e}", rel.display()))?;
        h.update(rel.to_string_lossy().as_bytes());
        h.update([0]);
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(&bytes);
    }
    let digest = hex(&h.finalize());
    manifest_hash.update(digest.as_bytes());
    let dest = cache.join("workdirs").join(&digest);
    if dest.is_dir() {
        return Ok((dest, false));
    }
    let tmp = cache
        .join("workdirs")
        .join(format!(".{digest}.tmp{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    for rel in &files {
        let to = tmp.join(rel);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("packing into {}: {e}", parent.display()))?;
        }
        std::fs::copy(src.join(rel), &to).map_err(|e| format!("packing {}: {e}", rel.display()))?;
    }
    std::fs::create_dir_all(&tmp).map_err(|e| format!("packing: {e}"))?;
    match std::fs::rename(&tmp, &dest) {
        Ok(()) => Ok((dest, true)),
        // Packed by someone else meanwhile: same contents.
        Err(_) if dest.is_dir() => {
            let _ = std::fs::remove_dir_all(&tmp);
            Ok((dest, false))
        }
        Err(e) => Err(format!("packing into {}: {e}", dest.display())),
    }
}

fn collect_files(
    root: &Path,
    rel: &Path,
    excludes: &Excludes,
    out: &mut Vec<PathBuf>,
) -> Result<(), String> {
    let dir = root.join(rel);
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("reading {}: {e}", dir.display()))?;
        let ty = entry.file_type().map_err(|e| e.to_string())?;
        let r = rel.join(entry.file_name());
        if excludes.leaves_out(&r, ty.is_dir()) {
            continue;
        }
        if ty.is_symlink() {
            return Err(format!(
                "{} is a symbolic link; working directories may hold only files and directories",
                root.join(&r).display()
            ));
        } else if ty.is_dir() {
            collect_files(root, &r, excludes, out)?;
        } else {
            out.push(r);
        }
    }
    Ok(())
}

/// The files under `root` (relative, sorted) less those `excludes` leaves
/// out: what a working directory is made of. Symbolic links are refused
/// (an excluded one is left out first).
pub fn working_dir_files(root: &Path, excludes: &Excludes) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    collect_files(root, Path::new(""), excludes, &mut files)?;
    files.sort();
    Ok(files)
}
