//! Backups of a SQLite install, taken while it runs, and their restore.
//!
//! An archive (`maverick-backup-<UTC time>.tar.gz`) holds `data/…`: a consistent snapshot of the
//! database made by SQLite's `VACUUM INTO` (a read transaction: writers go on meanwhile, and the
//! snapshot never sees half of one), every other file of the data folder (the generated
//! `secret.key`, stored uploads) — and, last, `manifest.json` with the time, the schema version
//! (the newest applied migration) and each file's size and SHA-256.
//!
//! A restore unpacks into a fresh folder beside the data folder, checks every file against the
//! manifest and the manifest against the database, runs the integrity check and the migrations
//! there, and only then renames it into place: the data folder is never half-written.
//!
//! Every process that opens the embedded database holds a shared OS lock on
//! `<data dir>/maverick.lock` ([`hold_data_folder`]) for as long as it runs; a restore takes the
//! exclusive lock, so it never replaces the folder under a server, a worker or a command.
//! PostgreSQL installs use `pg_dump`/`pg_restore` instead ([`POSTGRES_ADVICE`]).

use std::{
    collections::BTreeMap,
    fs::File,
    io::{BufWriter, Read, Write},
    path::{Component, Path, PathBuf},
    str::FromStr,
};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::sqlite::SqliteConnectOptions;

use crate::platform::{
    db::Db,
    error::{Error, Result},
};

/// What a PostgreSQL install is told by `server backup` (and the README says).
pub const POSTGRES_ADVICE: &str = "This install keeps its data in PostgreSQL: `server backup` only archives the embedded SQLite database. \
Back up PostgreSQL with its own tools, e.g. `pg_dump --format=custom --file=maverick.dump \"$DATABASE_URL\"` \
(restore with `pg_restore --clean --if-exists --dbname=\"$DATABASE_URL\" maverick.dump`), and keep beside it the secret key \
(MAVERICK_SECRET_KEY, or the file <data dir>/secret.key) — without it the stored API keys cannot be read — \
and the data folder's uploads/ (copy it with rsync or tar).";

/// The archive layout version this build writes and reads.
pub const FORMAT: u32 = 1;
const PREFIX: &str = "maverick-backup-";
const SUFFIX: &str = ".tar.gz";
const MANIFEST: &str = "manifest.json";
/// The folder of the data folder that backups go to by default; it is not itself backed up.
pub const DEFAULT_DIR: &str = "backups";
/// The file of the data folder whose OS lock says who uses it (neither archived nor restored).
pub const LOCK_FILE: &str = "maverick.lock";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Relative to the data folder, with `/`.
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub created_at: DateTime<Utc>,
    /// The newest migration applied to the snapshot (`_sqlx_migrations.version`).
    pub schema_version: i64,
    /// Which entry of `files` is the database.
    pub database: String,
    /// `file` when the archive holds `secret.key`; `environment` when MAVERICK_SECRET_KEY was set
    /// (then the archive holds no key and the same value must be set again).
    pub secret_key: String,
    pub files: Vec<FileEntry>,
}

#[derive(Debug)]
pub struct Backup {
    pub path: PathBuf,
    pub manifest: Manifest,
}

#[derive(Debug)]
pub struct Restored {
    pub manifest: Manifest,
    /// The schema after the forward migrations.
    pub schema_version: i64,
    /// Where the replaced data folder was kept (with `--force` over a non-empty one).
    pub previous: Option<PathBuf>,
}

/// The newest migration this build knows.
pub fn latest_schema_version() -> i64 {
    sqlx::migrate!("../migrations/sqlite").migrations.iter().map(|m| m.version).max().unwrap_or(0)
}

