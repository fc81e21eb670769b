//! Coin packs as operators manage them (audited); users read them through the catalog.

use serde_json::json;
use talktime_domain::ids::{AdminId, PlanId};
use talktime_domain::plan::Plan;
use talktime_repository::plans::{self, NewPlan};
use talktime_repository::{RepoError, audit};

use crate::ServiceError;
use crate::admin::AdminService;
use crate::catalog::PageRequest;

/// A plan as an operator writes it; `None` keeps the current value on update.
#[derive(Debug, Clone, Default)]
pub struct PlanInput {
    pub amount_paise: Option<i64>,
    pub coins: Option<i64>,
    pub discount_hundredths: Option<i32>,
    pub is_active: Option<bool>,
}

fn plan_json(p: &Plan) -> serde_json::Value {
    json!({ "amountPaise": p.amount_paise, "coins": p.coins, "discountPercentage": talktime_domain::money::from_hundredths(p.discount_hundredths.into()), "isActive": p.is_active })
}

fn plan_not_found() -> ServiceError {
    ServiceError::not_found("plan_not_found", "Plan not found")
}

impl AdminService {
    /// A page of the plans (active or not, deleted ones excluded), by price, with their count.
    pub async fn plans(&self, page: PageRequest) -> Result<talktime_domain::page::Page<Plan>, ServiceError> {
        Ok(plans::page(self.db(), page.limit(), page.offset()).await?)
    }

    pub async fn create_plan(&self, by: AdminId, input: PlanInput) -> Result<Plan, ServiceError> {
        let (Some(amount_paise), Some(coins)) = (input.amount_paise, input.coins) else {
            return Err(ServiceError::invalid("validation_error", "amount and coins are required"));
        };
        let plan = NewPlan {
            amount_paise,
            coins,
            discount_hundredths: input.discount_hundredths.unwrap_or(0),
            is_active: input.is_active.unwrap_or(true),
        };
        let mut tx = self.db().begin().await?;
        let created = plans::create(&mut *tx, &plan).await?;
        audit::audit(&mut tx, by, "plan.create", "plan", Some(created.id.0), json!(null), plan_json(&created)).await?;
        tx.commit().await.map_err(RepoError::from)?;
        Ok(created)
    }

    pub async fn update_plan(&self, by: AdminId, id: PlanId, input: PlanInput) -> Result<Plan, ServiceError> {
        let mut tx = self.db().begin().await?;
        let before = plans::lock(&mut tx, id).await?.ok_or_else(plan_not_found)?;
        let changed = Plan {
            amount_paise: input.amount_paise.unwrap_or(before.amount_paise),
            coins: input.coins.unwrap_or(before.coins),
            discount_hundredths: input.discount_hundredths.unwrap_or(before.discount_hundredths),
            is_active: input.is_active.unwrap_or(before.is_active),
            ..before.clone()
        };
        let after = plans::update(&mut tx, &changed).await?;
        audit::audit(&mut tx, by, "plan.update", "plan", Some(id.0), plan_json(&before), plan_json(&after)).await?;
        tx.commit().await.map_err(RepoError::from)?;
        Ok(after)
    }

    pub async fn delete_plan(&self, by: AdminId, id: PlanId) -> Result<(), ServiceError> {
        let mut tx = self.db().begin().await?;
        let before = plans::lock(&mut tx, id).await?.ok_or_else(plan_not_found)?;
        plans::soft_delete(&mut tx, id).await?;
        audit::audit(&mut tx, by, "plan.delete", "plan", Some(id.0), plan_json(&before), json!({ "deleted": true }))
            .await?;
        tx.commit().await.map_err(RepoError::from)?;
        Ok(())
    }
}
