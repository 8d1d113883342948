//! `make bench` (contacts part): generates a contacts CSV of BENCH_CONTACTS rows (1,000,000) with a
//! few percent of bad and duplicate rows, stages and imports it into one workspace, and reports
//! rows per second and the process's peak memory (VmHWM), which must stay flat in file size.
//!
//!   BENCH_DATABASE_URL (default: a fresh SQLite file) · BENCH_CONTACTS (1000000)

use std::{io::Write, time::Instant};

use backend::{
    identity::sessions::SessionUser,
    identity::users::{self, NewUser, Role},
    tenancy::workspaces::{self, WorkspaceInput},
};

fn peak_memory_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|kb| kb.parse::<f64>().ok()))
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

#[tokio::main]
async fn main() {
    let rows: usize = std::env::var("BENCH_CONTACTS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let dir = std::env::temp_dir().join("maverick-bench");
    std::fs::create_dir_all(&dir).unwrap();
    let url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}/contacts-{}.db", dir.display(), uuid::Uuid::new_v4().simple()));
    let db = backend::platform::db::Db::connect(&url, &Default::default()).await.expect("connect");
    backend::platform::migrate::run(&db).await.expect("migrate");
    let ws = workspaces::create(&db, WorkspaceInput::named(&format!("Bench {}", uuid::Uuid::new_v4().simple()))).await.unwrap().id;
    let u = users::create(&db, NewUser { email: format!("bench{}@agency.test", uuid::Uuid::new_v4().simple()), display_name: "Bench".into(), role: Role::Admin, password: "password-123".into() })
        .await
        .unwrap();
    let admin = SessionUser { session_id: 0, user_id: u.id, email: u.email, display_name: u.display_name, role: Role::Admin };

    let path = dir.join(format!("contacts-{}.csv", uuid::Uuid::new_v4().simple()));
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        writeln!(f, "Email Address,First Name,Last Name,Company Name,Job Title,Phone,City,State,ZIP").unwrap();
        for i in 0..rows {
            // 2 % bad emails, 3 % repeats of an earlier contact.
            let email = if i % 50 == 7 { format!("broken-{i}-at-example") } else if i % 33 == 5 && i > 100 { format!("person{}@example{}.com", i - 100, (i - 100) % 97) } else { format!("person{i}@example{}.com", i % 97) };
            writeln!(f, "{email},First{i},Last{i},\"Company {} Inc\",Head of Growth,+1 555 {:07},Austin,TX,787{:02}", i % 5000, i % 10_000_000, i % 100).unwrap();
        }
    }
    let bytes = std::fs::metadata(&path).unwrap().len();
    let before = peak_memory_mb();
    let started = Instant::now();
    let id = backend::contacts::stage(&db, &admin, ws, "bench.csv", &path, bytes).await.unwrap();
    let upload = backend::contacts::get_upload(&db, &admin, id).await.unwrap();
    let counts = backend::contacts::import(&db, &admin, id, upload.mapping(), &dir).await.unwrap();
    let took = started.elapsed();
    println!("\nBackend {:?}: {rows} rows, {:.1} MB file\n", db.backend(), bytes as f64 / 1_048_576.0);
    println!("| measure | value |\n|---|---|");
    println!("| parse + validate + dedupe + insert | {:.1} s, {:.0} rows/s |", took.as_secs_f64(), rows as f64 / took.as_secs_f64());
    println!("| created / duplicates / rejected | {} / {} / {} |", counts.created, counts.duplicates, counts.rejected);
    println!("| peak memory (VmHWM) | {:.0} MB (before the import: {:.0} MB) |", peak_memory_mb(), before);
    for f in std::fs::read_dir(dir.join("uploads")).into_iter().flatten().flatten() {
        let _ = std::fs::remove_file(f.path());
    }
}
