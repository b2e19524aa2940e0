//! Speaker-embedding spaces: the ones learned in the home (`<home>/spaces/<name>.safetensors`)
//! and the one shipped in the binary (`assets/space/`, learned over a synthetic population that
//! excludes the sample speakers), found by name or, with no name, the shipped one.

use std::path::PathBuf;

use super::{Result, WorkflowError, Workspace};
use crate::library;
use crate::recognizer::Recognizer;
use crate::submodel::space::Space;

/// The shipped space's file inside its installed folder, and the name submodels record.
pub const SHIPPED_FILE: &str = "population.safetensors";
pub const SHIPPED_NAME: &str = "shipped:population";

/// Names of the embedding spaces in the home, sorted.
pub fn spaces(ws: &Workspace) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(ws.home.spaces_dir()) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_suffix(".safetensors")
                .map(str::to_string)
        })
        .filter(|n| library::check_name(n).is_ok())
        .collect();
    names.sort();
    names
}

/// Where space `name` lives in the home (the name is checked like a submodel id).
pub fn space_file(ws: &Workspace, name: &str) -> Result<PathBuf> {
    library::check_name(name)?;
    Ok(ws.home.spaces_dir().join(format!("{name}.safetensors")))
}

/// Space `name` from the home, or the shipped space when `name` is `None` (or names it), for
/// `rec`'s base; with the name to record in the submodels fitted in it.
pub fn load(ws: &Workspace, rec: &Recognizer, name: Option<&str>) -> Result<(Space, String)> {
    let (path, label) = match name {
        None | Some(SHIPPED_NAME) => (
            ws.shipped_space_dir()?.join(SHIPPED_FILE),
            SHIPPED_NAME.to_string(),
        ),
        Some(n) => (space_file(ws, n)?, n.to_string()),
    };
    let space = Space::load(&path, &rec.model.hash, rec.model.device())
        .map_err(|e| WorkflowError::Invalid(format!("space {label}: {e}")))?;
    Ok((space, label))
}
