//! What serving a client costs the agency: recurring monthly costs (prorated month to date like
//! retainers) and one-off costs on their day. Read by [`crate::reporting::revenue`].

use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    platform::db::Db,
    platform::error::{Error, Result},
    on_db,
};
use crate::{
    identity::{audit, auth::ClientInfo, sessions::SessionUser},
    tenancy::{access::require_admin, workspaces},
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct Cost {
    pub id: i64,
    pub workspace_id: i64,
    pub category: String,
    pub description: String,
    pub amount_cents: i64,
    /// `monthly` or `one_off`.
    pub recurrence: String,
    /// One-off: the day it was incurred; monthly: the first day it applies.
    pub starts_on: NaiveDate,
    /// Monthly: the last day it applies (None = ongoing).
    pub ends_on: Option<NaiveDate>,
}

#[derive(Clone, Debug)]
pub struct NewCost {
    pub category: String,
    pub description: String,
    pub amount_cents: i64,
    pub recurrence: String,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
}

pub async fn list(db: &Db, workspace_id: i64) -> Result<Vec<Cost>> {
    Ok(on_db!(db, |pool| sqlx::query_as::<_, Cost>(
        "SELECT id, workspace_id, category, description, amount_cents, recurrence, starts_on, ends_on FROM client_costs \
         WHERE workspace_id = $1 ORDER BY starts_on DESC, id DESC"
    )
    .bind(workspace_id)
    .fetch_all(pool)
    .await)?)
}

pub async fn add(db: &Db, workspace_id: i64, c: NewCost) -> Result<i64> {
    let category = c.category.trim();
    if category.is_empty() || category.chars().count() > 60 {
        return Err(Error::invalid("The category must be 1 to 60 characters (e.g. software, inboxes, data)."));
    }
    if c.amount_cents <= 0 {
        return Err(Error::invalid("The amount must be more than $0."));
    }
    if !matches!(c.recurrence.as_str(), "monthly" | "one_off") {
        return Err(Error::invalid("A cost is either monthly or one_off."));
    }
    if c.recurrence == "one_off" && c.ends_on.is_some() {
        return Err(Error::invalid("A one-off cost has no end date."));
    }
    if c.ends_on.is_some_and(|e| e < c.starts_on) {
        return Err(Error::invalid("The end date is before the start date."));
    }
    Ok(on_db!(db, |pool| sqlx::query_scalar::<_, i64>(
        "INSERT INTO client_costs (workspace_id, category, description, amount_cents, recurrence, starts_on, ends_on, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id"
    )
    .bind(workspace_id)
    .bind(category)
    .bind(c.description.trim())
    .bind(c.amount_cents)
    .bind(&c.recurrence)
    .bind(c.starts_on)
    .bind(c.ends_on)
    .bind(Utc::now())
    .fetch_one(pool)
    .await)?)
}

/// Deletes a cost of this workspace (`NotFound` for another workspace's cost).
pub async fn delete(db: &Db, workspace_id: i64, cost_id: i64) -> Result<()> {
    let n = on_db!(db, |pool| sqlx::query("DELETE FROM client_costs WHERE id = $1 AND workspace_id = $2")
        .bind(cost_id)
        .bind(workspace_id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
    if n == 0 {
        return Err(Error::NotFound);
    }
    Ok(())
}

pub async fn add_cost(db: &Db, caller: &SessionUser, workspace_id: i64, cost: NewCost, client: &ClientInfo) -> Result<i64> {
    require_admin(caller)?;
    workspaces::get(db, workspace_id).await?;
    let id = add(db, workspace_id, cost).await?;
    audit::record(db, Some(caller), None, "cost.added", Some(&format!("workspace:{workspace_id} cost:{id}")), client.ip.as_deref()).await?;
    Ok(id)
}

pub async fn delete_cost(db: &Db, caller: &SessionUser, workspace_id: i64, cost_id: i64, client: &ClientInfo) -> Result<()> {
    require_admin(caller)?;
    delete(db, workspace_id, cost_id).await?;
    audit::record(db, Some(caller), None, "cost.deleted", Some(&format!("workspace:{workspace_id} cost:{cost_id}")), client.ip.as_deref()).await
}