/// The SQLite file of `database_url`, or the PostgreSQL advice.
pub fn sqlite_path(database_url: &str) -> Result<PathBuf> {
    if database_url.starts_with("postgres:") || database_url.starts_with("postgresql:") {
        return Err(Error::invalid(POSTGRES_ADVICE));
    }
    let opts = SqliteConnectOptions::from_str(database_url)
        .map_err(|e| Error::invalid(format!("DATABASE_URL is not a valid SQLite URL: {e}")))?;
    let path = opts.get_filename();
    if path.as_os_str().is_empty() || path.to_string_lossy().contains(":memory:") {
        return Err(Error::invalid("DATABASE_URL names an in-memory SQLite database: there is nothing to back up."));
    }
    absolute(path)
}

fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).map_err(|e| Error::Internal(format!("cannot resolve {}: {e}", path.display())))
}

fn io(what: impl std::fmt::Display) -> impl FnOnce(std::io::Error) -> Error {
    move |e| Error::Internal(format!("{what}: {e}"))
}

/// `a/b/c` for a path relative to the data folder; `None` when it is outside.
fn relative(path: &Path, data_dir: &Path) -> Option<String> {
    let rel = path.strip_prefix(data_dir).ok()?;
    let parts: Vec<&str> = rel.components().map(|c| if let Component::Normal(s) = c { s.to_str() } else { None }).collect::<Option<_>>()?;
    (!parts.is_empty()).then(|| parts.join("/"))
}

pub fn archive_name(at: DateTime<Utc>) -> String {
    format!("{PREFIX}{}{SUFFIX}", at.format("%Y%m%dT%H%M%S%.3fZ"))
}

