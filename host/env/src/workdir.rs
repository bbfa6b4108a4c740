//! Working directories: packed into the cache under the hash of their
//! contents (so the second use costs a hash check), and listed for a
//! cluster job to carry.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::hex;

/// Copies `src` into `cache/workdirs/<hash of its contents>` unless that
/// exists; returns the copy and whether it was made now. Symbolic links are
/// refused: they could point outside the directory.
pub(crate) fn pack_working_dir(
    src: &Path,
    cache: &Path,
    manifest_hash: &mut Sha256,
) -> Result<(PathBuf, bool), String> {
    let mut files = Vec::new();
    collect_files(src, Path::new(""), &mut files)?;
    files.sort();
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

fn collect_files(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let dir = root.join(rel);
    let entries = std::fs::read_dir(&dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("reading {}: {e}", dir.display()))?;
        let ty = entry.file_type().map_err(|e| e.to_string())?;
        let r = rel.join(entry.file_name());
        if ty.is_symlink() {
            return Err(format!(
                "{} is a symbolic link; working directories may hold only files and directories",
                root.join(&r).display()
            ));
        } else if ty.is_dir() {
            collect_files(root, &r, out)?;
        } else {
            out.push(r);
        }
    }
    Ok(())
}

/// The files under `root` (relative, sorted): what a working directory is
/// made of. Symbolic links are refused, as when packing.
pub fn working_dir_files(root: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    collect_files(root, Path::new(""), &mut files)?;
    files.sort();
    Ok(files)
}
