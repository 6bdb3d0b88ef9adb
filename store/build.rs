//! `sqlx::migrate!` embeds the migrations at compile time; without this, a migration added
//! after the last build would not be embedded until some other file of the crate changed.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