/// Writes a backup archive of a running SQLite install into `to` (created if missing).
pub async fn create(database_url: &str, data_dir: &Path, to: &Path, now: DateTime<Utc>) -> Result<Backup> {
    use sqlx::Connection;
    let db_path = sqlite_path(database_url)?;
    if !db_path.is_file() {
        return Err(Error::invalid(format!("There is no database at {} to back up (check DATABASE_URL and MAVERICK_DATA_DIR).", db_path.display())));
    }
    let (data_dir, to) = (absolute(data_dir)?, absolute(to)?);
    std::fs::create_dir_all(&to).map_err(io(format!("cannot create the backup folder {}", to.display())))?;
    private(&to, 0o700);
    let name = archive_name(now);
    let snapshot = to.join(format!(".{name}.db.partial"));
    let _ = std::fs::remove_file(&snapshot);
    // The consistent snapshot: VACUUM INTO reads in one transaction; concurrent writers go on.
    // On a connection of its own, so a long snapshot holds none of the pool's connections.
    let opts = SqliteConnectOptions::new().filename(&db_path).busy_timeout(std::time::Duration::from_secs(30));
    let mut conn = sqlx::SqliteConnection::connect_with(&opts)
        .await
        .map_err(|e| Error::Internal(format!("cannot open the database {}: {e}", db_path.display())))?;
    let made = sqlx::query("VACUUM INTO ?").bind(snapshot.to_string_lossy().into_owned()).execute(&mut conn).await;
    conn.close().await.ok();
    private(&snapshot, 0o600);
    let result = match made {
        Ok(_) => {
            let (snapshot, to, name) = (snapshot.clone(), to.clone(), name.clone());
            let schema_version = snapshot_schema(&snapshot).await;
            match schema_version {
                Ok(v) => tokio::task::spawn_blocking(move || write_archive(&snapshot, &db_path, &data_dir, &to, &name, v, now))
                    .await
                    .map_err(|e| Error::Internal(format!("backup task failed: {e}")))?,
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(Error::Internal(format!("cannot snapshot the database into {}: {e}", to.display()))),
    };
    let _ = std::fs::remove_file(&snapshot);
    result
}

async fn snapshot_schema(snapshot: &Path) -> Result<i64> {
    use sqlx::Connection;
    let opts = SqliteConnectOptions::new().filename(snapshot).read_only(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&opts).await?;
    let version = schema_version(&mut conn).await;
    conn.close().await.ok();
    version
}

async fn schema_version(conn: &mut sqlx::SqliteConnection) -> Result<i64> {
    let v: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
        .fetch_one(&mut *conn)
        .await
        .map_err(|e| Error::invalid(format!("the database has no migration history ({e})")))?;
    v.ok_or_else(|| Error::invalid("the database has no applied migration"))
}

/// Files of the data folder to archive: everything but the live database (and its journal
/// files) and backup folders. Sorted, so archives list them in a stable order.
fn data_files(data_dir: &Path, db_path: &Path, to: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut skip: Vec<PathBuf> = ["", "-wal", "-shm", "-journal"]
        .iter()
        .map(|s| PathBuf::from(format!("{}{s}", db_path.display())))
        .collect();
    skip.push(to.to_owned());
    skip.push(data_dir.join(DEFAULT_DIR));
    skip.push(data_dir.join(LOCK_FILE));
    let mut out = Vec::new();
    let mut stack = vec![data_dir.to_owned()];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(io(format!("cannot read {}", dir.display()))(e)),
        };
        for entry in entries {
            let entry = entry.map_err(io(format!("cannot read {}", dir.display())))?;
            let path = entry.path();
            if skip.contains(&path) {
                continue;
            }
            let kind = entry.file_type().map_err(io(format!("cannot read {}", path.display())))?;
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() {
                if let Some(rel) = relative(&path, data_dir) {
                    out.push((rel, path));
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Reads `size` bytes of `reader` into `out`, hashing them; fails if fewer came.
struct Hashing<R> {
    inner: R,
    hash: Sha256,
    read: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        self.read += n as u64;
        Ok(n)
    }
}

fn append(tar: &mut tar::Builder<impl Write>, name: &str, source: &Path, now: DateTime<Utc>) -> Result<FileEntry> {
    let file = File::open(source).map_err(io(format!("cannot read {}", source.display())))?;
    let size = file.metadata().map_err(io(format!("cannot read {}", source.display())))?.len();
    let mut header = tar::Header::new_gnu();
    header.set_size(size);
    header.set_mode(0o600);
    header.set_mtime(now.timestamp().max(0) as u64);
    header.set_entry_type(tar::EntryType::Regular);
    // A file still growing is archived as it was when listed (its size then).
    let mut reader = Hashing { inner: file.take(size), hash: Sha256::new(), read: 0 };
    tar.append_data(&mut header, format!("data/{name}"), &mut reader)
        .map_err(io(format!("cannot archive {}", source.display())))?;
    if reader.read != size {
        return Err(Error::Internal(format!("{} shrank while it was archived; run the backup again", source.display())));
    }
    Ok(FileEntry { path: name.to_owned(), size, sha256: hex::encode(reader.hash.finalize()) })
}

fn write_archive(snapshot: &Path, db_path: &Path, data_dir: &Path, to: &Path, name: &str, schema_version: i64, now: DateTime<Utc>) -> Result<Backup> {
    let database = relative(db_path, data_dir)
        .unwrap_or_else(|| db_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "maverick.db".into()));
    let files = data_files(data_dir, db_path, to)?;
    let partial = to.join(format!(".{name}.partial"));
    let out = private_file(File::options().write(true).create_new(true), &partial)?;
    let written = (|| {
        let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(BufWriter::new(out), flate2::Compression::default()));
        let mut entries = vec![append(&mut tar, &database, snapshot, now)?];
        for (rel, path) in &files {
            if *rel != database {
                entries.push(append(&mut tar, rel, path, now)?);
            }
        }
        let secret_key = if entries.iter().any(|e| e.path == "secret.key") { "file" } else { "environment" };
        let manifest = Manifest { format: FORMAT, created_at: now, schema_version, database: database.clone(), secret_key: secret_key.into(), files: entries };
        let json = serde_json::to_vec_pretty(&manifest).map_err(|e| Error::Internal(format!("manifest: {e}")))?;
        let mut header = tar::Header::new_gnu();
        header.set_size(json.len() as u64);
        header.set_mode(0o600);
        header.set_mtime(now.timestamp().max(0) as u64);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, MANIFEST, json.as_slice()).map_err(io("cannot write the manifest"))?;
        let gz = tar.into_inner().map_err(io("cannot finish the archive"))?;
        let file = gz.finish().map_err(io("cannot finish the archive"))?.into_inner().map_err(|e| io("cannot finish the archive")(e.into_error()))?;
        file.sync_all().map_err(io("cannot flush the archive"))?;
        Ok(manifest)
    })();
    let manifest = match written {
        Ok(m) => m,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    // Only a complete archive gets its real name (pruning and restores never see a partial one).
    let path = to.join(name);
    std::fs::rename(&partial, &path).map_err(io(format!("cannot name the archive {}", path.display())))?;
    Ok(Backup { path, manifest })
}

/// Keeps the newest `keep` archives in `dir` (by the time in their names), removes the others.
/// Returns the removed ones.
pub fn prune(dir: &Path, keep: usize) -> Result<Vec<PathBuf>> {
    let mut archives: Vec<String> = std::fs::read_dir(dir)
        .map_err(io(format!("cannot read {}", dir.display())))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(PREFIX) && n.ends_with(SUFFIX))
        .collect();
    archives.sort();
    let excess = archives.len().saturating_sub(keep.max(1));
    let mut removed = Vec::new();
    for name in archives.into_iter().take(excess) {
        let path = dir.join(name);
        std::fs::remove_file(&path).map_err(io(format!("cannot remove {}", path.display())))?;
        removed.push(path);
    }
    Ok(removed)
}

/// A folder that is removed when dropped, unless kept.
struct Staging(Option<PathBuf>);

impl Drop for Staging {
    fn drop(&mut self) {
        if let Some(dir) = self.0.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn damaged(what: impl std::fmt::Display) -> Error {
    Error::invalid(format!("The archive is damaged or was changed: {what}. Nothing was restored."))
}

/// Entries of the data folder other than its backups folder and lock file.
fn occupied(data_dir: &Path) -> Result<Vec<String>> {
    match std::fs::read_dir(data_dir) {
        Ok(entries) => Ok(entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n != DEFAULT_DIR && n != LOCK_FILE)
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(io(format!("cannot read {}", data_dir.display()))(e)),
    }
}

/// Restores `archive` as the data folder of a stopped install (`database_url` must name a SQLite
/// file inside `data_dir`). Refuses a non-empty data folder unless `force`; then the old folder is
/// kept beside it as `<name>.before-restore-<time>`.
pub async fn restore(archive: &Path, database_url: &str, data_dir: &Path, force: bool, now: DateTime<Utc>) -> Result<Restored> {
    let db_path = sqlite_path(database_url)?;
    let data_dir = absolute(data_dir)?;
    let db_rel = relative(&db_path, &data_dir).ok_or_else(|| {
        Error::invalid(format!(
            "The database {} is outside the data folder {}: a restore replaces the data folder as a whole. \
             Restore with DATABASE_URL unset (the database then lives in the data folder), or move the database into it.",
            db_path.display(),
            data_dir.display()
        ))
    })?;
    let present = occupied(&data_dir)?;
    if !present.is_empty() && !force {
        return Err(Error::Conflict(format!(
            "The data folder {} is not empty ({}). Stop the server, then run `server restore` again with --force to replace it \
             (the current folder is kept beside it as {}.before-restore-<time>).",
            data_dir.display(),
            present.join(", "),
            data_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
        )));
    }
    // Held until the restored folder is in place; the OS releases it if this process dies.
    let _exclusive = lock_exclusive(&data_dir)?;
    let (parent, dir_name) = match (data_dir.parent(), data_dir.file_name()) {
        (Some(p), Some(n)) => (p.to_owned(), n.to_string_lossy().into_owned()),
        _ => return Err(Error::invalid(format!("cannot restore into {}: give a data folder below another folder", data_dir.display()))),
    };
    std::fs::create_dir_all(&parent).map_err(io(format!("cannot create {}", parent.display())))?;
    let stamp = now.format("%Y%m%dT%H%M%S%.3fZ").to_string();
    let staging_dir = parent.join(format!(".{dir_name}.restore-{stamp}"));
    std::fs::create_dir(&staging_dir).map_err(io(format!("cannot create {}", staging_dir.display())))?;
    private(&staging_dir, 0o700);
    let mut staging = Staging(Some(staging_dir.clone()));

    // Unpack and check every file against the manifest.
    let manifest = {
        let (archive, staging_dir, db_rel) = (archive.to_owned(), staging_dir.clone(), db_rel.clone());
        tokio::task::spawn_blocking(move || unpack(&archive, &staging_dir, &db_rel))
            .await
            .map_err(|e| Error::Internal(format!("restore task failed: {e}")))??
    };
    let known = latest_schema_version();
    if manifest.schema_version > known {
        return Err(Error::invalid(format!(
            "This archive is from a newer Maverick (schema {}, this build knows up to {known}): restore it with that version or a newer one. Nothing was restored.",
            manifest.schema_version
        )));
    }
    // The database itself: intact, of the schema the manifest says, then migrated forward.
    let staged_db = staging_dir.join(&db_rel);
    let url = format!("sqlite://{}", staged_db.display());
    let db = Db::connect(&url, &Default::default()).await?;
    let checked = async {
        let Db::Sqlite(pool) = &db else { unreachable!("a sqlite URL") };
        let mut conn = pool.acquire().await?;
        let integrity: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&mut *conn).await?;
        if integrity != "ok" {
            return Err(damaged(format!("the database fails SQLite's integrity check ({integrity})")));
        }
        let version = schema_version(&mut conn).await.map_err(damaged)?;
        if version != manifest.schema_version {
            return Err(damaged(format!("the manifest says schema {}, the database is at {version}", manifest.schema_version)));
        }
        drop(conn);
        crate::platform::migrate::run(&db).await?;
        let mut conn = pool.acquire().await?;
        schema_version(&mut conn).await
    }
    .await;
    db.close().await;
    let schema_version = checked?;

    // Into place: the backups folder moves along, the old folder is kept, then one rename.
    let previous = if data_dir.exists() {
        let backups = data_dir.join(DEFAULT_DIR);
        if backups.is_dir() {
            std::fs::rename(&backups, staging_dir.join(DEFAULT_DIR)).map_err(io(format!("cannot move {}", backups.display())))?;
        }
        if present.is_empty() {
            let _ = std::fs::remove_file(data_dir.join(LOCK_FILE));
            std::fs::remove_dir(&data_dir).map_err(io(format!("cannot replace {}", data_dir.display())))?;
            None
        } else {
            let kept = parent.join(format!("{dir_name}.before-restore-{stamp}"));
            std::fs::rename(&data_dir, &kept).map_err(io(format!("cannot move {} aside", data_dir.display())))?;
            Some(kept)
        }
    } else {
        None
    };
    if let Err(e) = std::fs::rename(&staging_dir, &data_dir) {
        // Put everything back as it was.
        if let Some(kept) = &previous {
            let _ = std::fs::rename(kept, &data_dir);
        } else {
            let _ = std::fs::create_dir(&data_dir);
        }
        let _ = std::fs::rename(staging_dir.join(DEFAULT_DIR), data_dir.join(DEFAULT_DIR));
        return Err(io(format!("cannot move the restored folder to {}", data_dir.display()))(e));
    }
    staging.0 = None;
    Ok(Restored { manifest, schema_version, previous })
}

/// A process's hold on the data folder: a shared OS lock on its [`LOCK_FILE`], released when
/// dropped or when the process ends (even by `kill -9`).
#[derive(Debug)]
pub struct DataFolderLock {
    _file: File,
}

/// Takes the shared lock every process that opens the data folder's SQLite database holds while it
/// runs (any number of them at once). Fails while a restore replaces the folder.
pub fn hold_data_folder(data_dir: &Path) -> Result<DataFolderLock> {
    std::fs::create_dir_all(data_dir).map_err(io(format!("cannot create the data folder {}", data_dir.display())))?;
    let path = data_dir.join(LOCK_FILE);
    for _ in 0..5 {
        let file = open_lock_file(&path)?;
        match file.try_lock_shared() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Error::Conflict(format!(
                    "A restore is replacing the data folder {}: start again once it has finished.",
                    data_dir.display()
                )))
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(format!("cannot lock {}", path.display()))(e)),
        }
        // A restore that finished between the open and the lock moved this file away with the old
        // folder: lock the new folder's file instead.
        if still_at(&file, &path) {
            return Ok(DataFolderLock { _file: file });
        }
    }
    Err(Error::Conflict(format!("The data folder {} keeps being replaced; start again once the restore has finished.", data_dir.display())))
}

