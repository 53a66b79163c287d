//! Imports (placeholder).
