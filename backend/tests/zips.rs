//! ZIP territories and the CSV upload of assignments, on a real database (both backends).

use backend::{
    reporting::dashboards,
    platform::geo::ZipPlaces,
    identity::sessions::SessionUser,
    platform::testing::test_state,
    identity::users::{self, NewUser, Role},
    tenancy::workspaces::{self, WorkspaceInput},
    zips::{self, ZipImport},
    AppState,
};

const PLACES: &[u8] = b"zip,state,city,latitude,longitude,map_x,map_y\n\
02108,MA,Boston,42.35,-71.06,901.2,-219.3\n\
78701,TX,Austin,30.27,-97.74,463.9,-497.4\n\
78702,TX,Austin,30.26,-97.71,464.5,-498.0\n\
10001,NY,New York,40.75,-73.99,876.0,-234.0\n";

struct Setup {
    state: AppState,
    admin: SessionUser,
    acme: i64,
    beta: i64,
    gone: i64,
}

async fn setup() -> Setup {
    let state = test_state().await;
    let db = &state.db;
    let acme = workspaces::create(db, WorkspaceInput::named("Acme Roofing")).await.unwrap().id;
    let beta = workspaces::create(db, WorkspaceInput::named("Beta Dental")).await.unwrap().id;
    let gone = workspaces::create(db, WorkspaceInput::named("Gone Spa")).await.unwrap().id;
    workspaces::set_active(db, gone, false).await.unwrap();
    let u = users::create(db, NewUser { email: "ada@agency.test".into(), display_name: "Ada".into(), role: Role::Admin, password: "password-123".into() })
        .await
        .unwrap();
    let admin = SessionUser { session_id: 1, user_id: u.id, email: u.email, display_name: u.display_name, role: Role::Admin };
    Setup { state, admin, acme, beta, gone }
}

async fn upload(s: &Setup, bytes: &[u8], default_ws: Option<i64>) -> ZipImport {
    let places = ZipPlaces::from_csv(PLACES).unwrap();
    let id = zips::import_csv(&s.state.db, &places, &s.admin, "zips.csv", bytes, default_ws).await.unwrap();
    zips::get_import(&s.state.db, &s.admin, id).await.unwrap()
}

async fn zips_of(s: &Setup, ws: i64) -> Vec<(String, Option<String>, Option<String>)> {
    zips::list(&s.state.db, ws).await.unwrap().into_iter().map(|z| (z.zip, z.state, z.city)).collect()
}

#[tokio::test]
async fn an_upload_assigns_valid_rows_and_keeps_each_rejected_row_with_its_reason() {
    let s = setup().await;
    // BOM, semicolons, headers in another spelling, a blank line, a quoted cell.
    let file = "\u{feff}Workspace;ZIP Code;State;City\r\n\
acme-roofing;78701;;\r\n\
Beta Dental;2108;MA;\r\n\
acme-roofing;78702-1234;tx;\"Austin, East\"\r\n\
\r\n\
acme-roofing;78701;;\r\n\
beta-dental;ABCDE;;\r\n\
nobody;78701;;\r\n\
gone-spa;10001;;\r\n\
acme-roofing;10001;CA;\r\n\
=cmd|' /C calc'!A0;78701;;\r\n\
acme-roofing;;;\r\n\
beta-dental;99950;AK;Ketchikan\r\n";
    let i = upload(&s, file.as_bytes(), None).await;
    assert_eq!(i.failure, None);
    // 11 rows (the blank line is not one): 4 assigned (78701, 02108, 78702, 99950), 1 repeated,
    // 6 rejected.
    assert_eq!((i.rows_total, i.assigned, i.unchanged, i.rejected), (11, 4, 1, 6));
    assert_eq!(
        zips_of(&s, s.acme).await,
        vec![
            ("78701".into(), Some("TX".into()), Some("Austin".into())),
            ("78702".into(), Some("TX".into()), Some("Austin, East".into())),
        ],
        "state and city come from the ZIP places unless the row gives them"
    );
    assert_eq!(
        zips_of(&s, s.beta).await,
        vec![
            ("02108".into(), Some("MA".into()), Some("Boston".into())),
            ("99950".into(), Some("AK".into()), Some("Ketchikan".into())),
        ],
        "a leading zero lost by a spreadsheet is restored; a ZIP missing from the places file is still assigned"
    );
    assert!(zips_of(&s, s.gone).await.is_empty());

    let preview = i.rejected_preview(20);
    let reasons: Vec<(&str, &str)> = preview.iter().map(|(l, r)| (l.as_str(), r.as_str())).collect();
    assert_eq!(reasons.len(), 6);
    assert_eq!(reasons[0].0, "7");
    assert!(reasons[0].1.contains("\"ABCDE\" is not a US ZIP code"), "{reasons:?}");
    assert_eq!(reasons[1], ("8", "no workspace has the slug or name \"nobody\""));
    assert_eq!(reasons[2], ("9", "workspace \"Gone Spa\" is archived"));
    assert_eq!(reasons[3], ("10", "ZIP 10001 is in NY, not CA"));
    assert!(reasons[4].1.starts_with("no workspace has the slug or name"), "{reasons:?}");
    assert_eq!(reasons[5], ("12", "the ZIP is missing"));
    let csv = i.rejected_csv.clone().unwrap();
    assert!(csv.starts_with("\u{feff}line,error,Workspace,ZIP Code,State,City\n"), "{csv}");
    assert!(csv.contains("\n11,\"no workspace has the slug or name \"\"=cmd|' /C calc'!A0\"\"\",'=cmd|' /C calc'!A0,78701,,\n"), "formula cells are defused: {csv}");

    // The same file again assigns nothing new.
    let again = upload(&s, file.as_bytes(), None).await;
    assert_eq!((again.rows_total, again.assigned, again.unchanged, again.rejected), (11, 0, 5, 6));
}

