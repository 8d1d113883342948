//! File uploads posted by plain HTML forms (they work before and without the WASM). Each reads the
//! multipart body within its own size limit, hands the bytes to the core, and redirects back to
//! the page with the recorded outcome.

use axum::{
    extract::{Multipart, State},
    response::{IntoResponse, Redirect, Response},
};

use crate::{session_layer::Caller, HostState};

/// Each upload reads its multipart body within its own, larger limit (the global one does not apply).
pub fn routes(config: &backend::platform::config::Config) -> crate::routes::HostRoutes {
    crate::routes::HostRoutes::new()
        .post_with_limit("/admin/zips/import", zip_import, Some(config.zip_upload_max_bytes))
        .post_with_limit("/admin/contacts/upload", contacts_upload, Some(config.contacts_upload_max_bytes + 64 * 1024))
        .post_with_limit("/admin/prospects/upload", prospects_upload, Some(config.contacts_upload_max_bytes + 64 * 1024))
        .post_with_limit("/personalization/{campaign}/runs", personalization_upload, Some(config.personalization.upload_max_bytes + 64 * 1024))
}

/// The parts of an upload form: the file (name and bytes) and the other fields.
struct UploadForm {
    file_name: String,
    bytes: Option<Vec<u8>>,
    fields: Vec<(String, String)>,
}

impl UploadForm {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
    }
}

/// Reads every part; an over-limit or broken body becomes a message for the user.
async fn read_form(mut multipart: Multipart, limit: usize) -> Result<UploadForm, String> {
    let too_big = || format!("The file is larger than {} MB; split it into smaller files.", limit / (1024 * 1024));
    let mut form = UploadForm { file_name: "upload.csv".into(), bytes: None, fields: Vec::new() };
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => return Err(too_big()),
            Err(e) => return Err(format!("The upload could not be read ({}); try again.", e.body_text())),
        };
        let name = field.name().unwrap_or_default().to_owned();
        if let Some(file_name) = field.file_name() {
            form.file_name = file_name.to_owned();
        }
        let is_file = field.file_name().is_some();
        let data = match field.bytes().await {
            Ok(d) => d,
            Err(e) if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE => return Err(too_big()),
            Err(e) => return Err(format!("The upload could not be read ({}); try again.", e.body_text())),
        };
        if is_file {
            form.bytes = Some(data.to_vec());
        } else {
            form.fields.push((name, String::from_utf8_lossy(&data).into_owned()));
        }
    }
    Ok(form)
}

/// `POST /admin/zips/import`: a CSV of ZIP assignments (see `backend::zips::import_csv`).
pub async fn zip_import(State(state): State<HostState>, Caller(caller): Caller, multipart: Multipart) -> Response {
    let app = &state.app;
    if let Err(e) = backend::tenancy::access::require_admin(&caller) {
        return crate::exports::error_response(e);
    }
    let outcome = match read_form(multipart, app.config.zip_upload_max_bytes).await {
        Err(message) => Err(backend::Error::invalid(message)),
        Ok(form) => {
            let default_workspace = match form.field("workspace") {
                None => Ok(None),
                Some(slug) => backend::tenancy::workspaces::visible_by_slug(&app.db, &caller, slug).await.map(|(w, _)| Some(w.id)),
            };
            match (default_workspace, form.bytes.as_deref()) {
                (Err(e), _) => Err(e),
                (Ok(_), None) => Err(backend::Error::invalid("Choose a CSV file to upload.")),
                (Ok(ws), Some(bytes)) => {
                    backend::zips::import_csv(&app.db, &app.places, &caller, &form.file_name, bytes, ws).await
                }
            }
        }
    };
    match outcome {
        Ok(id) => Redirect::to(&format!("/admin/zips?import={id}")).into_response(),
        // Nothing usable arrived (no file, over the limit): record it like any refused file.
        Err(backend::Error::Invalid(reason)) => {
            match backend::zips::record_refused(&app.db, &caller, "upload", &reason).await {
                Ok(id) => Redirect::to(&format!("/admin/zips?import={id}")).into_response(),
                Err(e) => crate::exports::error_response(e),
            }
        }
        Err(e) => crate::exports::error_response(e),
    }
}

