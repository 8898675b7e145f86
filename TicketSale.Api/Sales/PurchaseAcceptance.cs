using Microsoft.Extensions.Options;
using StackExchange.Redis;
using TicketSale.Core.Data;
using TicketSale.Core.Inventory;
using TicketSale.Core.Messaging;
using TicketSale.Core.RateLimiting;

namespace TicketSale.Api.Sales;

/// <summary>What became of a request to buy a hold.</summary>
public enum AcceptanceOutcome
{
    /// <summary>Accepted now, or accepted by an earlier attempt with the same Idempotency-Key (a replay).</summary>
    Accepted,
    RateLimited,
    CampaignNotFound,
    HoldNotFound,
    HoldInOtherPurchase,

    /// <summary>The Idempotency-Key was used for another hold.</summary>
    KeyReused,

    /// <summary>The promo code is unknown, does not apply to the hold's tickets, or is used up: <see cref="Acceptance.Refusal"/> says which.</summary>
    PromoCodeRefused,
}

public sealed record Acceptance(AcceptanceOutcome Outcome, Guid PurchaseId, bool Replayed = false, Guid? OtherPurchaseId = null)
{
    /// <summary>The rate limit's decision, when it was checked.</summary>
    public RateDecision? Rate { get; init; }

    /// <summary>Why the promo code was refused.</summary>
    public Refusal? Refusal { get; init; }
}

