using Microsoft.Extensions.Options;
using TicketSale.Core.Data;
using TicketSale.Core.Inventory;
using TicketSale.Core.WaitingRoom;

namespace TicketSale.Api.Sales;

/// <summary>What became of a request for a hold: refused before Redis was asked, or the hold script's answer.</summary>
public sealed record HoldAttempt(Guid HoldId, int Quantity, Refusal? Refusal, HoldResult? Result, CampaignDetails? Campaign)
{
    public static implicit operator HoldAttempt(Refusal refusal) => new(Guid.Empty, 0, refusal, null, null);
}

/// <summary>
/// Holds specific seats, or a quantity of general admission, all or nothing, in one Redis script: every seat free,
/// the per-user limit (holds and orders together) respected, and an expiry set.
/// </summary>
public sealed class HoldPlacement(CampaignCatalog catalog, SeatInventory inventory, IServiceScopeFactory scopes, AdmissionTokens admissions,
    IOptions<SalesOptions> options, TimeProvider time)
{
    /// <param name="admissionToken">The waiting room's token, for a campaign behind one.</param>
    /// <param name="buckets">The caller's rate-limit buckets, checked inside the hold script (keys in the campaign's hash slot).</param>
    public async Task<HoldAttempt> PlaceAsync(Guid campaignId, Guid userId, HoldRequest request, string? admissionToken,
        IReadOnlyList<TokenBucket> buckets, CancellationToken cancellationToken)
    {
        var seats = request.Seats ?? [];
        var isGeneralAdmission = request.GeneralAdmissionCategoryId is not null;
        if (isGeneralAdmission == seats.Count > 0)
        {
            return Refusal.Invalid("seats", "Hold either seats, or a general-admission category and a quantity.");
        }

        if (seats.Count > options.Value.MaxSeatsPerHold)
        {
            return Refusal.Invalid("seats", $"At most {options.Value.MaxSeatsPerHold} seats per hold.");
        }

        if (seats.Distinct().Count() != seats.Count)
        {
            return Refusal.Invalid("seats", "A seat is listed twice.");
        }

        if (isGeneralAdmission && request.Quantity is not (>= 1 and <= 20))
        {
            return Refusal.Invalid("quantity", "Between 1 and 20 tickets per hold.");
        }

        if (await catalog.GetAsync(campaignId, cancellationToken) is not { Status: not CampaignStatus.Draft } campaign)
        {
            return Refusal.NotFound("No such campaign.");
        }

        if (!campaign.IsOnSale(time.GetUtcNow()))
        {
            return new Refusal(RefusalReason.NotOnSale, "The campaign is not on sale.");
        }

        // The token is checked here without Redis; the hold script checks that the admission still runs (not left).
        if (campaign.WaitingRoomEnabled && !admissions.IsValid(admissionToken, campaignId, userId, time.GetUtcNow()))
        {
            return new Refusal(RefusalReason.AdmissionRequired, AdmissionRequired);
        }

        foreach (var seat in seats)
        {
            if (seat < 0 || seat >= campaign.SeatCount)
            {
                return Refusal.NotFound($"Seat {seat} does not exist in this venue.");
            }
        }

        if (isGeneralAdmission && campaign.GeneralAdmission.All(g => g.Id != request.GeneralAdmissionCategoryId))
        {
            return Refusal.NotFound("No such general-admission category in this campaign.");
        }

        var arguments = new HoldArguments(Guid.CreateVersion7(), userId, TimeSpan.FromSeconds(campaign.HoldSeconds), campaign.PerUserLimit,
            request.GeneralAdmissionCategoryId, isGeneralAdmission ? request.Quantity!.Value : 0, seats, buckets, campaign.WaitingRoomEnabled);
        var result = await inventory.HoldAsync(campaignId, arguments);
        if (result.Status == HoldStatus.NotLoaded)
        {
            // Redis lost the campaign: load it from PostgreSQL and try once more (its rate limit was already taken).
            await using var scope = scopes.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<InventoryLoader>().EnsureLoadedAsync(campaignId, cancellationToken);
            result = await inventory.HoldAsync(campaignId, arguments with { Buckets = [] });
        }

        return new HoldAttempt(arguments.HoldId, arguments.Quantity, null, result, campaign);
    }

    public const string AdmissionRequired =
        "Holding seats needs a valid admission token from this campaign's waiting room, and an admission that still runs.";
}

// Checked by HoldPlacement (the group runs no validation filter): the seats against the configured limit, at most 100.
public sealed record HoldRequest(
    IReadOnlyList<int>? Seats,
    Guid? GeneralAdmissionCategoryId,
    int? Quantity);
