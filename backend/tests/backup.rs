//! Backups of a running SQLite install and their restore, on real files: a snapshot taken while a
//! writer inserts holds exactly a prefix of its rows and passes the integrity check; a changed
//! archive is refused and the target folder stays as it was; a non-empty folder needs --force;
//! an older archive is migrated forward, a newer one refused; the schedule keeps the last N.
//! These run on SQLite whatever TEST_DATABASE_URL says (PostgreSQL installs use pg_dump).

use std::{
    io::{Read, Write},
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicBool, AtomicI64, Ordering},
        Arc,
    },
    time::Duration,
};

use backend::platform::{backup, config::Config, crypto::token_hash, db::Db};
use chrono::{TimeZone, Utc};
use sqlx::SqlitePool;

const SECRET: &str = "generated-secret-key-0123456789abcdef0123";
const UPLOAD: &str = "email,reason\nbad@acme.test,MARKER-CONTENT-12345 no domain\n";

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join("maverick-tests").join(format!("backup-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn url_in(data: &Path) -> String {
    format!("sqlite://{}/maverick.db", data.display())
}

/// A migrated install in `<root>/data` with a generated key file and a stored upload.
async fn install(root: &Path) -> (Db, PathBuf, String) {
    let data = root.join("data");
    let url = url_in(&data);
    let db = Db::connect(&url, &Default::default()).await.unwrap();
    backend::platform::migrate::run(&db).await.unwrap();
    std::fs::write(data.join("secret.key"), SECRET).unwrap();
    std::fs::create_dir_all(data.join("uploads")).unwrap();
    std::fs::write(data.join("uploads/contacts-1-rejected.csv"), UPLOAD).unwrap();
    (db, data, url)
}

fn pool(db: &Db) -> &SqlitePool {
    match db {
        Db::Sqlite(p) => p,
        Db::Postgres(_) => unreachable!(),
    }
}

async fn open(url: &str) -> Db {
    Db::connect(url, &Default::default()).await.unwrap()
}

async fn audit_rows(db: &Db, up_to: i64) -> Vec<(i64, String, Option<String>)> {
    sqlx::query_as("SELECT id, action, target FROM audit_log WHERE id <= $1 ORDER BY id").bind(up_to).fetch_all(pool(db)).await.unwrap()
}

/// Every file under `dir` with its contents (to see that a refused restore changed nothing).
fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.strip_prefix(dir).unwrap().display().to_string(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn siblings(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_backup_taken_while_a_writer_inserts_restores_every_committed_row_and_passes_the_integrity_check() {
    let root = temp_dir();
    let (db, data, url) = install(&root).await;
    // Enough rows that the snapshot takes a while: 20,000 × ~200 bytes.
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) \
         INSERT INTO audit_log (action, target, at) SELECT 'seed', printf('%0200d', i), '2026-01-01T00:00:00Z' FROM n",
    )
    .execute(pool(&db))
    .await
    .unwrap();

    // The writer: one committed row at a time; `committed` is the newest id known committed.
    let (stop, committed) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicI64::new(20000)));
    let writer = {
        let (db, stop, committed) = (db.clone(), stop.clone(), committed.clone());
        tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                i += 1;
                let id: i64 = sqlx::query_scalar("INSERT INTO audit_log (action, target, at) VALUES ('write', $1, '2026-01-02T00:00:00Z') RETURNING id")
                    .bind(format!("row {i}"))
                    .fetch_one(pool(&db))
                    .await
                    .unwrap();
                committed.store(id, Ordering::SeqCst);
            }
        })
    };
    while committed.load(Ordering::SeqCst) < 20050 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    let before = committed.load(Ordering::SeqCst);
    let made = backup::create(&url, &data, &data.join("backups"), Utc::now()).await.unwrap();
    let after = committed.load(Ordering::SeqCst);
    stop.store(true, Ordering::SeqCst);
    writer.await.unwrap();
    assert!(after > before, "the writer went on while the backup ran ({before} → {after})");

    let name = made.path.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("maverick-backup-") && name.ends_with(".tar.gz"), "{name}");
    assert_eq!(made.path.parent().unwrap(), data.join("backups"));
    assert_eq!(made.manifest.schema_version, backup::latest_schema_version());
    assert_eq!(made.manifest.database, "maverick.db");
    assert_eq!(made.manifest.secret_key, "file");
    let paths: Vec<&str> = made.manifest.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, ["maverick.db", "secret.key", "uploads/contacts-1-rejected.csv"], "the live WAL files and backups/ are not archived");
    let key = made.manifest.files.iter().find(|f| f.path == "secret.key").unwrap();
    assert_eq!((key.size, key.sha256.as_str()), (SECRET.len() as u64, token_hash(SECRET).as_str()));

    // Restore into a fresh folder elsewhere.
    let target = temp_dir().join("data");
    let restored = backup::restore(&made.path, &url_in(&target), &target, false, Utc::now()).await.unwrap();
    assert_eq!(restored.previous, None);
    assert_eq!(restored.schema_version, backup::latest_schema_version());
    let copy = open(&url_in(&target)).await;
    let (count, min, max): (i64, i64, i64) =
        sqlx::query_as("SELECT COUNT(*), MIN(id), MAX(id) FROM audit_log").fetch_one(pool(&copy)).await.unwrap();
    assert!(count >= before, "every row committed before the backup started is there ({count} < {before})");
    assert!(count <= after, "no row from after the backup ended ({count} > {after})");
    assert_eq!((min, max), (1, count), "the snapshot is a prefix of the writer's rows, without gaps");
    assert_eq!(audit_rows(&copy, count).await, audit_rows(&db, count).await, "the rows are the ones written");
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(pool(&copy)).await.unwrap();
    assert_eq!(integrity, "ok");
    copy.close().await;
    assert_eq!(std::fs::read_to_string(target.join("secret.key")).unwrap(), SECRET);
    assert_eq!(std::fs::read_to_string(target.join("uploads/contacts-1-rejected.csv")).unwrap(), UPLOAD);
    assert!(!siblings(&target).iter().any(|n| n.contains("restore")), "no staging folder is left: {:?}", siblings(&target));
}

