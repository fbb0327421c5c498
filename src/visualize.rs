//! Pictures of task graphs (Dask's `visualize`).
//!
//! [`Visualize::to_dot`] gives the graph of any collection as DOT text; [`Visualize::visualize`]
//! writes it to a file — `.dot` as text, `.png`, `.svg` or `.pdf` through Graphviz's `dot`
//! program when it is installed (a clear error says so when it is not).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use dusk_core::{optimize, to_dot, Collection, DotOptions, Graph, OptimizeOptions};

/// Why a picture could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VisualizeError {
    /// Lowering the collection failed.
    #[error(transparent)]
    Compute(#[from] dusk_core::ComputeError),
    /// Writing the file failed.
    #[error("could not write {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Graphviz is needed for this format.
    #[error("rendering {path} needs Graphviz's `dot` program ({reason}); write a .dot file instead, or install graphviz")]
    Graphviz {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
}

/// Graph pictures for every collection.
///
/// ```
/// use dusk::prelude::*;
/// let total = apply_list(&[delayed(1), delayed(2)], |xs: &[&i32]| xs.iter().copied().sum::<i32>());
/// let dot = total.to_dot(false).unwrap();
/// assert!(dot.starts_with("digraph"));
/// assert_eq!(dot.matches(" -> ").count(), 2);
/// ```
pub trait Visualize: Collection {
    /// The collection's graph as DOT text, optimized or as built; nodes are coloured by the
    /// order in which they would run.
    fn to_dot(&self, optimized: bool) -> Result<String, VisualizeError> {
        let mut graph = Graph::new();
        let keys = self.lower(&mut graph)?;
        if optimized {
            graph = optimize(&graph, &keys, OptimizeOptions::default());
        }
        Ok(to_dot(
            &graph,
            &DotOptions {
                order: Some(keys),
                left_to_right: false,
            },
        ))
    }

    /// Writes the (unoptimized) graph to `path`: DOT text for `.dot`/`.gv`, otherwise rendered
    /// by Graphviz in the format named by the extension.
    fn visualize(&self, path: impl AsRef<Path>) -> Result<(), VisualizeError> {
        let path = path.as_ref();
        let dot = self.to_dot(false)?;
        let shown = path.display().to_string();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("dot")
            .to_ascii_lowercase();
        if ext == "dot" || ext == "gv" {
            return std::fs::write(path, dot).map_err(|source| VisualizeError::Io {
                path: shown,
                source,
            });
        }
        let graphviz = |reason: String| VisualizeError::Graphviz {
            path: shown.clone(),
            reason,
        };
        let mut child = Command::new("dot")
            .arg(format!("-T{ext}"))
            .arg("-o")
            .arg(path)
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| graphviz(e.to_string()))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(dot.as_bytes())
                .map_err(|e| graphviz(e.to_string()))?;
        }
        let out = child
            .wait_with_output()
            .map_err(|e| graphviz(e.to_string()))?;
        if !out.status.success() {
            return Err(graphviz(
                String::from_utf8_lossy(&out.stderr).trim().to_string(),
            ));
        }
        Ok(())
    }
}

impl<C: Collection + ?Sized> Visualize for C {}
