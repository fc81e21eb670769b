//! Coupons: operators create them (audited); a user previews one against a plan, and an order
//! reserves it (`payments`), consumed once at capture or given back when the order fails or
//! expires (docs/money.md).

use chrono::Utc;
use serde_json::json;
use talktime_domain::account::Account;
use talktime_domain::coupon::CouponSettings;
use talktime_domain::coupon::{Applicant, Applied, Coupon, CouponRefusal, Redemption};
use talktime_domain::ids::{AdminId, PlanId, TransactionId};
use talktime_domain::money::{Paise, discounted_price};
use talktime_domain::page::Page;
use talktime_domain::plan::Plan;
use talktime_repository::coupons::{self, Reservation};
use talktime_repository::{Db, RepoError, Tx, audit, plans, transactions};
use uuid::Uuid;

use crate::ServiceError;

/// A coupon applied to a plan: what the order charges and gives.
#[derive(Debug, Clone)]
pub struct Quote {
    pub coupon: Coupon,
    pub plan: Plan,
    /// The plan's price after its own discount.
    pub price: Paise,
    pub applied: Applied,
}

/// The 400 a refused code answers, with its `reason`.
pub fn refused(reason: CouponRefusal) -> ServiceError {
    let message = match reason {
        CouponRefusal::Expired => "This coupon has expired",
        CouponRefusal::Exhausted => "This coupon has no redemptions left for you",
        CouponRefusal::NotEligible => "This coupon does not apply to this purchase",
        CouponRefusal::Unknown => "No such coupon",
    };
    ServiceError::invalid("coupon_invalid", message).with_details(json!({ "reason": reason }))
}

fn coupon_not_found() -> ServiceError {
    ServiceError::not_found("coupon_not_found", "Coupon not found")
}

fn coupon_json(c: &Coupon) -> serde_json::Value {
    json!({
        "code": c.code, "kind": c.kind, "value": c.value, "maxRedemptions": c.max_redemptions,
        "perUserLimit": c.per_user_limit, "validFrom": c.valid_from, "validUntil": c.valid_until,
        "newUsersOnly": c.new_users_only, "planIds": c.plan_ids, "isActive": c.is_active,
    })
}

pub struct CouponService {
    db: Db,
}

impl CouponService {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// `POST /admin/coupons` (audited `coupon.create`); 409 `coupon_code_taken`.
    pub async fn create(&self, by: AdminId, settings: CouponSettings) -> Result<Coupon, ServiceError> {
        check_settings(&settings)?;
        self.known_plans(&settings.plan_ids).await?;
        let mut tx = self.db.begin().await?;
        let coupon = coupons::save(&mut tx, Uuid::now_v7(), &settings).await.map_err(taken)?;
        audit::audit(&mut tx, by, "coupon.create", "coupon", Some(coupon.id), json!(null), coupon_json(&coupon))
            .await?;
        tx.commit().await.map_err(RepoError::from)?;
        Ok(coupon)
    }

    /// `PATCH /admin/coupons/{id}`: `edit` changes what it wants of the settings (deactivating
    /// one is `isActive: false`); audited `coupon.update`.
    pub async fn update(
        &self,
        by: AdminId,
        id: Uuid,
        edit: impl FnOnce(&mut CouponSettings),
    ) -> Result<Coupon, ServiceError> {
        let mut tx = self.db.begin().await?;
        let before = coupons::lock(&mut tx, id).await?.ok_or_else(coupon_not_found)?;
        let mut settings = CouponSettings::from(&before);
        edit(&mut settings);
        check_settings(&settings)?;
        self.known_plans(&settings.plan_ids).await?;
        let after = coupons::save(&mut tx, id, &settings).await.map_err(taken)?;
        audit::audit(&mut tx, by, "coupon.update", "coupon", Some(id), coupon_json(&before), coupon_json(&after))
            .await?;
        tx.commit().await.map_err(RepoError::from)?;
        Ok(after)
    }

