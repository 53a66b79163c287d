//! The encrypted secrets store, end to end.
