//! `toolctl secrets init|status|rekey`: the store as a whole.

pub mod init;
pub mod rekey;
pub mod status;
