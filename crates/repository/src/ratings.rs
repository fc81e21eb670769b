//! Rating tallies: per telecaller and for the platform, moved in the transaction that adds or
//! hides a rating (so a card reads two rows, never every rating).

use talktime_domain::ids::AccountId;

use crate::{RepoError, Tx};

/// Adds `sum` and `count` (negative to take a hidden rating out) to her tally and the platform's.
pub async fn tally(tx: &mut Tx, telecaller: AccountId, sum: i64, count: i64) -> Result<(), RepoError> {
    // Postgres checks an upsert's proposed row before it finds the conflict, so a decrement (of
    // a tally that must exist: its rating was counted) is a plain update.
    if count >= 0 {
        sqlx::query!(
            "INSERT INTO telecaller_ratings (telecaller_id, rating_sum, rating_count) VALUES ($1, $2, $3) \
             ON CONFLICT (telecaller_id) DO UPDATE SET rating_sum = telecaller_ratings.rating_sum + $2, \
             rating_count = telecaller_ratings.rating_count + $3",
            telecaller.0,
            sum,
            count
        )
        .execute(&mut **tx)
        .await?;
    } else {
        sqlx::query!(
            "UPDATE telecaller_ratings SET rating_sum = rating_sum + $2, rating_count = rating_count + $3 \
             WHERE telecaller_id = $1",
            telecaller.0,
            sum,
            count
        )
        .execute(&mut **tx)
        .await?;
    }
    sqlx::query!(
        "UPDATE rating_totals SET rating_sum = rating_sum + $1, rating_count = rating_count + $2 WHERE id",
        sum,
        count
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}
