//! The client portal's pipeline on a real database (both backends): the board, moves by each
//! role, history under concurrent moves, notes, and the event log that feeds live boards.

use backend::{
    tenancy::access::{self, GrantLevel},
    platform::db::Db,
    platform::error::Error,
    platform::events,
    leads::{self, NewLead},
    on_db,
    leads::pipeline::{self, LeadFilter, Move},
    identity::sessions::SessionUser,
    platform::testing::test_state,
    identity::users::{self, NewUser, Role},
    tenancy::workspaces::{self, WorkspaceInput},
};
use chrono::{NaiveDate, TimeZone, Utc};

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

async fn user(db: &Db, email: &str, role: Role) -> SessionUser {
    let u = users::create(db, NewUser { email: email.into(), display_name: email.split('@').next().unwrap().into(), role, password: "password-123".into() })
        .await
        .unwrap();
    SessionUser { session_id: 0, user_id: u.id, email: u.email, display_name: u.display_name, role }
}

async fn lead(db: &Db, ws: i64, email: &str, stage: &str, d: u32, campaign: Option<i64>) -> i64 {
    let l = NewLead {
        email: email.into(),
        first_name: Some(email.split('@').next().unwrap().to_uppercase()),
        company: Some(format!("{email} Co")),
        campaign_id: campaign,
        reply_text: Some("Interested — call me".into()),
        received_at: Some(Utc.with_ymd_and_hms(2026, 11, d, 15, 0, 0).unwrap()),
        interested_day: Some(day(d)),
        stage: stage.parse().unwrap(),
        deal_value_cents: (stage == "won").then_some(100_00),
        ..Default::default()
    };
    leads::insert(db, ws, &l).await.unwrap()
}

struct World {
    db: Db,
    admin: SessionUser,
    client: SessionUser,
    viewer: SessionUser,
    outsider: SessionUser,
    acme: i64,
    beta: i64,
}

async fn world() -> World {
    let state = test_state().await;
    let db = state.db.clone();
    let acme = workspaces::create(&db, WorkspaceInput::named("Acme")).await.unwrap().id;
    let beta = workspaces::create(&db, WorkspaceInput::named("Beta")).await.unwrap().id;
    let admin = user(&db, "ada@agency.test", Role::Admin).await;
    let client = user(&db, "cal@acme.test", Role::Client).await;
    let viewer = user(&db, "val@acme.test", Role::Viewer).await;
    let outsider = user(&db, "bob@beta.test", Role::Client).await;
    let now = Utc::now();
    access::grant(&db, client.user_id, acme, GrantLevel::Client, admin.user_id, now).await.unwrap();
    access::grant(&db, viewer.user_id, acme, GrantLevel::Viewer, admin.user_id, now).await.unwrap();
    access::grant(&db, outsider.user_id, beta, GrantLevel::Client, admin.user_id, now).await.unwrap();
    World { db, admin, client, viewer, outsider, acme, beta }
}

fn to(stage: &str) -> Move {
    Move { to_stage: stage.into(), ..Default::default() }
}

#[tokio::test]
async fn the_board_counts_filters_and_pages_each_column() {
    let w = world().await;
    let db = &w.db;
    let campaign: i64 = on_db!(db, |p| sqlx::query_scalar(
        "INSERT INTO campaigns (workspace_id, name, created_at, updated_at) VALUES ($1, 'Spring roofs', $2, $2) RETURNING id"
    )
    .bind(w.acme)
    .bind(Utc::now())
    .fetch_one(p)
    .await)
    .unwrap();
    for (i, d) in [3, 5, 7].into_iter().enumerate() {
        lead(db, w.acme, &format!("new{i}@x.test"), "new", d, Some(campaign)).await;
    }
    lead(db, w.acme, "won1@x.test", "won", 8, None).await;
    lead(db, w.acme, "won2@x.test", "won", 9, None).await;
    lead(db, w.acme, "gone@x.test", "lost", 10, None).await;
    lead(db, w.beta, "other@beta.test", "new", 10, None).await;
    // Not interested: never on the board.
    leads::insert(db, w.acme, &NewLead { email: "cold@x.test".into(), stage: backend::leads::Stage::New, ..Default::default() }).await.unwrap();

    let cols = pipeline::board(db, w.acme, &LeadFilter::default(), 2).await.unwrap();
    let by = |s: &str| cols.iter().find(|c| c.stage == s).unwrap();
    assert_eq!(cols.iter().map(|c| c.stage).collect::<Vec<_>>(), leads::Stage::ALL);
    assert_eq!((by("new").total, by("new").cards.len()), (3, 2), "two newest of three");
    assert_eq!(by("new").cards.iter().map(|c| c.email.as_str()).collect::<Vec<_>>(), ["new2@x.test", "new1@x.test"]);
    assert_eq!((by("won").total, by("won").value_cents), (2, 200_00));
    assert_eq!((by("lost").total, by("contacted").total), (1, 0));

    let (db2, acme) = (w.db.clone(), w.acme);
    let only = move |f: LeadFilter| {
        let db = db2.clone();
        async move { pipeline::filtered_leads(&db, acme, &f).await.unwrap().into_iter().map(|c| c.email).collect::<Vec<_>>() }
    };
    assert_eq!(only(LeadFilter { text: "WON1".into(), ..Default::default() }).await, ["won1@x.test"]);
    assert_eq!(only(LeadFilter { text: "new0@x.test co".into(), ..Default::default() }).await, ["new0@x.test"], "company is searched too");
    assert_eq!(only(LeadFilter { from: Some(day(5)), to: Some(day(8)), ..Default::default() }).await, ["won1@x.test", "new2@x.test", "new1@x.test"]);
    assert_eq!(only(LeadFilter { campaign_id: Some(campaign), ..Default::default() }).await.len(), 3);
    assert!(!only(LeadFilter::default()).await.contains(&"other@beta.test".to_string()));
}