    pub async fn list(&self, limit: i64, offset: i64) -> Result<Page<Coupon>, ServiceError> {
        Ok(coupons::page(&self.db, limit, offset).await?)
    }

    /// One coupon and a page of its redemptions, newest first.
    pub async fn detail(&self, id: Uuid, limit: i64, offset: i64) -> Result<(Coupon, Page<Redemption>), ServiceError> {
        let coupon = coupons::find(self.db.pool(), id).await?.ok_or_else(coupon_not_found)?;
        Ok((coupon, coupons::redemptions(&self.db, id, limit, offset).await?))
    }

    async fn known_plans(&self, ids: &[Uuid]) -> Result<(), ServiceError> {
        let mut distinct = ids.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        if plans::count_existing(self.db.pool(), &distinct).await? != distinct.len() as i64 {
            return Err(ServiceError::invalid_field("planIds", "plan_not_found", "Every plan id must name a plan"));
        }
        Ok(())
    }

    /// `POST /users/coupons/check` and the first step of an order: the code applied to an
    /// active plan for this user now, or 400 `coupon_invalid` with the reason.
    pub async fn quote(&self, user: &Account, code: &str, plan: PlanId) -> Result<Quote, ServiceError> {
        let plan = plans::find_active(self.db.pool(), plan)
            .await?
            .ok_or_else(|| ServiceError::not_found("plan_not_found", "Plan not found"))?;
        let coupon =
            coupons::find_by_code(self.db.pool(), code.trim()).await?.ok_or_else(|| refused(CouponRefusal::Unknown))?;
        let who = Applicant {
            plan: plan.id,
            now: Utc::now(),
            is_new_user: !transactions::has_successful_recharge(self.db.pool(), user.id).await?,
            used_by_her: coupons::used_by(self.db.pool(), coupon.id, user.id).await?,
        };
        if let Some(reason) = coupon.refusal(&who) {
            return Err(refused(reason));
        }
        let price = discounted_price(Paise(plan.amount_paise), plan.discount_hundredths);
        let applied = coupon.apply(price, plan.coins);
        Ok(Quote { coupon, plan, price, applied })
    }

    /// Takes a redemption for the order in `tx` (400 `coupon_invalid` `exhausted` when the last
    /// one went to another order meanwhile).
    pub async fn reserve(
        &self,
        tx: &mut Tx,
        user: &Account,
        quote: &Quote,
        order: TransactionId,
    ) -> Result<(), ServiceError> {
        let reservation = Reservation {
            coupon: quote.coupon.id,
            account: user.id,
            transaction: order,
            discount_paise: quote.applied.discount.0,
            bonus_coins: quote.applied.bonus_coins,
        };
        if !coupons::reserve(tx, &reservation, quote.coupon.per_user_limit).await? {
            return Err(refused(CouponRefusal::Exhausted));
        }
        Ok(())
    }
}

/// A code taken by another coupon is 409 `coupon_code_taken`.
fn taken(error: RepoError) -> ServiceError {
    if error.is_unique(coupons::CODE_TAKEN) {
        ServiceError::conflict("coupon_code_taken", "Another coupon has this code")
    } else {
        error.into()
    }
}

/// The rules a request's schema cannot hold alone: a percent at most 100 (a discount below it),
/// a window that ends after it starts.
pub fn check_settings(s: &CouponSettings) -> Result<(), ServiceError> {
    use talktime_domain::coupon::CouponKind;
    let max = match s.kind {
        CouponKind::BonusCoins => i64::MAX,
        CouponKind::BonusPercent => 100,
        CouponKind::DiscountPercent => 99,
    };
    if s.value > max {
        return Err(ServiceError::invalid_field(
            "value",
            "validation_error",
            format!("must be at most {max} for this kind"),
        ));
    }
    if let (Some(from), Some(until)) = (s.valid_from, s.valid_until)
        && from >= until
    {
        return Err(ServiceError::invalid_field("validUntil", "validation_error", "must be after validFrom"));
    }
    Ok(())
}
