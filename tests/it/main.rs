//! The one integration test binary: every test drives the real `toolctl` binary.

mod docs;
mod harness;
mod secrets;