/// `POST /admin/contacts/upload`: a contacts CSV for one workspace, streamed to disk within the
/// size limit (never held in memory), then staged for the mapping step.
pub async fn contacts_upload(State(state): State<HostState>, Caller(caller): Caller, multipart: Multipart) -> Response {
    let app = &state.app;
    if let Err(e) = backend::tenancy::access::require_admin(&caller) {
        return crate::exports::error_response(e);
    }
    let limit = app.config.contacts_upload_max_bytes;
    let dir = app.config.data_dir.join("uploads");
    if let Err(e) = tokio::fs::create_dir_all(&dir).await {
        return crate::exports::error_response(backend::Error::Internal(format!("cannot create {}: {e}", dir.display())));
    }
    let form = stream_form(multipart, &dir, "contacts", limit).await;
    let (slug, staged, failure) = match form {
        Ok(f) => (f.field("workspace"), f.file, f.failure.map(|r| r.message)),
        Err(response) => return response,
    };
    let Some(slug) = slug.filter(|s| !s.trim().is_empty()) else {
        discard(&staged).await;
        return crate::exports::error_response(backend::Error::invalid("Choose the workspace the contacts belong to (the form's workspace comes before the file)."));
    };
    let ws = match backend::tenancy::workspaces::visible_by_slug(&app.db, &caller, slug.trim()).await {
        Ok((ws, _)) => ws,
        Err(e) => {
            discard(&staged).await;
            return crate::exports::error_response(e);
        }
    };
    let outcome = match (&staged, failure) {
        (Some((path, name, bytes)), None) => {
            let staged_ok = backend::contacts::stage(&app.db, &caller, ws.id, name, path, *bytes).await;
            if staged_ok.is_err() {
                discard(&staged).await;
            }
            staged_ok
        }
        (_, Some(reason)) => backend::contacts::record_refused(&app.db, &caller, ws.id, &reason).await,
        (None, None) => backend::contacts::record_refused(&app.db, &caller, ws.id, "Choose a CSV file to upload.").await,
    };
    match outcome {
        Ok(id) => Redirect::to(&format!("/admin/contacts?workspace={}&upload={id}", ws.slug)).into_response(),
        Err(e) => crate::exports::error_response(e),
    }
}

/// `POST /admin/prospects/upload`: an agents or company-research file (`kind` and the phone
/// `region`, before the file),
/// streamed to disk within the contacts upload limit, loaded into the prospect layers, then
/// removed. Redirects back with the counts (numbers only); a refused file answers its reason.
pub async fn prospects_upload(State(state): State<HostState>, Caller(caller): Caller, multipart: Multipart) -> Response {
    let app = &state.app;
    if let Err(e) = backend::tenancy::access::require_admin(&caller) {
        return crate::exports::error_response(e);
    }
    // One directory per upload, so the stored file keeps the name it was sent with (the raw
    // layer and the rejected rows name their source file).
    let dir = app.config.data_dir.join("uploads").join(format!("prospects-{}", uuid::Uuid::new_v4().simple()));
    if let Err(e) = tokio::fs::create_dir_all(&dir).await {
        return crate::exports::error_response(backend::Error::Internal(format!("cannot create {}: {e}", dir.display())));
    }
    let outcome = prospects_load(app, &dir, multipart).await;
    let _ = tokio::fs::remove_dir_all(&dir).await;
    match outcome {
        Ok((kind, s)) => Redirect::to(&format!(
            "/admin/prospects?loaded={kind}&rows={}&added={}&again={}&persons={}&rejected={}",
            s.rows, s.raw_added, s.raw_already_loaded, s.persons_added, s.rejected
        ))
        .into_response(),
        Err(response) => response,
    }
}