/// The archive's tar bytes with `find` replaced by `with` (same length), gzipped again.
fn tampered(archive: &Path, find: &[u8], with: &[u8], out: &Path) {
    assert_eq!(find.len(), with.len());
    let mut tar = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(archive).unwrap()).read_to_end(&mut tar).unwrap();
    let at = tar.windows(find.len()).position(|w| w == find).expect("the bytes to change are in the archive");
    tar[at..at + find.len()].copy_from_slice(with);
    let mut gz = flate2::write::GzEncoder::new(std::fs::File::create(out).unwrap(), flate2::Compression::default());
    gz.write_all(&tar).unwrap();
    gz.finish().unwrap();
}

#[tokio::test]
async fn a_changed_archive_is_refused_with_a_clear_error_and_the_target_is_left_as_it_was() {
    let root = temp_dir();
    let (db, data, url) = install(&root).await;
    let made = backup::create(&url, &data, &root.join("out"), Utc::now()).await.unwrap();
    db.close().await;
    let version = made.manifest.schema_version;
    let sha = &made.manifest.files.iter().find(|f| f.path == "secret.key").unwrap().sha256;
    let mut other_sha = sha.clone().into_bytes();
    other_sha[0] = if other_sha[0] == b'0' { b'1' } else { b'0' };

    let schema = format!("\"schema_version\": {version}");
    let bad = root.join("bad.tar.gz");
    // (what is changed, what the error must say)
    let cases: Vec<(&[u8], Vec<u8>, &str)> = vec![
        (b"MARKER-CONTENT-12345", b"MARKER-CONTENT-12346".to_vec(), "uploads/contacts-1-rejected.csv does not match its size and SHA-256"),
        (sha.as_bytes(), other_sha, "secret.key does not match its size and SHA-256"),
        (schema.as_bytes(), format!("\"schema_version\": {}", version - 1).into_bytes(), "the manifest says schema"),
        (schema.as_bytes(), format!("\"schema_version\": {}", version + 1).into_bytes(), "from a newer Maverick"),
    ];
    // An install that must survive every refused attempt, even with --force.
    let target = temp_dir().join("data");
    std::fs::create_dir_all(target.join("uploads")).unwrap();
    std::fs::write(target.join("maverick.db"), b"the current database").unwrap();
    std::fs::write(target.join("uploads/x.csv"), b"current upload").unwrap();
    let before = tree(&target);
    let around = siblings(&target);
    for (find, with, says) in cases {
        tampered(&made.path, find, &with, &bad);
        let err = backup::restore(&bad, &url_in(&target), &target, true, Utc::now()).await.unwrap_err().to_string();
        assert!(err.contains(says) && err.contains("Nothing was restored"), "{says:?} not in {err:?}");
        assert_eq!(tree(&target), before, "the target is untouched after: {err}");
        assert_eq!(siblings(&target), around, "no staging folder is left after: {err}");
    }
    // Not a gzip at all, and a missing archive.
    std::fs::write(&bad, b"not an archive").unwrap();
    let err = backup::restore(&bad, &url_in(&target), &target, true, Utc::now()).await.unwrap_err().to_string();
    assert!(err.contains("cannot be read as a .tar.gz"), "{err}");
    let err = backup::restore(&root.join("nope.tar.gz"), &url_in(&target), &target, true, Utc::now()).await.unwrap_err().to_string();
    assert!(err.contains("cannot open the archive"), "{err}");
    assert_eq!(tree(&target), before);
    assert_eq!(siblings(&target), around);

    // The untouched archive still restores over it.
    backup::restore(&made.path, &url_in(&target), &target, true, Utc::now()).await.unwrap();
    assert_eq!(std::fs::read_to_string(target.join("secret.key")).unwrap(), SECRET);
}

