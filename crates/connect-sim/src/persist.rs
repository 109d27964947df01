//! The optional state file: instances and users as JSON, replaced atomically on each change.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::directory::Directory;
use crate::error::PersistError;

const FORMAT: &str = "connect-sim-state";
const VERSION: u32 = 1;

#[derive(Deserialize)]
struct StateFile {
    format: String,
    version: u32,
    directory: Directory,
}

#[derive(Serialize)]
struct StateFileRef<'a> {
    format: &'a str,
    version: u32,
    directory: &'a Directory,
}

/// Reads the state file; `Ok(None)` when it does not exist yet.
pub(crate) fn load(path: &Path) -> Result<Option<Directory>, PersistError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(PersistError::Io {
                path: path.to_owned(),
                source,
            });
        }
    };
    let file: StateFile = serde_json::from_str(&text).map_err(|source| PersistError::Corrupt {
        path: path.to_owned(),
        source,
    })?;
    if file.format != FORMAT || file.version != VERSION {
        let source = serde::de::Error::custom(format!(
            "expected format {FORMAT:?} version {VERSION}, found {:?} version {}",
            file.format, file.version
        ));
        return Err(PersistError::Corrupt {
            path: path.to_owned(),
            source,
        });
    }
    Ok(Some(file.directory))
}

/// Serialises the directory in the state-file format.
pub(crate) fn encode(directory: &Directory) -> Result<Vec<u8>, PersistError> {
    let file = StateFileRef {
        format: FORMAT,
        version: VERSION,
        directory,
    };
    serde_json::to_vec_pretty(&file).map_err(PersistError::Serialise)
}

/// Writes `bytes` to `path` so that a crash leaves either the old or the new file whole:
/// write a temporary file beside it, flush it to disk, then rename it over the target.
/// Missing parent directories are created.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), PersistError> {
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let io_error = |source| PersistError::Io {
        path: path.to_owned(),
        source,
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state.json".to_owned());
    let temp: PathBuf = path.with_file_name(format!(
        ".{file_name}.tmp-{}-{}",
        std::process::id(),
        SEQUENCE.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        // Best effort: a stray temp file is harmless but untidy.
        let _ = std::fs::remove_file(&temp);
    }
    result.map_err(io_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::Seed;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "connect-sim-persist-{name}-{}",
            uuid::Uuid::new_v4()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn round_trips_and_leaves_no_temp_files() {
        let dir = temp_dir("roundtrip");
        let path = dir.join("nested").join("state.json");
        assert!(load(&path).unwrap().is_none());
        let mut directory = Directory::default();
        directory
            .apply_seed(&Seed::default(), &mut || "x".to_owned(), 0.0)
            .unwrap();
        write_atomically(&path, &encode(&directory).unwrap()).unwrap();
        write_atomically(&path, &encode(&directory).unwrap()).unwrap();
        assert_eq!(load(&path).unwrap(), Some(directory));
        let names: Vec<_> = std::fs::read_dir(dir.join("nested")).unwrap().collect();
        assert_eq!(names.len(), 1, "only the state file remains");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn foreign_files_are_refused() {
        let dir = temp_dir("corrupt");
        let path = dir.join("state.json");
        std::fs::write(
            &path,
            "{\"format\":\"other\",\"version\":1,\"directory\":{\"instances\":{}}}",
        )
        .unwrap();
        assert!(matches!(load(&path), Err(PersistError::Corrupt { .. })));
        std::fs::write(&path, "not json").unwrap();
        assert!(matches!(load(&path), Err(PersistError::Corrupt { .. })));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