#[tokio::test]
async fn a_file_that_cannot_be_read_assigns_nothing_and_says_why() {
    let s = setup().await;
    for (file, default_ws, says) in [
        (&b""[..], None, "The file is empty"),
        (b"\xEF\xBB\xBF  \r\n", None, "The file is empty"),
        (b"workspace,zip\r\n", None, "header but no rows"),
        (b"workspace,postcode_of_branch\nacme-roofing,78701\n", None, "No ZIP column"),
        (b"zip\n78701\n", None, "No workspace column"),
    ] {
        let i = upload(&s, file, default_ws).await;
        let failure = i.failure.clone().unwrap_or_default();
        assert!(failure.contains(says), "{:?}: {failure}", String::from_utf8_lossy(file));
        assert_eq!((i.assigned, i.rejected), (0, 0));
    }
    assert!(zips_of(&s, s.acme).await.is_empty());

    // Without a workspace column the form's workspace applies; Latin-1 bytes are read as such.
    let i = upload(&s, b"zip\tcity\n78701\tAust\xEDn\n", Some(s.acme)).await;
    assert_eq!((i.failure.as_deref(), i.assigned), (None, 1));
    assert_eq!(zips_of(&s, s.acme).await, vec![("78701".into(), Some("TX".into()), Some("Austín".into()))]);

    // Archived or unknown default workspace: refused before anything is read.
    let places = ZipPlaces::default();
    let err = zips::import_csv(&s.state.db, &places, &s.admin, "z.csv", b"zip\n78702\n", Some(s.gone)).await.unwrap_err();
    assert!(err.to_string().contains("archived"), "{err}");
    // Only admins import.
    let client = SessionUser { role: Role::Client, ..s.admin.clone() };
    let err = zips::import_csv(&s.state.db, &places, &client, "z.csv", b"zip\n78702\n", Some(s.acme)).await.unwrap_err();
    assert_eq!(err.status(), 403);
    assert_eq!(zips::get_import(&s.state.db, &client, i.id).await.unwrap_err().status(), 403);
}

#[tokio::test]
async fn conflicts_are_zips_held_by_two_active_workspaces() {
    let s = setup().await;
    let db = &s.state.db;
    upload(&s, b"workspace,zip\nacme-roofing,78701\nbeta-dental,78701\nacme-roofing,78702\n", None).await;
    zips::assign(db, s.gone, "78702", None, None).await.unwrap();
    let t = zips::territories(db).await.unwrap();
    assert_eq!(
        t.iter().map(|t| (t.zip.as_str(), t.workspace_slug.as_str())).collect::<Vec<_>>(),
        vec![("78701", "acme-roofing"), ("78701", "beta-dental"), ("78702", "acme-roofing")],
        "archived workspaces hold no territory"
    );
    let alerts = dashboards::alerts(db, &s.admin, &[]).await.unwrap();
    assert_eq!(alerts.zip_conflicts.len(), 1);
    assert_eq!(alerts.zip_conflicts[0].zip, "78701");
    assert_eq!(alerts.zip_conflicts[0].workspaces, vec!["Acme Roofing".to_string(), "Beta Dental".to_string()]);
}
