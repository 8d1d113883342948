//! Files under `<data dir>/uploads` that no record points to: what a request that died between
//! staging a file and recording it leaves behind. A sweep removes them once they are old enough
//! that no request can still be about to record them. It knows every table that names an upload
//! file, which is why it lives in the composition root.

use std::{path::Path, time::Duration};

use chrono::Utc;

use crate::{
    on_db,
    platform::{
        db::Db,
        error::{Error, Result},
    },
};

/// Every stored path a record points to (staged files and rejected-row files).
async fn referenced(db: &Db) -> Result<std::collections::HashSet<String>> {
    let paths: Vec<Option<String>> = on_db!(db, |pool| sqlx::query_scalar(
        "SELECT staged_path FROM contact_uploads UNION ALL SELECT rejected_path FROM contact_uploads \
         UNION ALL SELECT staged_path FROM personalization_runs UNION ALL SELECT rejected_path FROM personalization_runs"
    )
    .fetch_all(pool)
    .await)?;
    Ok(paths.into_iter().flatten().collect())
}

/// Removes the files in `<data_dir>/uploads` older than `older_than` that no record names.
/// Returns how many were removed.
pub async fn sweep_orphans(db: &Db, data_dir: &Path, older_than: Duration) -> Result<usize> {
    let dir = data_dir.join("uploads");
    let Ok(entries) = std::fs::read_dir(&dir) else { return Ok(0) };
    let keep = referenced(db).await?;
    let cutoff = std::time::SystemTime::now() - older_than;
    let mut removed = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = entry.metadata() else { continue };
        let old = meta.modified().map(|m| m < cutoff).unwrap_or(false);
        if !meta.is_file() || !old || keep.contains(&path.display().to_string()) {
            continue;
        }
        std::fs::remove_file(&path).map_err(|e| Error::Internal(format!("removing {}: {e}", path.display())))?;
        removed += 1;
    }
    Ok(removed)
}

/// Runs [`sweep_orphans`] every `every` (files older than a day), until the process ends.
pub async fn run_sweeper(db: Db, data_dir: std::path::PathBuf, every: Duration) {
    loop {
        match sweep_orphans(&db, &data_dir, Duration::from_secs(24 * 3600)).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(removed = n, at = %Utc::now(), "orphaned upload files removed"),
            Err(e) => tracing::warn!(error = %e, "sweeping orphaned uploads failed"),
        }
        tokio::time::sleep(every).await;
    }
}