/// <summary>
/// Accepts purchases of holds. The purchase's id comes from the buyer and the Idempotency-Key
/// (<see cref="PurchaseIds"/>), and every step is idempotent on it — pinning the hold, recording the pending status,
/// publishing — so a retry after a lost answer, a crashed replica or a timeout continues the first attempt or
/// replays its outcome: never a second purchase, never a "not found" for a purchase that exists.
/// </summary>
public sealed class PurchaseAcceptance(CampaignCatalog catalog, SeatInventory inventory, PurchasePublisher publisher,
    PurchaseStatusStore statuses, IConnectionMultiplexer redis, TokenBuckets rateLimits, IServiceScopeFactory scopes, IOptions<SalesOptions> options,
    TimeProvider time)
{
    /// <summary>
    /// Pins the hold so it cannot expire in the queue, records the purchase as pending, publishes it and waits for the
    /// broker's confirm. Throws what the broker throws when it cannot take the message; what this attempt did is undone
    /// then (an earlier attempt's pin and status stay: its message may be in the queue). A promo code's use is taken
    /// after the pin, when the hold's tickets are known, and given back with the rest when the purchase is undone.
    /// </summary>
    public async Task<Acceptance> AcceptAsync(Guid userId, string idempotencyKey, Guid campaignId, Guid holdId, string? promoCode,
        IReadOnlyList<TokenBucket> buckets, IReadOnlyList<TokenBucket> lookupBuckets, CancellationToken cancellationToken)
    {
        var purchaseId = PurchaseIds.For(userId, idempotencyKey);
        RateDecision? lookupRate = null;
        CampaignDetails? campaign;
        try
        {
            campaign = await catalog.GetAsync(campaignId,
                beforeDatabase: async () => (lookupRate = await rateLimits.TakeAsync(lookupBuckets)).Allowed, cancellationToken);
        }
        catch (CatalogLookupRefusedException)
        {
            return new(AcceptanceOutcome.RateLimited, purchaseId) { Rate = lookupRate };
        }

        if (campaign is not { Status: not CampaignStatus.Draft })
        {
            return new(AcceptanceOutcome.CampaignNotFound, purchaseId);
        }

        var now = time.GetUtcNow();
        var deadline = now + options.Value.PurchaseDeadline;

        // Pinned past the deadline: the Worker, not the hold sweeper, decides the fate of a hold being purchased. The
        // pin also checks the rate limit and reads the hold (only the user's own): one Redis round trip for the three.
        // Pinning a hold pinned by this same purchase succeeds: that is a retry of an attempt that did not finish.
        var hold = await inventory.PinAsync(campaignId, holdId, userId, purchaseId, deadline + TimeSpan.FromMinutes(5), buckets);
        switch (hold.Status)
        {
            case PinStatus.RateLimited:
                return new(AcceptanceOutcome.RateLimited, purchaseId) { Rate = hold.Rate };
            case PinStatus.NotFound or PinStatus.Expired:
                // The hold is gone: bought or failed by this very purchase (a retry after the outcome), or never ours.
                return await ReplayAsync(purchaseId, userId, holdId) with { Rate = hold.Rate };
            case PinStatus.OtherPurchase:
                return new(AcceptanceOutcome.HoldInOtherPurchase, purchaseId, OtherPurchaseId: hold.OtherPurchaseId) { Rate = hold.Rate };
        }

        var tickets = campaign.TicketsOf(hold.Seats, hold.GeneralAdmissionCategoryId, hold.Quantity);
        var amount = tickets.Sum(t => t.PriceCents);
        var db = redis.GetDatabase();
        // Pin, status, publish, in this order: a purchase with no pending status was never published.
        var recordedNow = await PurchaseOutcomeChannel.RecordPendingAsync(db, purchaseId, userId, holdId);
        if (!recordedNow)
        {
            // A status exists: an earlier attempt with this key got this far.
            var earlier = await PurchaseOutcomeChannel.ReadAsync(db, purchaseId);
            if (earlier?.HoldId is { } earlierHold && earlierHold != holdId)
            {
                await inventory.UnpinAsync(campaignId, holdId, purchaseId);
                return new(AcceptanceOutcome.KeyReused, purchaseId) { Rate = hold.Rate };
            }

            if (earlier is { Status: not "Pending" })
            {
                return new(AcceptanceOutcome.Accepted, purchaseId, Replayed: true) { Rate = hold.Rate };
            }
        }

        if (promoCode is not null)
        {
            await using var scope = scopes.CreateAsyncScope();
            var use = await scope.ServiceProvider.GetRequiredService<PromoCodes>().TakeAsync(campaignId, purchaseId, tickets, promoCode, cancellationToken);
            if (use.Refusal is { } refusal)
            {
                // Undone only when this attempt pinned and recorded it, as below.
                if (recordedNow)
                {
                    await Task.WhenAll(inventory.UnpinAsync(campaignId, holdId, purchaseId), PurchaseOutcomeChannel.ForgetPendingAsync(db, purchaseId));
                }

                return new(AcceptanceOutcome.PromoCodeRefused, purchaseId) { Rate = hold.Rate, Refusal = refusal };
            }

            amount -= use.Value!.DiscountCents;
        }

        try
        {
            // Published again on a retry: the earlier attempt may have died before the broker had it, and the Worker
            // decides a purchase once however many copies of its message arrive.
            await publisher.PublishAsync(new PurchaseRequested(purchaseId, userId, campaignId, holdId, hold.Seats,
                hold.GeneralAdmissionCategoryId, hold.Quantity, amount, now, deadline), CancellationToken.None);
        }
        catch when (recordedNow)
        {
            // Undone only when this attempt recorded the status: an earlier attempt's message may be in the queue.
            await Task.WhenAll(inventory.UnpinAsync(campaignId, holdId, purchaseId), PurchaseOutcomeChannel.ForgetPendingAsync(db, purchaseId),
                promoCode is null ? Task.CompletedTask : ReleasePromoUseAsync(purchaseId));
            throw;
        }

        return new(AcceptanceOutcome.Accepted, purchaseId) { Rate = hold.Rate };
    }

    private async Task ReleasePromoUseAsync(Guid purchaseId)
    {
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<PromoCodes>().ReleaseAsync(purchaseId);
    }

    private async Task<Acceptance> ReplayAsync(Guid purchaseId, Guid userId, Guid holdId) =>
        await statuses.FindAsync(purchaseId, userId) switch
        {
            null => new(AcceptanceOutcome.HoldNotFound, purchaseId),
            { HoldId: { } earlierHold } when earlierHold != holdId => new(AcceptanceOutcome.KeyReused, purchaseId),
            _ => new(AcceptanceOutcome.Accepted, purchaseId, Replayed: true),
        };
}