fn open_lock_file(path: &Path) -> Result<File> {
    File::options().read(true).write(true).create(true).truncate(false).open(path).map_err(io(format!("cannot open {}", path.display())))
}

#[cfg(unix)]
fn still_at(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
        _ => false,
    }
}

#[cfg(not(unix))]
fn still_at(_file: &File, path: &Path) -> bool {
    path.exists()
}

/// The restore's exclusive lock on a data folder; a lock file it had to create goes again when it
/// is dropped (unless it moved away with the replaced folder), so a refused restore leaves the
/// folder as it was.
struct Exclusive {
    file: File,
    path: PathBuf,
    created: bool,
}

impl Drop for Exclusive {
    fn drop(&mut self) {
        // A process that opened it meanwhile sees it gone after locking it, and opens a new one.
        if self.created && still_at(&self.file, &self.path) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Taken on an existing data folder; refused while any process holds the shared lock (a web
/// host, a worker, a command), naming them where the OS says who they are.
fn lock_exclusive(data_dir: &Path) -> Result<Option<Exclusive>> {
    if !data_dir.is_dir() {
        return Ok(None);
    }
    let path = data_dir.join(LOCK_FILE);
    let created = !path.exists();
    let file = open_lock_file(&path)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(Exclusive { file, path, created })),
        Err(std::fs::TryLockError::WouldBlock) => {
            let holders = lock_holders(&file);
            let who = if holders.is_empty() { "A Maverick process".to_owned() } else { holders.join(", ") };
            Err(Error::Conflict(format!(
                "{who} is using the data folder {} (it holds {}). Stop every Maverick process that uses it — the web server \
                 (`server serve`, also with MAVERICK_WORKERS=0), `server worker`, or a command still running such as a backup — \
                 then run the restore again.",
                data_dir.display(),
                path.display()
            )))
        }
        Err(std::fs::TryLockError::Error(e)) => Err(io(format!("cannot lock {}", path.display()))(e)),
    }
}

/// `process 123 (server serve)` for each process holding a lock on `file`, from /proc/locks (Linux;
/// elsewhere, and for processes this one cannot see, nothing).
#[cfg(target_os = "linux")]
fn lock_holders(file: &File) -> Vec<String> {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = file.metadata() else { return Vec::new() };
    let dev = meta.dev();
    // glibc's gnu_dev_major / gnu_dev_minor; /proc/locks writes `major:minor:inode` in hex, hex, decimal.
    let (major, minor) = (((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff), (dev & 0xff) | ((dev >> 12) & !0xff));
    let id = format!("{major:02x}:{minor:02x}:{}", meta.ino());
    let Ok(locks) = std::fs::read_to_string("/proc/locks") else { return Vec::new() };
    let mut pids: Vec<u32> = locks
        .lines()
        .filter(|l| !l.contains("->"))
        .filter_map(|l| {
            let fields: Vec<&str> = l.split_whitespace().collect();
            (fields.get(1) == Some(&"FLOCK") && fields.get(5) == Some(&id.as_str())).then(|| fields.get(4)?.parse().ok()).flatten()
        })
        .collect();
    pids.sort_unstable();
    pids.dedup();
    pids.into_iter()
        .map(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let args: Vec<String> = cmdline
                .split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .enumerate()
                .map(|(i, a)| {
                    let a = String::from_utf8_lossy(a).into_owned();
                    // The program by its name, not its path.
                    if i == 0 { Path::new(&a).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or(a) } else { a }
                })
                .collect();
            if args.is_empty() { format!("process {pid}") } else { format!("process {pid} ({})", args.join(" ")) }
        })
        .collect()
}

#[cfg(not(target_os = "linux"))]
fn lock_holders(_file: &File) -> Vec<String> {
    Vec::new()
}

/// Unpacks `data/…` into `staging` (the database to `db_rel`) and checks the manifest.
fn unpack(archive: &Path, staging: &Path, db_rel: &str) -> Result<Manifest> {
    let file = File::open(archive).map_err(|e| Error::invalid(format!("cannot open the archive {}: {e}", archive.display())))?;
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(std::io::BufReader::new(file)));
    let mut found: BTreeMap<String, (u64, String)> = BTreeMap::new();
    let mut manifest_json: Option<Vec<u8>> = None;
    let broken = |e: std::io::Error| damaged(format!("it cannot be read as a .tar.gz ({e})"));
    for entry in tar.entries().map_err(broken)? {
        let mut entry = entry.map_err(broken)?;
        let name = entry.path().map_err(broken)?.to_string_lossy().into_owned();
        match entry.header().entry_type() {
            tar::EntryType::Regular => {}
            tar::EntryType::Directory => continue,
            other => return Err(damaged(format!("{name} is a {other:?}, not a file"))),
        }
        if name == MANIFEST {
            let mut buf = Vec::new();
            entry.by_ref().take(16 << 20).read_to_end(&mut buf).map_err(broken)?;
            manifest_json = Some(buf);
            continue;
        }
        let rel = name
            .strip_prefix("data/")
            .filter(|r| !r.is_empty() && r.split('/').all(|p| !p.is_empty() && p != "." && p != ".."))
            .ok_or_else(|| damaged(format!("unexpected entry {name:?}")))?
            .to_owned();
        if found.contains_key(&rel) {
            return Err(damaged(format!("{rel} appears twice")));
        }
        let target = staging.join(&rel);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).map_err(io(format!("cannot create {}", dir.display())))?;
        }
        let mut out = private_file(File::options().write(true).create(true).truncate(true), &target)?;
        let mut reader = Hashing { inner: &mut entry, hash: Sha256::new(), read: 0 };
        std::io::copy(&mut reader, &mut out).map_err(broken)?;
        out.sync_all().map_err(io(format!("cannot write {}", target.display())))?;
        found.insert(rel, (reader.read, hex::encode(reader.hash.finalize())));
    }
    let json = manifest_json.ok_or_else(|| damaged("it has no manifest.json (is it a Maverick backup?)"))?;
    let manifest: Manifest = serde_json::from_slice(&json).map_err(|e| damaged(format!("manifest.json cannot be read ({e})")))?;
    if manifest.format != FORMAT {
        return Err(Error::invalid(format!("This archive has layout {}; this build reads layout {FORMAT}. Nothing was restored.", manifest.format)));
    }
    for f in &manifest.files {
        match found.remove(&f.path) {
            None => return Err(damaged(format!("{} is listed in the manifest but missing", f.path))),
            Some((size, sha)) if size != f.size || sha != f.sha256 => {
                return Err(damaged(format!("{} does not match its size and SHA-256 in the manifest", f.path)))
            }
            Some(_) => {}
        }
    }
    if let Some(extra) = found.keys().next() {
        return Err(damaged(format!("{extra} is not listed in the manifest")));
    }
    if !manifest.files.iter().any(|f| f.path == manifest.database) {
        return Err(damaged(format!("the database {} named by the manifest is not in it", manifest.database)));
    }
    // The database goes where this install's DATABASE_URL expects it.
    if manifest.database != db_rel {
        let to = staging.join(db_rel);
        if to.exists() {
            return Err(Error::invalid(format!("the archive holds a file at {db_rel}, where this install keeps its database")));
        }
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir).map_err(io(format!("cannot create {}", dir.display())))?;
        }
        std::fs::rename(staging.join(&manifest.database), &to).map_err(io("cannot place the database"))?;
    }
    Ok(manifest)
}