#[tokio::test]
async fn a_non_empty_data_folder_needs_force_and_the_old_one_is_kept_beside_it() {
    let root = temp_dir();
    let (db, data, url) = install(&root).await;
    sqlx::query("INSERT INTO audit_log (action, at) VALUES ('in the backup', '2026-01-01T00:00:00Z')").execute(pool(&db)).await.unwrap();
    let made = backup::create(&url, &data, &data.join("backups"), Utc::now()).await.unwrap();
    sqlx::query("INSERT INTO audit_log (action, at) VALUES ('after the backup', '2026-01-01T00:00:00Z')").execute(pool(&db)).await.unwrap();
    db.close().await;
    let before = tree(&data);

    let err = backup::restore(&made.path, &url, &data, false, Utc::now()).await.unwrap_err();
    assert_eq!(err.status(), 409);
    let msg = err.to_string();
    assert!(msg.contains("is not empty") && msg.contains("--force") && msg.contains("maverick.db"), "{msg}");
    assert_eq!(tree(&data), before, "refused without --force: nothing changed");

    let at = Utc.with_ymd_and_hms(2026, 12, 1, 3, 0, 0).unwrap();
    let restored = backup::restore(&made.path, &url, &data, true, at).await.unwrap();
    let kept = restored.previous.expect("the old folder is kept");
    assert_eq!(kept, root.join("data.before-restore-20261201T030000.000Z"));
    assert!(kept.join("maverick.db").exists() && kept.join("secret.key").exists());
    assert!(data.join("backups").join(made.path.file_name().unwrap()).exists(), "the backups folder moves along");
    let copy = open(&url).await;
    let actions: Vec<String> = sqlx::query_scalar("SELECT action FROM audit_log ORDER BY id").fetch_all(pool(&copy)).await.unwrap();
    assert_eq!(actions, ["in the backup"]);
    copy.close().await;

    // A folder that holds only backups/ counts as empty.
    let fresh = temp_dir().join("data");
    std::fs::create_dir_all(fresh.join("backups")).unwrap();
    std::fs::copy(&made.path, fresh.join("backups/a.tar.gz")).unwrap();
    let restored = backup::restore(&fresh.join("backups/a.tar.gz"), &url_in(&fresh), &fresh, false, Utc::now()).await.unwrap();
    assert_eq!(restored.previous, None);
    assert!(fresh.join("backups/a.tar.gz").exists() && fresh.join("maverick.db").exists());
}

