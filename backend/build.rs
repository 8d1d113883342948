// `sqlx::migrate!` embeds the migration files at compile time; tell cargo to rebuild when one is
// added or changed, or a new migration would silently be left out of an incremental build.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