async fn prospects_load(app: &backend::AppState, dir: &std::path::Path, multipart: Multipart) -> Result<(&'static str, backend::prospects::store::LoadSummary), Response> {
    use backend::prospects::store::SourceKind;
    let form = stream_form(multipart, dir, "prospects", app.config.contacts_upload_max_bytes).await?;
    let refuse = |m: String| crate::exports::error_response(backend::Error::invalid(m));
    if let Some(r) = form.failure {
        let mut res = refuse(r.message);
        if r.code == "too_big" {
            *res.status_mut() = axum::http::StatusCode::PAYLOAD_TOO_LARGE;
        }
        return Err(res);
    }
    let kind = match form.field("kind").as_deref() {
        Some("agents") => SourceKind::Agents,
        Some("company") => SourceKind::Company,
        _ => return Err(refuse("Say which kind of file this is: agents or company (the form's kind comes before the file).".into())),
    };
    // Where numbers without a country code are from (ISO code, before the file); US when absent.
    let region = match form.field("region") {
        None => backend::prospects::Region::default(),
        Some(code) => backend::prospects::Region::parse(&code)
            .ok_or_else(|| refuse(format!("The phone region {:?} is not a country code (US, GB, DE, …); choose one from the list.", code.chars().take(20).collect::<String>())))?,
    };
    let Some((path, name, _)) = form.file else {
        return Err(refuse("Choose a CSV file to upload.".into()));
    };
    // The name as sent, reduced to a plain file name (no directories, nothing odd).
    let clean: String = std::path::Path::new(&name)
        .file_name()
        .map(|n| n.to_string_lossy().chars().map(|c| if c.is_ascii_alphanumeric() || "._- ".contains(c) { c } else { '_' }).collect())
        .filter(|n: &String| !n.trim_matches('.').is_empty())
        .unwrap_or_else(|| "upload.csv".into());
    let named = dir.join(&clean);
    if let Err(e) = tokio::fs::rename(&path, &named).await {
        return Err(crate::exports::error_response(backend::Error::Internal(format!("cannot store the upload: {e}"))));
    }
    match backend::prospects::store::load_file(&app.db, kind, &named, region).await {
        Ok(s) => Ok((kind.as_str(), s)),
        Err(e) => Err(crate::exports::error_response(e)),
    }
}

/// Why an upload was refused before it reached the core: a code (what a redirect URL carries —
/// never free text, so nobody can put words on our pages through a link) and the words.
struct Refusal {
    code: &'static str,
    message: String,
}

/// A form whose file was streamed to disk: its other fields, the stored file (path, name as
/// sent, bytes), or why it was refused (over the limit, broken body, more than one file). A
/// refused form never leaves a file behind.
struct StreamedForm {
    fields: Vec<(String, String)>,
    file: Option<(std::path::PathBuf, String, u64)>,
    failure: Option<Refusal>,
}

impl StreamedForm {
    fn field(&self, name: &str) -> Option<String> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim().to_owned()).filter(|v| !v.is_empty())
    }
}

/// Streams a multipart form's file into `dir` (named `<prefix>-<uuid>.csv`) within `limit`
/// bytes — never holding it in memory — and keeps the other fields. A file over the limit is
/// removed and reported in `failure`; `Err` is a response for a server-side failure.
async fn stream_form(mut multipart: Multipart, dir: &std::path::Path, prefix: &str, limit: usize) -> Result<StreamedForm, Response> {
    let mut form = StreamedForm { fields: Vec::new(), file: None, failure: None };
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                form.failure = Some(too_big_or(e.status(), limit, e.body_text()));
                break;
            }
        };
        let Some(name) = field.file_name().map(str::to_owned) else {
            let key = field.name().unwrap_or_default().to_owned();
            if let Ok(value) = field.text().await {
                form.fields.push((key, value));
            }
            continue;
        };
        if form.file.is_some() {
            // Only one file is read: a second one would otherwise replace the first on disk.
            form.failure = Some(Refusal { code: "one_file", message: "Send one file at a time.".into() });
            break;
        }
        let path = dir.join(format!("{prefix}-{}.csv", uuid::Uuid::new_v4().simple()));
        let mut file = match tokio::fs::File::create(&path).await {
            Ok(f) => f,
            Err(e) => return Err(crate::exports::error_response(backend::Error::Internal(format!("cannot store the upload: {e}")))),
        };
        let mut bytes = 0u64;
        loop {
            match field.chunk().await {
                Ok(Some(chunk)) => {
                    bytes += chunk.len() as u64;
                    if bytes > limit as u64 {
                        form.failure = Some(too_big_or(axum::http::StatusCode::PAYLOAD_TOO_LARGE, limit, String::new()));
                        break;
                    }
                    if let Err(e) = tokio::io::AsyncWriteExt::write_all(&mut file, &chunk).await {
                        tracing::error!(error = %e, "storing an upload failed");
                        form.failure = Some(Refusal { code: "unreadable", message: "The upload could not be stored; try again.".into() });
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    form.failure = Some(too_big_or(e.status(), limit, e.body_text()));
                    break;
                }
            }
        }
        let _ = tokio::io::AsyncWriteExt::flush(&mut file).await;
        if form.failure.is_some() {
            let _ = tokio::fs::remove_file(&path).await;
            break;
        }
        form.file = Some((path, name, bytes));
    }
    if form.failure.is_some() {
        if let Some((path, ..)) = form.file.take() {
            let _ = tokio::fs::remove_file(&path).await;
        }
    }
    Ok(form)
}

