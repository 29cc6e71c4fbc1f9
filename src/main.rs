//! The `msnpd` command line.
fn main() {}