#[tokio::test]
async fn a_restore_refuses_while_a_process_still_uses_the_database() {
    let root = temp_dir();
    let (db, data, url) = install(&root).await;
    // What every `server` process on this database holds while it runs (a web-only host too:
    // it writes no worker heartbeat).
    let held = backup::hold_data_folder(&data).unwrap();
    let also = backup::hold_data_folder(&data).expect("any number of processes share the folder");
    let made = backup::create(&url, &data, &data.join("backups"), Utc::now()).await.unwrap();
    assert!(!made.manifest.files.iter().any(|f| f.path == backup::LOCK_FILE), "the lock file is not archived");
    db.close().await;
    let before = tree(&data);
    let around = siblings(&data);
    let err = backup::restore(&made.path, &url, &data, true, Utc::now()).await.unwrap_err();
    assert_eq!(err.status(), 409);
    let msg = err.to_string();
    assert!(msg.contains("Stop every Maverick process") && msg.contains("server serve") && msg.contains(&data.display().to_string()), "{msg}");
    #[cfg(target_os = "linux")]
    assert!(msg.contains(&format!("process {} (", std::process::id())), "the holder is named: {msg}");
    assert_eq!(tree(&data), before, "refused: nothing changed");
    assert_eq!(siblings(&data), around, "no staging folder was made");

    drop(held);
    let err = backup::restore(&made.path, &url, &data, true, Utc::now()).await.unwrap_err().to_string();
    assert!(err.contains("Stop every Maverick process"), "one holder is enough to refuse: {err}");
    drop(also);
    let restored = backup::restore(&made.path, &url, &data, true, Utc::now()).await.unwrap();
    assert!(restored.previous.is_some());
    assert!(data.join("maverick.db").exists() && !data.join(backup::LOCK_FILE).exists(), "the restored folder starts without a lock file");
    // The next process takes its lock in the restored folder.
    let _next = backup::hold_data_folder(&data).unwrap();
    assert!(data.join(backup::LOCK_FILE).exists());
}

/// A folder holding only a lock file (a process ran there and left no database) counts as empty.
#[tokio::test]
async fn a_data_folder_with_only_its_lock_file_counts_as_empty() {
    let root = temp_dir();
    let (db, data, url) = install(&root).await;
    let made = backup::create(&url, &data, &root.join("out"), Utc::now()).await.unwrap();
    db.close().await;
    let target = temp_dir().join("data");
    drop(backup::hold_data_folder(&target).unwrap());
    let restored = backup::restore(&made.path, &url_in(&target), &target, false, Utc::now()).await.unwrap();
    assert_eq!(restored.previous, None);
    assert!(target.join("maverick.db").exists());
}

#[tokio::test]
async fn an_archive_of_an_older_schema_is_migrated_forward() {
    let root = temp_dir();
    let data = root.join("data");
    let url = url_in(&data);
    let db = Db::connect(&url, &Default::default()).await.unwrap();
    let latest = backup::latest_schema_version();
    let mut old = sqlx::migrate!("../migrations/sqlite");
    old.migrations = old.migrations.iter().filter(|m| m.version < latest).cloned().collect::<Vec<_>>().into();
    // Migration numbers may skip (a number reserved and not used): the one before the newest.
    let previous = old.migrations.iter().map(|m| m.version).max().unwrap();
    old.run(pool(&db)).await.unwrap();
    let made = backup::create(&url, &data, &root.join("out"), Utc::now()).await.unwrap();
    db.close().await;
    assert_eq!(made.manifest.schema_version, previous);
    assert_eq!(made.manifest.secret_key, "environment", "no key file: the key came from MAVERICK_SECRET_KEY");

    let target = temp_dir().join("data");
    let restored = backup::restore(&made.path, &url_in(&target), &target, false, Utc::now()).await.unwrap();
    assert_eq!((restored.manifest.schema_version, restored.schema_version), (previous, latest));
    let copy = open(&url_in(&target)).await;
    let applied: i64 = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations").fetch_one(pool(&copy)).await.unwrap();
    assert_eq!(applied, latest);
    copy.close().await;
}

