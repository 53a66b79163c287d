//! The one integration test binary: every test drives the real `toolctl` binary.

mod attacker;
mod cli;
mod config;
mod consumers;
mod docs;
mod edit;
mod edit_attacks;
mod gitlab;
mod graph;
mod harness;
mod hostile;
mod import;
mod low_attacks;
mod mailservers;
mod mattermost;
mod mattermost_backup_attacks;
mod postgres;
mod probes;
mod reconfigure;
mod redis;
mod rotation;
mod secret_values;
mod secrets;
mod servicedesk;
mod tail;
mod tail_attacks;
