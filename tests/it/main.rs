//! The one integration test binary: every test drives the real `toolctl` binary.

mod config;
mod docs;
mod graph;
mod harness;
mod mailservers;
mod probes;
mod reconfigure;
mod rotation;
mod secrets;
mod tail;