/// The scheduled backup (`MAVERICK_BACKUP_CRON`), run by the worker; keeps the newest
/// `MAVERICK_BACKUP_KEEP` archives.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct BackupJob {}

crate::job_queue!(BackupQueue, BackupJob, "platform.backup", 2);

/// Where backups go: `MAVERICK_BACKUP_DIR`, or `<data dir>/backups`.
pub fn backup_dir(config: &crate::platform::config::Config) -> PathBuf {
    config.backup.dir.clone().unwrap_or_else(|| config.data_dir.join(DEFAULT_DIR))
}

/// What the scheduled job does: one archive into [`backup_dir`], then keep the newest N.
/// Returns the archive and the removed ones.
pub async fn scheduled(config: &crate::platform::config::Config, now: DateTime<Utc>) -> Result<(Backup, Vec<PathBuf>)> {
    let dir = backup_dir(config);
    let made = create(&config.database_url, &config.data_dir, &dir, now).await?;
    let removed = prune(&dir, config.backup.keep)?;
    Ok((made, removed))
}

async fn run_backup(_job: BackupJob, state: apalis::prelude::Data<crate::AppState>) -> std::result::Result<(), apalis::prelude::BoxDynError> {
    let (made, removed) = scheduled(&state.config, Utc::now()).await?;
    let bytes = std::fs::metadata(&made.path).map(|m| m.len()).unwrap_or(0);
    tracing::info!(archive = %made.path.display(), bytes, removed = removed.len(), "scheduled backup written");
    Ok(())
}

