//! Generated man pages and completions match the clap definition.
