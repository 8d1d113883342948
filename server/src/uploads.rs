//! File uploads posted by plain HTML forms (they work before and without the WASM). Each reads the
//! multipart body within its own size limit, hands the bytes to the core, and redirects back to
//! the page with the recorded outcome.

use axum::{
    extract::{Extension, Multipart, State},
    response::{IntoResponse, Redirect, Response},
};
use backend::sessions::SessionUser;

use crate::HostState;

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

/// `POST /admin/zips/import`: a CSV of ZIP assignments (see `backend::zip_codes::import_csv`).
pub async fn zip_import(State(state): State<HostState>, Extension(caller): Extension<SessionUser>, multipart: Multipart) -> Response {
    let app = &state.app;
    if let Err(e) = backend::access::require_admin(&caller) {
        return crate::exports::error_response(e);
    }
    let outcome = match read_form(multipart, app.config.zip_upload_max_bytes).await {
        Err(message) => Err(backend::Error::invalid(message)),
        Ok(form) => {
            let default_workspace = match form.field("workspace") {
                None => Ok(None),
                Some(slug) => backend::workspaces::visible_by_slug(&app.db, &caller, slug).await.map(|(w, _)| Some(w.id)),
            };
            match (default_workspace, form.bytes.as_deref()) {
                (Err(e), _) => Err(e),
                (Ok(_), None) => Err(backend::Error::invalid("Choose a CSV file to upload.")),
                (Ok(ws), Some(bytes)) => {
                    backend::zip_codes::import_csv(&app.db, &app.places, &caller, &form.file_name, bytes, ws).await
                }
            }
        }
    };
    match outcome {
        Ok(id) => Redirect::to(&format!("/admin/zips?import={id}")).into_response(),
        // Nothing usable arrived (no file, over the limit): record it like any refused file.
        Err(backend::Error::Invalid(reason)) => {
            match backend::zip_codes::record_refused(&app.db, &caller, "upload", &reason).await {
                Ok(id) => Redirect::to(&format!("/admin/zips?import={id}")).into_response(),
                Err(e) => crate::exports::error_response(e),
            }
        }
        Err(e) => crate::exports::error_response(e),
    }
}
