//! SOQL: parsing (lex, parse), resolving against the schema and evaluating (eval).

mod eval;
mod lex;
mod parse;

pub use eval::{Compiled, Selected, compile};

/// A query error in Salesforce's shape (400 with `MALFORMED_QUERY`, `INVALID_FIELD` or `INVALID_TYPE`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct SoqlError {
    pub code: &'static str,
    pub message: String,
}

impl SoqlError {
    /// Salesforce's layout: the query, a caret under the column, the position, then the reason.
    fn at(code: &'static str, q: &str, col: usize, reason: &str) -> Self {
        let caret = format!("{}^", " ".repeat(col.saturating_sub(1)));
        Self {
            code,
            message: format!("\n{q}\n{caret}\nERROR at Row:1:Column:{col}\n{reason}"),
        }
    }

    pub fn malformed(q: &str, col: usize, reason: &str) -> Self {
        Self::at("MALFORMED_QUERY", q, col, reason)
    }

    pub fn invalid_field(q: &str, col: usize, reason: &str) -> Self {
        Self::at("INVALID_FIELD", q, col, reason)
    }

    pub fn invalid_type(q: &str, col: usize, reason: &str) -> Self {
        Self::at("INVALID_TYPE", q, col, reason)
    }
}

impl From<SoqlError> for crate::error::ApiError {
    fn from(e: SoqlError) -> Self {
        crate::error::ApiError::new(400, e.code, e.message)
    }
}
