//! What errors share across the crate: a boxed error for wiring code, and a
//! way to log an error with its whole chain of causes, once, at the edge.

use std::fmt;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Displays an error and its sources: `database unavailable: pool timed out`.
pub struct Report<'a>(pub &'a (dyn std::error::Error + 'static));

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(e) = source {
            write!(f, ": {e}")?;
            source = e.source();
        }
        Ok(())
    }
}