async fn on_backup_tick(tick: apalis_cron::Tick, queue: apalis::prelude::Data<BackupQueue>) -> std::result::Result<(), apalis::prelude::BoxDynError> {
    queue.push(BackupJob {}, Some(format!("backup:{}", tick.get_timestamp()))).await?;
    Ok(())
}

/// The backup worker and its schedule, when `MAVERICK_BACKUP_CRON` is set (SQLite only).
pub fn register_jobs(workers: crate::platform::jobs::Workers) -> Result<crate::platform::jobs::Workers> {
    let Some(cron) = workers.state.config.backup.cron.clone() else { return Ok(workers) };
    let schedule = crate::platform::jobs::Workers::schedule("MAVERICK_BACKUP_CRON", &cron)?;
    if workers.state.db.backend() != crate::platform::db::Backend::Sqlite {
        tracing::warn!("MAVERICK_BACKUP_CRON is set but the database is PostgreSQL: no scheduled backup (use pg_dump)");
        return Ok(workers);
    }
    let queue = BackupQueue::new(&workers.state.db);
    let workers = crate::register_worker!(workers, BackupQueue, "backup", 1, run_backup);
    Ok(crate::register_schedule!(workers, "backup-cron", schedule, queue, on_backup_tick))
}

/// An archive holds the database with the key that opens its secrets: only the owner may read
/// it (or what a restore writes), as `secret.key` itself is written 0600.
fn private_file(options: &mut std::fs::OpenOptions, path: &Path) -> Result<File> {
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(options, 0o600);
    options.open(path).map_err(io(format!("cannot write {}", path.display())))
}

/// Narrows a folder's or file's permissions (unix); best effort, the contents are what matter.
fn private(path: &Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode));
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
}
