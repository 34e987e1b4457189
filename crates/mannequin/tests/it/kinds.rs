//! A kind is a declaration: the pipeline (the store, the queue, the worker,
//! webhooks, a batch's bookkeeping and the operations on orders) serves every
//! kind through `AssetId` and `AssetIdea` and names none. Sceneries were
//! added without a line there; this keeps the next kind so. What a kind
//! brings lives in the domain (`kinds.rs`, its reading and prompt), the
//! planner, the generator's prompting and drawing, and its routes.

use std::path::{Path, PathBuf};

/// Words that name a particular kind, match on one kind's idea, or write a
/// kind's id prefix.
const NAMING_A_KIND: [&str; 6] = [
    "Scenery",
    "scenery",
    "AssetIdea::Model",
    "AssetIdea::Scenery",
    "\"model_\"",
    "\"scenery_\"",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_pipeline_names_no_kind() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    for dir in ["store", "queue", "worker", "webhooks"] {
        rust_files(&src.join(dir), &mut files);
    }
    files.extend(["batch.rs", "operations.rs"].map(|f| src.join(f)));
    assert!(files.len() > 30, "the pipeline's files: {files:?}");
    let mut naming = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        // The code, not its unit tests or its comments.
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for (n, line) in code.lines().enumerate() {
            let line = line.trim();
            if line.starts_with("//") {
                continue;
            }
            if let Some(word) = NAMING_A_KIND.iter().find(|w| line.contains(*w)) {
                naming.push(format!("{}:{}: {word}: {line}", file.display(), n + 1));
            }
        }
    }
    assert!(
        naming.is_empty(),
        "the pipeline names a kind; read it from the declaration instead:\n{}",
        naming.join("\n")
    );
}
