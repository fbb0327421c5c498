//! Distributed runtime benchmarks (filled in below).
fn main() {}