/// Removes a staged file that no record took.
async fn discard(file: &Option<(std::path::PathBuf, String, u64)>) {
    if let Some((path, ..)) = file {
        let _ = tokio::fs::remove_file(path).await;
    }
}

/// `POST /personalization/{campaign}/runs`: a leads CSV (and `writer`: ai | template) starts a
/// run. A browser's form is sent back to the campaign page on the new run; a script that asks
/// for JSON gets `202 {"run_id", "status_url"}` at once.
pub async fn personalization_upload(
    State(state): State<HostState>,
    Caller(caller): Caller,
    axum::extract::Path(campaign_id): axum::extract::Path<i64>,
    headers: axum::http::HeaderMap,
    multipart: Multipart,
) -> Response {
    let app = &state.app;
    let wants_json = headers.get("accept").and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("application/json"));
    // Not visible (404) or not writable (403, archived 409): refused before anything is stored.
    if let Err(e) = backend::personalization::writable_campaign(&app.db, &caller, campaign_id).await {
        return crate::exports::error_response(e);
    }
    let dir = app.config.data_dir.join("uploads");
    if let Err(e) = tokio::fs::create_dir_all(&dir).await {
        return crate::exports::error_response(backend::Error::Internal(format!("cannot create {}: {e}", dir.display())));
    }
    let form = match stream_form(multipart, &dir, "personalization", app.config.personalization.upload_max_bytes).await {
        Ok(f) => f,
        Err(response) => return response,
    };
    let writer = match form.field("writer").as_deref() {
        None if app.config.personalization.ai_ready() => Some(backend::personalization::Writer::Ai),
        None => Some(backend::personalization::Writer::Template),
        Some(w) => w.parse::<backend::personalization::Writer>().ok(),
    };
    let refused = |code: &'static str, message: &str| Refusal { code, message: message.to_owned() };
    let outcome = match (&form.file, form.failure, writer) {
        (_, Some(refusal), _) => Err(refusal),
        (None, None, _) => Err(refused("no_file", "Choose a CSV file of leads to upload.")),
        (Some(_), None, None) => Err(refused("writer", "writer must be \"ai\" or \"template\".")),
        (Some(_), None, Some(backend::personalization::Writer::Ai)) if !app.config.personalization.ai_ready() => Err(refused(
            "ai_keys",
            "AI writing needs both MAVERICK_PERPLEXITY_KEY and MAVERICK_OPENROUTER_KEY on the server; until then choose the template writer (not AI).",
        )),
        (Some((path, name, _)), None, Some(writer)) => match backend::personalization::start_run(app, &caller, campaign_id, name, path, writer).await {
            Ok(id) => Ok(id),
            Err(e) => {
                discard(&form.file).await;
                return crate::exports::error_response(e);
            }
        },
    };
    if outcome.is_err() {
        discard(&form.file).await;
    }
    match outcome {
        Ok(id) if wants_json => (
            axum::http::StatusCode::ACCEPTED,
            axum::Json(serde_json::json!({"run_id": id, "status": "extracting", "status_url": format!("/personalization/runs/{id}")})),
        )
            .into_response(),
        Ok(id) => Redirect::to(&format!("/personalization/{campaign_id}?run={id}")).into_response(),
        // A script gets the words; a browser goes back to the page with the code only.
        Err(refusal) if wants_json => crate::exports::error_response(backend::Error::invalid(refusal.message)),
        Err(refusal) => Redirect::to(&format!("/personalization/{campaign_id}?error={}", refusal.code)).into_response(),
    }
}

fn too_big_or(status: axum::http::StatusCode, limit: usize, detail: String) -> Refusal {
    if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        Refusal { code: "too_big", message: format!("The file is larger than {} MB; split it into smaller files.", limit / (1024 * 1024)) }
    } else {
        Refusal { code: "unreadable", message: format!("The upload could not be read ({detail}); try again.") }
    }
}

#[cfg(test)]
mod tests {
    /// Every code a redirect can carry has words on the page.
    #[test]
    fn every_refusal_code_is_known_to_the_page() {
        let source = include_str!("uploads.rs");
        let codes: Vec<&str> = source.split("code: \"").skip(1).chain(source.split("refused(\"").skip(1)).filter_map(|s| s.split('"').next()).collect();
        assert!(codes.len() >= 5, "{codes:?}");
        for code in codes {
            assert!(app::models::upload_refusal(code).is_some(), "the page has no words for {code:?}");
        }
        for code in ["too_big", "unreadable"] {
            assert!(app::models::upload_refusal(code).is_some());
        }
    }
}
