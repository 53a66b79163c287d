//! Helm: placeholder.
