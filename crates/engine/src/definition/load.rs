//! Loading the workflows folder.

use std::path::{Path, PathBuf};

use super::{Workflow, WorkflowError, is_valid_name, parse};

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: the file name must be a workflow name: lowercase letters, digits and `-`, ending in .toml")]
    BadName { path: PathBuf },
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<WorkflowError>),
}

/// Every `*.toml` in `dir`, sorted by name, or every problem in every file: a folder
/// with one broken workflow is refused whole, so what runs never depends on which file
/// happened to be broken. An empty folder is no workflow, not an error.
pub fn load_dir(dir: &Path) -> Result<Vec<Workflow>, LoadError> {
    let read_err = |source| LoadError::Read {
        path: dir.to_owned(),
        source,
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_err)? {
        let path = entry.map_err(read_err)?.path();
        if path.extension().is_some_and(|e| e == "toml") {
            paths.push(path);
        }
    }
    paths.sort();
    let mut workflows = Vec::with_capacity(paths.len());
    let mut errors = Vec::new();
    for path in paths {
        if !path.file_stem().and_then(|s| s.to_str()).is_some_and(is_valid_name) {
            return Err(LoadError::BadName { path });
        }
        let text = std::fs::read_to_string(&path).map_err(|source| LoadError::Read {
            path: path.clone(),
            source,
        })?;
        match parse(&path.display().to_string(), &text) {
            Ok(w) => workflows.push(w),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(workflows)
    } else {
        Err(LoadError::Invalid(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[trigger]
connection = "hubspot"
object = "deal"
event = "created"

[template]
name = "saas-onboarding"

[project]
name = "{{ dealname }}"
start = "today"
"#;

    #[test]
    fn every_toml_file_of_the_folder_loads_sorted_by_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.toml"), MINIMAL).unwrap();
        std::fs::write(dir.path().join("a.toml"), MINIMAL).unwrap();
        std::fs::write(dir.path().join("notes.md"), "not a workflow").unwrap();
        let names: Vec<String> = load_dir(dir.path()).unwrap().into_iter().map(|w| w.name).collect();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn one_broken_workflow_refuses_the_folder_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("good.toml"), MINIMAL).unwrap();
        std::fs::write(dir.path().join("bad.toml"), "[trigger]\nconnection = 3\n").unwrap();
        let err = load_dir(dir.path()).unwrap_err().to_string();
        assert!(err.contains("bad.toml"), "{err}");
        assert!(!err.contains("good.toml"), "{err}");
    }

    #[test]
    fn file_names_must_be_usable_workflow_names() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Closed Won.toml"), MINIMAL).unwrap();
        assert!(matches!(load_dir(dir.path()), Err(LoadError::BadName { .. })));
    }

    #[test]
    fn a_missing_folder_is_an_error_naming_it() {
        let err = load_dir(Path::new("/nonexistent/workflows")).unwrap_err().to_string();
        assert!(err.contains("/nonexistent/workflows"), "{err}");
    }
}
