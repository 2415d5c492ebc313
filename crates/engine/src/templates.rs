//! The project templates available to this handoff: the `*.toml` files of the configured
//! folder, or, when that folder does not exist, the templates built into the binary (so
//! `handoff` works from any directory).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use handoff_domain::template::{self, Template, TemplateError};

/// The shipped templates, as (name, text).
const BUILT_IN: &[(&str, &str)] = &[
    ("saas-onboarding", include_str!("../../../templates/projects/saas-onboarding.toml")),
    ("implementation", include_str!("../../../templates/projects/implementation.toml")),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Folder(PathBuf),
    BuiltIn,
}

#[derive(Debug)]
pub struct Templates {
    pub source: Source,
    templates: BTreeMap<String, Template>,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: the file name must be a template name: lowercase letters, digits and `-`, ending in .toml")]
    BadName { path: PathBuf },
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<TemplateError>),
    #[error("{} holds no template (*.toml)", .0.display())]
    Empty(PathBuf),
}

impl Templates {
    /// Loads every template in `dir` (or the built-in set if `dir` does not exist),
    /// refusing the whole catalog if any template is invalid: a half-loaded catalog
    /// would make projects silently depend on which file happened to be broken.
    pub fn load(dir: &Path) -> Result<Self, CatalogError> {
        if !dir.exists() {
            let files = BUILT_IN
                .iter()
                .map(|(name, text)| ((*name).to_owned(), format!("(built in) {name}.toml"), (*text).to_owned()));
            return Self::parse_all(Source::BuiltIn, files.collect());
        }
        let read_err = |source| CatalogError::Read {
            path: dir.to_owned(),
            source,
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(read_err)? {
            let path = entry.map_err(read_err)?.path();
            if path.extension().is_none_or(|e| e != "toml") {
                continue;
            }
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
                .ok_or_else(|| CatalogError::BadName { path: path.clone() })?
                .to_owned();
            let text = std::fs::read_to_string(&path).map_err(|source| CatalogError::Read {
                path: path.clone(),
                source,
            })?;
            files.push((name, path.display().to_string(), text));
        }
        if files.is_empty() {
            return Err(CatalogError::Empty(dir.to_owned()));
        }
        Self::parse_all(Source::Folder(dir.to_owned()), files)
    }

    fn parse_all(source: Source, files: Vec<(String, String, String)>) -> Result<Self, CatalogError> {
        let mut templates = BTreeMap::new();
        let mut errors = Vec::new();
        for (name, shown_path, text) in files {
            match template::parse(&shown_path, &text) {
                Ok(t) => {
                    templates.insert(name, t);
                }
                Err(e) => errors.push(e),
            }
        }
        if errors.is_empty() {
            Ok(Self { source, templates })
        } else {
            Err(CatalogError::Invalid(errors))
        }
    }

    pub fn get(&self, name: &str) -> Option<&Template> {
        self.templates.get(name)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Template)> {
        self.templates.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn names(&self) -> Vec<&str> {
        self.templates.keys().map(String::as_str).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use handoff_domain::TaskKind;

    #[test]
    fn the_built_in_templates_are_valid_and_realistic() {
        let catalog = Templates::load(Path::new("/nonexistent")).unwrap();
        assert_eq!(catalog.source, Source::BuiltIn);
        assert_eq!(catalog.names(), ["implementation", "saas-onboarding"]);
        for (name, t) in catalog.iter() {
            assert!(t.phases.len() >= 5, "{name}: {} phases", t.phases.len());
            assert!(t.tasks().count() >= 25, "{name}: {} tasks", t.tasks().count());
            assert!(t.welcome_message.is_some(), "{name}");
            let kinds: std::collections::BTreeSet<_> = t.tasks().map(|t| t.kind.name()).collect();
            assert_eq!(kinds.len(), 6, "{name} must use every task type: {kinds:?}");
            assert!(t.tasks().any(|t| t.visibility == handoff_domain::Visibility::Internal), "{name}");
            assert!(t.tasks().any(|t| t.owner == handoff_domain::OwnerSide::Customer), "{name}");
            assert!(t.tasks().any(|t| !t.depends_on.is_empty()), "{name}");
            assert!(
                t.tasks().any(|t| matches!(&t.kind, TaskKind::Form { fields } if fields.len() > 2)),
                "{name}"
            );
        }
    }

    #[test]
    fn the_shipped_folder_matches_the_built_in_set() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../templates/projects");
        let from_folder = Templates::load(&dir).unwrap();
        assert_eq!(from_folder.names(), Templates::load(Path::new("/nonexistent")).unwrap().names());
    }

    #[test]
    fn one_broken_template_refuses_the_catalog_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("good.toml"), BUILT_IN[0].1).unwrap();
        std::fs::write(dir.path().join("bad.toml"), "name = 3\n").unwrap();
        let err = Templates::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("bad.toml"), "{err}");
        assert!(!err.contains("good.toml"), "{err}");
    }

    #[test]
    fn file_names_must_be_usable_template_names() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("My Template.toml"), BUILT_IN[0].1).unwrap();
        assert!(matches!(Templates::load(dir.path()), Err(CatalogError::BadName { .. })));
    }
}