#[tokio::test]
async fn moves_follow_roles_and_leave_history_and_an_event() {
    let w = world().await;
    let db = &w.db;
    let id = lead(db, w.acme, "lee@x.test", "new", 3, None).await;
    let today = day(21);

    assert!(matches!(pipeline::move_lead(db, &w.viewer, id, to("contacted"), today).await, Err(Error::Forbidden)));
    assert!(matches!(pipeline::move_lead(db, &w.outsider, id, to("contacted"), today).await, Err(Error::NotFound)));
    assert!(matches!(pipeline::move_lead(db, &w.client, 987_654, to("contacted"), today).await, Err(Error::NotFound)));
    assert!(matches!(pipeline::move_lead(db, &w.client, id, to("won"), today).await, Err(Error::Invalid(_))), "won needs a deal value");
    assert!(matches!(pipeline::move_lead(db, &w.client, id, to("closed"), today).await, Err(Error::Invalid(_))));

    pipeline::move_lead(db, &w.client, id, to("contacted"), today).await.unwrap();
    let won = Move { to_stage: "won".into(), deal_value_cents: Some(2_500_00), ..Default::default() };
    pipeline::move_lead(db, &w.admin, id, won, today).await.unwrap();
    let (stage, won_day, value): (String, Option<NaiveDate>, Option<i64>) =
        on_db!(db, |p| sqlx::query_as("SELECT stage, won_day, deal_value_cents FROM leads WHERE id = $1").bind(id).fetch_one(p).await).unwrap();
    assert_eq!((stage.as_str(), won_day, value), ("won", Some(today), Some(2_500_00)));
    let lost = Move { to_stage: "lost".into(), lost_reason: Some("  went with a cousin  ".into()), ..Default::default() };
    pipeline::move_lead(db, &w.client, id, lost, today).await.unwrap();

    let d = pipeline::lead_detail(db, &w.viewer, id).await.unwrap();
    assert!(!d.can_write);
    let steps: Vec<(Option<&str>, &str, Option<&str>, Option<&str>)> =
        d.history.iter().map(|h| (h.from_stage.as_deref(), h.to_stage.as_str(), h.actor.as_deref(), h.note.as_deref())).collect();
    assert_eq!(
        steps,
        vec![
            (Some("new"), "contacted", Some("cal"), None),
            (Some("contacted"), "won", Some("ada"), Some("deal value 2500.00")),
            (Some("won"), "lost", Some("cal"), Some("went with a cousin")),
        ]
    );
    assert_eq!(d.lead.lost_reason.as_deref(), Some("went with a cousin"));
    let (won_day, value): (Option<NaiveDate>, Option<i64>) =
        on_db!(db, |p| sqlx::query_as("SELECT won_day, deal_value_cents FROM leads WHERE id = $1").bind(id).fetch_one(p).await).unwrap();
    assert_eq!((won_day, value), (None, Some(2_500_00)), "leaving won ends its won day; the quoted value stays on the lead");

    let evs = events::since(db, w.acme, 0, 100).await.unwrap();
    assert_eq!(evs.len(), 3);
    assert!(evs.iter().all(|e| e.kind == events::LEAD_STAGE_CHANGED && e.lead_id == Some(id)));
    assert_eq!(evs[0].actor_user_id, Some(w.client.user_id));
    assert!(events::since(db, w.beta, 0, 100).await.unwrap().is_empty(), "events stay in their workspace");
}

