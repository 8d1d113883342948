//! Contact uploads on a real database (both backends): a corpus of the CSVs people really send —
//! BOM, semicolons, quoted newlines, mixed line endings, Latin-1, empty, header only, 10,000
//! columns, duplicate headers, formula cells, a truncated last row, UTF-16 — each imported
//! correctly or refused with a message that says why, never half-imported.

use std::path::PathBuf;

use backend::{
    contacts::{self, ImportCounts, Mapping},
    on_db,
    identity::sessions::SessionUser,
    platform::testing::test_state,
    identity::users::{self, NewUser, Role},
    tenancy::workspaces::{self, WorkspaceInput},
    AppState,
};

struct Setup {
    state: AppState,
    admin: SessionUser,
    ws: i64,
    dir: PathBuf,
}

async fn setup() -> Setup {
    let state = test_state().await;
    let ws = workspaces::create(&state.db, WorkspaceInput::named("Acme Roofing")).await.unwrap().id;
    let u = users::create(&state.db, NewUser { email: "ada@agency.test".into(), display_name: "Ada".into(), role: Role::Admin, password: "password-123".into() })
        .await
        .unwrap();
    let admin = SessionUser { session_id: 0, user_id: u.id, email: u.email, display_name: u.display_name, role: Role::Admin };
    let dir = std::env::temp_dir().join("maverick-tests").join(format!("contacts-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    Setup { state, admin, ws, dir }
}

/// Stages `bytes` as an upload; the upload as recorded.
async fn stage(s: &Setup, bytes: &[u8]) -> contacts::ContactUpload {
    let path = s.dir.join(format!("{}.csv", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, bytes).unwrap();
    let id = contacts::stage(&s.state.db, &s.admin, s.ws, "list.csv", &path, bytes.len() as u64).await.unwrap();
    contacts::get_upload(&s.state.db, &s.admin, id).await.unwrap()
}

/// Stages and imports with the guessed mapping; the counts and the rejected-rows CSV.
async fn import(s: &Setup, bytes: &[u8]) -> (ImportCounts, String) {
    let u = stage(s, bytes).await;
    assert_eq!(u.status, "mapping", "{:?}", u.failure);
    let counts = contacts::import(&s.state.db, &s.admin, u.id, u.mapping(), &s.dir).await.unwrap();
    let done = contacts::get_upload(&s.state.db, &s.admin, u.id).await.unwrap();
    let rejected = done.rejected_path.map(|p| std::fs::read_to_string(p).unwrap()).unwrap_or_default();
    (counts, rejected)
}

async fn contact(s: &Setup, email: &str) -> Option<(Option<String>, Option<String>, Option<String>)> {
    on_db!(&s.state.db, |p| sqlx::query_as("SELECT first_name, last_name, company FROM contacts WHERE workspace_id = $1 AND email = $2")
        .bind(s.ws)
        .bind(email)
        .fetch_optional(p)
        .await)
    .unwrap()
}

async fn total(s: &Setup) -> i64 {
    on_db!(&s.state.db, |p| sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM contacts WHERE workspace_id = $1").bind(s.ws).fetch_one(p).await).unwrap()
}

#[tokio::test]
async fn a_list_lands_with_duplicates_skipped_and_each_bad_row_reported_and_twice_adds_nothing() {
    let s = setup().await;
    let file = "Email Address,First Name,Last Name,Company Name\n\
pat@leehomes.test,Pat,Lee,Lee Homes\n\
PAT@LeeHomes.test,Patricia,Lee,Dup Inc\n\
not-an-email,Bad,Row,=cmd|' /C calc'!A0\n\
,No,Email,Nobody Co\n\
sam@oak.test,Sam,Oak,Oak & Sons\n";
    let (c, rejected) = import(&s, file.as_bytes()).await;
    assert_eq!(c, ImportCounts { rows_total: 5, created: 2, duplicates: 1, rejected: 2, unnamed: 0 });
    assert_eq!(contact(&s, "pat@leehomes.test").await, Some((Some("Pat".into()), Some("Lee".into()), Some("Lee Homes".into()))), "the first of two duplicates wins");
    assert_eq!(
        rejected,
        "\u{feff}line,error,Email Address,First Name,Last Name,Company Name\n\
4,\"\"\"not-an-email\"\" is not a valid email address\",not-an-email,Bad,Row,'=cmd|' /C calc'!A0\n\
5,the email is missing,,No,Email,Nobody Co\n",
        "line numbers as an editor shows them; formula cells defused"
    );
    let (again, _) = import(&s, file.as_bytes()).await;
    assert_eq!(again, ImportCounts { rows_total: 5, created: 0, duplicates: 3, rejected: 2, unnamed: 0 });
    assert_eq!(total(&s).await, 2);
}

#[tokio::test]
async fn spreadsheet_quirks_are_read_correctly() {
    let s = setup().await;
    // BOM, semicolons, a quoted newline, CRLF and LF and a lone CR, Latin-1 bytes, duplicate
    // headers (the first email column counts), a truncated last row.
    let mut file: Vec<u8> = b"\xEF\xBB\xBFemail;E-mail;first_name;company\r\n".to_vec();
    file.extend_from_slice(b"zoe@cafe.test;x@y.test;Zo\xEB;\"Caf\xE9\r\nde Paris\"\n");
    file.extend_from_slice(b"al@semi.test;;Al;Semi;Colon\r");
    file.extend_from_slice(b"bo@cut.test;;Bo");
    let (c, rejected) = import(&s, &file).await;
    assert_eq!((c.created, c.rejected), (3, 0), "{rejected}");
    assert_eq!(contact(&s, "zoe@cafe.test").await, Some((Some("Zoë".into()), None, Some("Café\r\nde Paris".into()))));
    assert_eq!(contact(&s, "al@semi.test").await.unwrap().2.as_deref(), Some("Semi"), "an extra cell is ignored");
    assert_eq!(contact(&s, "bo@cut.test").await, Some((Some("Bo".into()), None, None)), "missing trailing cells are empty");
    assert!(contact(&s, "x@y.test").await.is_none());
}

#[tokio::test]
async fn unusable_files_are_refused_with_a_reason_and_add_nothing() {
    let s = setup().await;
    let wide = (0..10_000).map(|i| format!("c{i}")).collect::<Vec<_>>().join(",") + "\n" + &"x,".repeat(9_999) + "x\n";
    for (bytes, says) in [
        (b"".to_vec(), "The file is empty"),
        (b"\r\n\r\n".to_vec(), "The file is empty"),
        (b"email,first_name\r\n".to_vec(), "header but no rows"),
        (wide.into_bytes(), "10000 columns"),
        (b"\xFF\xFEe\x00m\x00".to_vec(), "UTF-16"),
    ] {
        let u = stage(&s, &bytes).await;
        assert_eq!(u.status, "failed");
        assert!(u.failure.as_deref().unwrap_or("").contains(says), "{:?}", u.failure);
    }
    assert_eq!(total(&s).await, 0);
    // A quote that never closes would swallow the rows after it: the whole file is refused.
    let u = stage(&s, b"email,company\na@x.test,A\nb@x.test,\"open quote\nc@x.test,C\n").await;
    let err = contacts::import(&s.state.db, &s.admin, u.id, u.mapping(), &s.dir).await.unwrap_err();
    assert!(err.to_string().contains("Line 3 opens a quoted cell"), "{err}");
    let u = contacts::get_upload(&s.state.db, &s.admin, u.id).await.unwrap();
    assert_eq!((u.status.as_str(), u.created), ("failed", 0));
    assert_eq!(total(&s).await, 0, "nothing half-imported");
}

#[tokio::test]
async fn a_mapping_the_admin_corrects_is_used_and_a_missing_email_column_is_refused_until_chosen() {
    let s = setup().await;
    let u = stage(&s, b"Contact,Org,Notes\nkim@vale.test,Vale Ltd,met at expo\n").await;
    assert!(u.mapping().get("email").is_none(), "nothing looks like an email header");
    assert_eq!(u.preview_rows(), vec![vec!["kim@vale.test".to_string(), "Vale Ltd".into(), "met at expo".into()]]);
    let err = contacts::import(&s.state.db, &s.admin, u.id, u.mapping(), &s.dir).await.unwrap_err();
    assert!(err.to_string().contains("Choose the column that holds the email address"), "{err}");
    let bad: Mapping = [("email".to_string(), 0), ("company".to_string(), 7)].into();
    assert!(contacts::import(&s.state.db, &s.admin, u.id, bad, &s.dir).await.unwrap_err().to_string().contains("no column 8"));
    let mapping: Mapping = [("email".to_string(), 0), ("company".to_string(), 1)].into();
    let c = contacts::import(&s.state.db, &s.admin, u.id, mapping.clone(), &s.dir).await.unwrap();
    assert_eq!(c.created, 1);
    assert_eq!(contact(&s, "kim@vale.test").await.unwrap().2.as_deref(), Some("Vale Ltd"));
    assert!(contacts::import(&s.state.db, &s.admin, u.id, mapping, &s.dir).await.is_err(), "an upload imports once");
    let client = SessionUser { role: Role::Client, ..s.admin.clone() };
    assert_eq!(contacts::get_upload(&s.state.db, &client, u.id).await.unwrap_err().status(), 403);
}

#[tokio::test]
async fn the_monthly_flow_counts_uploaded_verified_batched_and_sent_by_month() {
    let s = setup().await;
    let db = &s.state.db;
    let at = |m: u32, d: u32| chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, m, d, 12, 0, 0).unwrap();
    for (email, when, verdict, bison) in [
        ("a@x.test", at(10, 5), "safe", None),
        ("b@x.test", at(10, 6), "risky", None),
        ("c@x.test", at(10, 31), "invalid", None),
        ("d@x.test", at(11, 1), "unverified", None),
        ("e@x.test", at(11, 2), "safe", Some("77")),
    ] {
        on_db!(db, |p| sqlx::query("INSERT INTO contacts (workspace_id, email, verification, bison_lead_id, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(s.ws)
            .bind(email)
            .bind(verdict)
            .bind(bison)
            .bind(when)
            .execute(p)
            .await
            .map(|_| ()))
        .unwrap();
    }
    let flow: Vec<(String, i64, i64, i64, i64)> =
        contacts::monthly_flow(db, s.ws, 12).await.unwrap().into_iter().map(|m| (m.month, m.uploaded, m.verified, m.batched, m.in_bison)).collect();
    assert_eq!(flow, vec![("2026-10".to_string(), 3, 2, 0, 0), ("2026-11".to_string(), 2, 1, 0, 1)]);
}

/// Issue 11 (14): a double submit of the same import imports once; the second is told why.
#[tokio::test]
async fn an_import_submitted_twice_at_once_runs_once() {
    let s = setup().await;
    let mut csv = String::from("email,company\n");
    for i in 0..2_000 {
        csv.push_str(&format!("p{i}@x.test,Co {i}\n"));
    }
    let u = stage(&s, csv.as_bytes()).await;
    let (a, b) = tokio::join!(
        contacts::import(&s.state.db, &s.admin, u.id, u.mapping(), &s.dir),
        contacts::import(&s.state.db, &s.admin, u.id, u.mapping(), &s.dir)
    );
    let (done, refused): (Vec<_>, Vec<_>) = [a, b].into_iter().partition(|r| r.is_ok());
    assert_eq!(done.len(), 1, "exactly one import ran");
    assert!(matches!(&refused[0], Err(backend::Error::Conflict(m)) if m.contains("being imported") || m.contains("already imported")), "{refused:?}");
    assert_eq!(done[0].as_ref().unwrap().created, 2_000);
    assert_eq!(total(&s).await, 2_000);
    let upload = contacts::get_upload(&s.state.db, &s.admin, u.id).await.unwrap();
    assert_eq!((upload.status, upload.created), (contacts::UploadStatus::Imported, 2_000), "the outcome is the import's, not overwritten");
}

/// Issue 11 (2): files in `uploads/` that no record points to (a request that died between
/// staging and recording) are swept; files a record names are kept.
#[tokio::test]
async fn upload_files_no_record_points_to_are_swept() {
    let s = setup().await;
    let data_dir = s.dir.join("data");
    let uploads = data_dir.join("uploads");
    std::fs::create_dir_all(&uploads).unwrap();
    let kept = uploads.join("contacts-kept.csv");
    std::fs::write(&kept, "email\nkim@vale.test\n").unwrap();
    contacts::stage(&s.state.db, &s.admin, s.ws, "kept.csv", &kept, 21).await.unwrap();
    let orphan = uploads.join("personalization-orphan.csv");
    std::fs::write(&orphan, "email,company\n").unwrap();
    // Nothing is old enough yet.
    assert_eq!(backend::runtime::uploads::sweep_orphans(&s.state.db, &data_dir, std::time::Duration::from_secs(3600)).await.unwrap(), 0);
    assert_eq!(backend::runtime::uploads::sweep_orphans(&s.state.db, &data_dir, std::time::Duration::ZERO).await.unwrap(), 1);
    assert!(kept.exists(), "a staged upload keeps its file");
    assert!(!orphan.exists(), "the orphan is gone");
}
