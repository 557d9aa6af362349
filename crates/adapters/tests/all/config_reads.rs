//! Configuration is read in one place: `crates/adapters/src/config.rs`. Every other source file
//! of the binaries and libraries (tests, benches and examples aside, and the test-fixtures crate,
//! which only finds the shared fixtures) takes its settings from there, so a variable has one
//! default and one error message everywhere.

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn given_the_workspace_sources_when_searched_then_only_the_config_module_reads_the_environment() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    // GIVEN every `src/` of the library and function crates
    let mut files = Vec::new();
    for top in ["crates", "functions"] {
        for krate in std::fs::read_dir(root.join(top)).expect("dir").flatten() {
            if krate.file_name() == "fixtures" {
                continue;
            }
            sources(&krate.path().join("src"), &mut files);
        }
    }
    assert!(files.len() > 50, "found the sources ({})", files.len());
    let config = root.join("crates/adapters/src/config.rs");
    // WHEN each is searched for a read of the process environment
    let readers: Vec<String> = files
        .iter()
        .filter(|f| f.canonicalize().ok() != config.canonicalize().ok())
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            ["std::env::var", "env::var_os", "env::vars("]
                .iter()
                .any(|needle| text.contains(needle))
        })
        .map(|f| f.strip_prefix(&root).unwrap_or(f).display().to_string())
        .collect();
    // THEN there is none: they read through leenkies_adapters::config
    assert!(
        readers.is_empty(),
        "these read the environment themselves; read it through leenkies_adapters::config: {readers:#?}"
    );
}