#[tokio::test]
async fn concurrent_moves_of_one_lead_end_on_the_last_write_with_an_unbroken_history() {
    let w = world().await;
    let id = lead(&w.db, w.acme, "race@x.test", "new", 3, None).await;
    let targets: [&'static str; 8] = ["contacted", "follow_up", "meeting_booked", "quote_sent", "lost", "contacted", "follow_up", "meeting_booked"];
    let mut tasks = Vec::new();
    for (i, t) in targets.into_iter().enumerate() {
        let (db, caller) = (w.db.clone(), if i % 2 == 0 { w.client.clone() } else { w.admin.clone() });
        tasks.push(tokio::spawn(async move { pipeline::move_lead(&db, &caller, id, to(t), day(21)).await }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let d = pipeline::lead_detail(&w.db, &w.admin, id).await.unwrap();
    assert!(!d.history.is_empty());
    // Each step leaves the stage the previous one entered, starting from `new`.
    let mut at = "new".to_string();
    for h in &d.history {
        assert_eq!(h.from_stage.as_deref(), Some(at.as_str()), "{:?}", d.history);
        at = h.to_stage.clone();
    }
    assert_eq!(d.lead.stage, at, "the lead is where its last recorded move put it");
}

#[tokio::test]
async fn notes_are_written_by_writers_and_edited_by_their_author_or_an_admin() {
    let w = world().await;
    let db = &w.db;
    let id = lead(db, w.acme, "nora@x.test", "new", 3, None).await;
    assert!(matches!(pipeline::add_note(db, &w.viewer, id, "hi").await, Err(Error::Forbidden)));
    assert!(matches!(pipeline::add_note(db, &w.outsider, id, "hi").await, Err(Error::NotFound)));
    assert!(matches!(pipeline::add_note(db, &w.client, id, "   ").await, Err(Error::Invalid(_))));
    let note = pipeline::add_note(db, &w.client, id, " Called, voicemail. ").await.unwrap();
    let other = user(db, "cy@acme.test", Role::Client).await;
    access::grant(db, other.user_id, w.acme, GrantLevel::Client, w.admin.user_id, Utc::now()).await.unwrap();
    assert!(matches!(pipeline::edit_note(db, &other, note, "mine now").await, Err(Error::Forbidden)));
    assert!(matches!(pipeline::edit_note(db, &w.outsider, note, "x").await, Err(Error::NotFound)));
    pipeline::edit_note(db, &w.client, note, "Called twice, voicemail.").await.unwrap();
    pipeline::edit_note(db, &w.admin, note, "Called twice; left a voicemail.").await.unwrap();
    let d = pipeline::lead_detail(db, &w.client, id).await.unwrap();
    assert_eq!(d.notes.len(), 1);
    assert_eq!((d.notes[0].author_name.as_str(), d.notes[0].body.as_str()), ("cal", "Called twice; left a voicemail."));
    assert!(d.notes[0].updated_at >= d.notes[0].created_at);
    assert_eq!(events::since(db, w.acme, 0, 10).await.unwrap().iter().filter(|e| e.kind == events::LEAD_NOTE_ADDED).count(), 3);
}

/// Issue 11 (16): an archived workspace is read-only for every writer, whatever the page shows.
#[tokio::test]
async fn an_archived_workspace_refuses_moves_and_notes_with_a_reason() {
    let w = world().await;
    let db = &w.db;
    let id = lead(db, w.acme, "kept@x.test", "new", 3, None).await;
    workspaces::set_active(db, w.acme, false).await.unwrap();
    for who in [&w.client, &w.admin] {
        let err = pipeline::move_lead(db, who, id, to("contacted"), day(4)).await.unwrap_err();
        assert!(matches!(err, Error::Conflict(ref m) if m.contains("archived")), "{err:?}");
        let err = pipeline::add_note(db, who, id, "still here?").await.unwrap_err();
        assert!(matches!(err, Error::Conflict(ref m) if m.contains("archived")), "{err:?}");
    }
    let err = backend::personalization::create_campaign(db, &w.admin, w.acme, "Spring", "", "").await.unwrap_err();
    assert!(matches!(err, Error::Conflict(ref m) if m.contains("archived")), "personalization too: {err:?}");
    // Reading still works, and nothing changed.
    let d = pipeline::lead_detail(db, &w.client, id).await.unwrap();
    assert_eq!((d.lead.stage, d.notes.len(), d.history.len()), (leads::Stage::New, 0, 0));
    // Reactivated, it takes changes again.
    workspaces::set_active(db, w.acme, true).await.unwrap();
    pipeline::move_lead(db, &w.client, id, to("contacted"), day(4)).await.unwrap();
}

/// Issue 11 (17): a note and its live event are one transaction — if the event can't be
/// written, no note is left behind for boards that would never hear of it.
#[tokio::test]
async fn a_note_is_never_stored_without_its_live_event() {
    let w = world().await;
    let db = &w.db;
    let id = lead(db, w.acme, "noted@x.test", "new", 3, None).await;
    match db {
        Db::Sqlite(p) => {
            sqlx::query("CREATE TRIGGER refuse_events BEFORE INSERT ON workspace_events BEGIN SELECT RAISE(ABORT, 'events refused'); END")
                .execute(p)
                .await
                .unwrap();
        }
        Db::Postgres(p) => {
            sqlx::query("CREATE FUNCTION refuse_events() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'events refused'; END $$ LANGUAGE plpgsql")
                .execute(p)
                .await
                .unwrap();
            sqlx::query("CREATE TRIGGER refuse_events BEFORE INSERT ON workspace_events FOR EACH ROW EXECUTE FUNCTION refuse_events()")
                .execute(p)
                .await
                .unwrap();
        }
    }
    assert!(pipeline::add_note(db, &w.client, id, "lost in the void?").await.is_err());
    let notes: i64 = on_db!(db, |p| sqlx::query_scalar("SELECT COUNT(*) FROM lead_notes WHERE lead_id = $1").bind(id).fetch_one(p).await).unwrap();
    assert_eq!(notes, 0, "the note went back with its event");
}
