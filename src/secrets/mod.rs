//! The encrypted secrets store: one armored age file per scope, one X25519 key.
//!
//! Owns everything between a scope's plaintext and its file on disk: the key (`key`), the
//! scopes and their schemas (`scope`, `schema`), age itself (`crypt`), the store's rules
//! (`store`: who may create a key, recipients, locking, atomic writes), key rotation
//! (`rotation`: the journaled, resumable `rekey`) and the editor session (`edit`). The
//! commands call into it; it prints nothing to stdout and never lets a plaintext value reach
//! a message.

pub mod crypt;
pub mod edit;
pub mod error;
pub mod key;
pub mod rotation;
pub mod schema;
pub mod scope;
pub mod store;

pub use crypt::Plaintext;
pub use error::SecretsError;
pub use scope::Scope;
pub use store::Store;
