//! The gitlab.rb reader (placeholder until the import lands).
