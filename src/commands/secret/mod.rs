//! `toolctl <scope> secret show|edit|write`, the same three commands for every scope.

pub mod edit;
pub mod show;
pub mod write;
