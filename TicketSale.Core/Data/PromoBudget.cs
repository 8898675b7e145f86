using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace TicketSale.Core.Data;

/// <summary>
/// The SQL that takes and gives back a promo code's uses. A use is taken by a guarded increment ("used &lt; budget")
/// together with the purchase's redemption row, and given back by deleting that row and decrementing in one
/// statement: a purchase holds at most one use (the row's key is the purchase id), and giving it back twice is a
/// no-op.
/// </summary>
public static class PromoBudget
{
    /// <summary>$1 code, $2 purchase, $3 campaign, $4 discount, $5 now. Returns a row when the use was taken.</summary>
    public const string TakeSql =
        """
        WITH taken AS (
            UPDATE "PromoCodes" SET "Used" = "Used" + 1 WHERE "Id" = $1 AND "Used" < "Budget" RETURNING "Id")
        INSERT INTO "PromoRedemptions" ("PurchaseId", "PromoCodeId", "CampaignId", "DiscountCents", "ReservedAt")
        SELECT $2, "Id", $3, $4, $5 FROM taken
        RETURNING "DiscountCents"
        """;

    /// <summary>Gives the purchase's use back, if it holds one, in the caller's transaction if it has one.</summary>
    public static Task<int> ReleaseAsync(DatabaseFacade database, Guid purchaseId, CancellationToken cancellationToken = default) =>
        database.ExecuteSqlAsync(
            $"""
            WITH released AS (DELETE FROM "PromoRedemptions" WHERE "PurchaseId" = {purchaseId} RETURNING "PromoCodeId")
            UPDATE "PromoCodes" SET "Used" = "Used" - 1 WHERE "Id" IN (SELECT "PromoCodeId" FROM released)
            """, cancellationToken);
}
