//! The prospects pipeline on a database (issue 15), at benchmark scale: loads the benchmark's
//! labelled person file as an agents list (raw + normalised layers), runs the resolver the way a
//! queued run does (staging in small transactions with progress, then one set-based swap), then
//! runs it again on the same data (which must change nothing). Prints the timings as JSON.
//!   prospects_db_bench FILE.csv           SQLite in a temporary folder
//!   BENCH_DATABASE_URL=postgres://… prospects_db_bench FILE.csv
//! Used by `make bench-prospects` (BENCH_PROSPECTS_DB=1); figures in docs/performance.md.

use std::time::Instant;

use backend::{
    on_db,
    platform::db::Db,
    prospects::{store, Region},
};

#[tokio::main]
async fn main() {
    let file = std::env::args().nth(1).expect("usage: prospects_db_bench FILE.csv");
    let dir = std::env::temp_dir().join("maverick-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let sqlite = dir.join(format!("prospects-{}.db", uuid::Uuid::new_v4().simple()));
    let url = std::env::var("BENCH_DATABASE_URL").unwrap_or_else(|_| format!("sqlite://{}", sqlite.display()));
    let db = Db::connect(&url, &Default::default()).await.expect("connect");
    backend::platform::migrate::run(&db).await.expect("migrate");

    let t = Instant::now();
    let loaded = store::load_file(&db, store::SourceKind::Agents, std::path::Path::new(&file), Region::default()).await.expect("load");
    let load_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let first = store::resolve_db(&db).await.expect("first run");
    let first_s = t.elapsed().as_secs_f64();
    let between = chrono::Utc::now();

    let t = Instant::now();
    let second = store::resolve_db(&db).await.expect("second run");
    let second_s = t.elapsed().as_secs_f64();
    assert_eq!((first.masters, first.persons), (second.masters, second.persons), "a re-run on the same data changes nothing");
    let rewritten: i64 = on_db!(&db, |pool| sqlx::query_scalar("SELECT COUNT(*) FROM prospect_masters WHERE updated_at > $1").bind(between).fetch_one(pool).await).unwrap();

    println!(
        "{}",
        serde_json::json!({
            "backend": format!("{:?}", db.backend()).to_lowercase(),
            "rows": loaded.rows,
            "persons": loaded.persons_added,
            "rejected": loaded.rejected,
            "load_s": (load_s * 10.0).round() / 10.0,
            "first_run_s": (first_s * 10.0).round() / 10.0,
            "first_run": { "read_ms": first.read_ms, "resolve_ms": first.resolve_ms, "write_ms": first.write_ms, "masters": first.masters, "open_review_pairs": first.open_review_pairs },
            "second_run_s": (second_s * 10.0).round() / 10.0,
            "second_run": { "read_ms": second.read_ms, "resolve_ms": second.resolve_ms, "write_ms": second.write_ms },
            "masters_rewritten_by_second_run": rewritten,
        })
    );
    drop(db);
    let _ = std::fs::remove_file(&sqlite);
    let _ = std::fs::remove_file(sqlite.with_extension("db-wal"));
    let _ = std::fs::remove_file(sqlite.with_extension("db-shm"));
}
