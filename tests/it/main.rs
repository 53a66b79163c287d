//! The one integration test binary: every test drives the real `toolctl` binary.

mod config;
mod docs;
mod graph;
mod harness;
mod hostile;
mod mailservers;
mod probes;
mod reconfigure;
mod secrets;
mod tail;