#[tokio::test]
async fn pruning_keeps_exactly_the_newest_n_archives() {
    let dir = temp_dir();
    let t0 = Utc.with_ymd_and_hms(2026, 11, 20, 3, 0, 0).unwrap();
    let names: Vec<String> = (0..10).map(|d| backup::archive_name(t0 + chrono::Duration::days(d))).collect();
    // Written in a shuffled order: the time in the name decides, not the file's age.
    for i in [3, 7, 0, 9, 1, 5, 8, 2, 6, 4] {
        std::fs::write(dir.join(&names[i]), b"x").unwrap();
    }
    std::fs::write(dir.join("notes.txt"), b"mine").unwrap();
    let removed = backup::prune(&dir, 3).unwrap();
    assert_eq!(removed.len(), 7);
    let mut left: Vec<String> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    left.sort();
    assert_eq!(left, ["maverick-backup-20261127T030000.000Z.tar.gz", "maverick-backup-20261128T030000.000Z.tar.gz", "maverick-backup-20261129T030000.000Z.tar.gz", "notes.txt"]);
    assert_eq!(backup::prune(&dir, 3).unwrap(), Vec::<PathBuf>::new());
}

#[tokio::test]
async fn the_scheduled_backup_keeps_the_last_n_and_its_setting_is_checked() {
    let root = temp_dir();
    let (db, data, url) = install(&root).await;
    // Three archives from earlier days; with keep = 2 a scheduled run leaves its own archive and
    // the newest of these.
    let backups = data.join("backups");
    std::fs::create_dir_all(&backups).unwrap();
    let t0 = Utc.with_ymd_and_hms(2026, 11, 1, 2, 0, 0).unwrap();
    let old: Vec<String> = (0..3).map(|d| backup::archive_name(t0 + chrono::Duration::days(d))).collect();
    for name in &old {
        std::fs::write(backups.join(name), b"older").unwrap();
    }
    let mut config = Config::with_database(&url, data.clone());
    config.backup.keep = 2;
    let (made, removed) = backup::scheduled(&config, Utc::now()).await.unwrap();
    assert_eq!(removed, [backups.join(&old[0]), backups.join(&old[1])]);
    let mut left: Vec<String> = std::fs::read_dir(&backups).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    left.sort();
    assert_eq!(left, [old[2].clone(), made.path.file_name().unwrap().to_string_lossy().into_owned()]);
    // The scheduled archive is a real one: it restores.
    let target = temp_dir().join("data");
    backup::restore(&made.path, &url_in(&target), &target, false, Utc::now()).await.unwrap();
    assert_eq!(std::fs::read_to_string(target.join("secret.key")).unwrap(), SECRET);

    // The worker registers the schedule only when it is set, and names a bad setting.
    let state = |cron: Option<&str>| {
        let mut config = Config::with_database(&url, data.clone());
        config.backup.cron = cron.map(str::to_owned);
        backend::AppState {
            db: db.clone(),
            config: Arc::new(config),
            secrets: backend::platform::crypto::SecretBox::from_passphrase(SECRET).unwrap(),
            places: Default::default(),
            events: Default::default(),
        }
    };
    let workers = |s: &backend::AppState| backend::platform::jobs::Workers::new(s, "t", Duration::from_millis(100));
    assert!(backup::register_jobs(workers(&state(None))).is_ok());
    assert!(backup::register_jobs(workers(&state(Some("0 0 2 * * *")))).is_ok());
    let err = backup::register_jobs(workers(&state(Some("nightly")))).err().expect("a bad cron is refused").to_string();
    assert!(err.contains("MAVERICK_BACKUP_CRON"), "{err}");
    db.close().await;
}

#[tokio::test]
async fn postgres_installs_are_told_to_use_pg_dump_and_keep_the_key() {
    for url in ["postgres://maverick@db/maverick", "postgresql://db/maverick"] {
        let err = backup::sqlite_path(url).unwrap_err().to_string();
        assert!(err.contains("pg_dump") && err.contains("pg_restore") && err.contains("MAVERICK_SECRET_KEY"), "{err}");
    }
}

