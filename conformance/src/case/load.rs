//! Finding and reading case files: every `*.msnp` under a directory, sorted by
//! path, each identified by its path relative to that directory.

use std::path::{Path, PathBuf};

use crate::case::{Case, ParseError, parse_case};

/// Case files could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A directory or file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A case file is not valid.
    #[error(transparent)]
    Parse(#[from] ParseError),
}

/// Loads every `*.msnp` file below `dir` (recursively), sorted by path.
pub fn load_cases(dir: &Path) -> Result<Vec<Case>, LoadError> {
    let mut files = Vec::new();
    collect(dir, &mut files)?;
    files.sort();
    let mut cases = Vec::with_capacity(files.len());
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|source| LoadError::Io {
            path: file.clone(),
            source,
        })?;
        let id = file
            .strip_prefix(dir)
            .unwrap_or(&file)
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        cases.push(parse_case(&id, &text)?);
    }
    Ok(cases)
}

/// The cases whose id contains `filter` (all when `None`).
pub fn filter_cases(cases: Vec<Case>, filter: Option<&str>) -> Vec<Case> {
    match filter {
        Some(f) => cases.into_iter().filter(|c| c.id.contains(f)).collect(),
        None => cases,
    }
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let io = |source| LoadError::Io {
        path: dir.to_path_buf(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "msnp") {
            out.push(path);
        }
    }
    Ok(())
}
