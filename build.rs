//! Build script: rebuild when a store migration is added or removed.
//! `sqlx::migrate!` embeds the files it saw with `include_str!`, so edits to them
//! are tracked already, but a new file in the directory is not without this.

fn main() {
    println!("cargo:rerun-if-changed=src/store/migrations");
}
