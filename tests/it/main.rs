//! The one integration test binary: every test drives the real `toolctl` binary.

mod attacker;
mod cli;
mod config;
mod consumers;
mod docs;
mod edit;
mod gitlab;
mod graph;
mod harness;
mod hostile;
mod import;
mod mailservers;
mod mattermost;
mod outside_attacks;
mod postgres;
mod probes;
mod reconfigure;
mod redis;
mod rotation;
mod secret_values;
mod secrets;
mod servicedesk;
mod tail;
