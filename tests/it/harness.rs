//! The test harness: temp roots, running toolctl, snapshots of a tree.
