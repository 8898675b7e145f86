using System.ComponentModel.DataAnnotations;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using TicketSale.Core.Data;

namespace TicketSale.Api.Sales;

/// <summary>A promo code as the console shows it.</summary>
public sealed record PromoCodeView(Guid Id, Guid CampaignId, string Code, PromoKind Kind, long Value, string? Category, int Budget, int Used, DateTimeOffset CreatedAt)
{
    public static PromoCodeView From(PromoCode c) => new(c.Id, c.CampaignId, c.Code, c.Kind, c.Value, c.Category, c.Budget, c.Used, c.CreatedAt);
}

public sealed record PromoCodeRequest(
    [property: Required, RegularExpression(PromoCodes.CodePattern, ErrorMessage = "3 to 32 letters, digits or '-'.")] string Code,
    [property: Required] PromoKind? Kind,
    [property: Range(1, 100_000_000)] long Value,
    [property: StringLength(50)] string? Category,
    [property: Range(1, 1_000_000)] int Budget);

/// <summary>What a hold costs, with a promo code's discount when one is given.</summary>
public sealed record PriceQuote(long TotalCents, long DiscountCents, long AmountCents, string? PromoCode, int? UsesLeft);

/// <summary>A promo code's use taken for a purchase: the discount it gives.</summary>
public sealed record PromoUse(Guid CodeId, long DiscountCents);

/// <summary>
/// Promo codes: what they take off a hold's price, and their budget of uses. A use is taken when a purchase is accepted
/// (a guarded increment in PostgreSQL, <see cref="PromoBudget"/>) and given back when the purchase fails or its order
/// is cancelled, so the budget counts the purchases that hold a use and concurrency can never overspend it.
/// </summary>
public sealed partial class PromoCodes(NpgsqlDataSource dataSource, TicketSaleDbContext db, TimeProvider time)
{
    public const string CodePattern = "^[A-Za-z0-9-]{3,32}$";

    /// <summary>The discount a code gives on the tickets it applies to (a percentage, or an amount, never below zero).</summary>
    public static long Discount(PromoKind kind, long value, string? category, IEnumerable<PricedTicket> tickets) =>
        tickets.Where(t => category is null || string.Equals(t.Category, category, StringComparison.OrdinalIgnoreCase))
            .Sum(t => kind == PromoKind.Percent ? t.PriceCents * Math.Min(value, 100) / 100 : Math.Min(value, t.PriceCents));

    public async Task<Outcome<PromoCodeView>> CreateAsync(CampaignDetails campaign, PromoCodeRequest request, CancellationToken cancellationToken)
    {
        if (request.Kind == PromoKind.Percent && request.Value > 100)
        {
            return Refusal.Invalid(nameof(request.Value), "A percentage is at most 100.");
        }

        var categories = campaign.Prices.Select(p => p.Category).Concat(campaign.GeneralAdmission.Select(g => g.Name)).ToList();
        var category = request.Category is { Length: > 0 } named ? categories.FirstOrDefault(c => string.Equals(c, named, StringComparison.OrdinalIgnoreCase)) : null;
        if (request.Category is { Length: > 0 } && category is null)
        {
            return Refusal.Invalid(nameof(request.Category), $"The campaign has no category \"{request.Category}\"; it has: {string.Join(", ", categories)}.");
        }

        var code = new PromoCode
        {
            Id = Guid.CreateVersion7(),
            CampaignId = campaign.Id,
            Code = request.Code.ToUpperInvariant(),
            Kind = request.Kind!.Value,
            Value = request.Value,
            Category = category,
            Budget = request.Budget,
            CreatedAt = time.GetUtcNow(),
        };
        db.PromoCodes.Add(code);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            return Refusal.Invalid(nameof(request.Code), $"The campaign has a code {code.Code} already.");
        }

        return PromoCodeView.From(code);
    }

    public async Task<IReadOnlyList<PromoCodeView>> ListAsync(Guid campaignId, CancellationToken cancellationToken)
    {
        var codes = await db.PromoCodes.AsNoTracking().Where(c => c.CampaignId == campaignId).OrderBy(c => c.Code).ToListAsync(cancellationToken);
        return codes.ConvertAll(PromoCodeView.From);
    }

    /// <summary>The hold's price, with the code's discount; refused when the code is unknown, applies to none of its tickets or is used up.</summary>
    public async Task<Outcome<PriceQuote>> QuoteAsync(CampaignDetails campaign, IReadOnlyList<PricedTicket> tickets, string? promoCode, CancellationToken cancellationToken)
    {
        var total = tickets.Sum(t => t.PriceCents);
        if (promoCode is null)
        {
            return new PriceQuote(total, 0, total, null, null);
        }

        var priced = await PriceAsync(campaign.Id, tickets, promoCode, cancellationToken);
        if (priced.Refusal is { } refusal)
        {
            return refusal;
        }

        var (code, discount) = priced.Value!;
        return code.Used >= code.Budget
            ? UsedUp(code.Code)
            : new PriceQuote(total, discount, total - discount, code.Code, code.Budget - code.Used);
    }

    /// <summary>
    /// Takes a use of the code for the purchase, or finds the one an earlier attempt of the same purchase took.
    /// Refused when the code is unknown, does not apply, or its budget is spent.
    /// </summary>
    public async Task<Outcome<PromoUse>> TakeAsync(Guid campaignId, Guid purchaseId, IReadOnlyList<PricedTicket> tickets, string promoCode, CancellationToken cancellationToken)
    {
        if (await FindUseAsync(purchaseId, cancellationToken) is { } earlier)
        {
            return earlier;
        }

        var priced = await PriceAsync(campaignId, tickets, promoCode, cancellationToken);
        if (priced.Refusal is { } refusal)
        {
            return refusal;
        }

        var (code, discount) = priced.Value!;
        try
        {
            await using var take = dataSource.CreateCommand(PromoBudget.TakeSql);
            take.Parameters.Add(new() { Value = code.Id });
            take.Parameters.Add(new() { Value = purchaseId });
            take.Parameters.Add(new() { Value = campaignId });
            take.Parameters.Add(new() { Value = discount });
            take.Parameters.Add(new() { Value = time.GetUtcNow() });
            return await take.ExecuteScalarAsync(cancellationToken) is long taken ? new PromoUse(code.Id, taken) : UsedUp(code.Code);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // Two attempts of the same purchase at once: the other took the use.
            return (await FindUseAsync(purchaseId, cancellationToken))!;
        }
    }

    /// <summary>Gives the purchase's use back (a purchase that could not be published).</summary>
    public Task ReleaseAsync(Guid purchaseId) => PromoBudget.ReleaseAsync(db.Database, purchaseId);

    public static Refusal UsedUp(string code) => new(RefusalReason.UsedUp, $"The promo code {code} has been used as many times as it may be.", "promoCode");

    private async Task<Outcome<CodePrice>> PriceAsync(Guid campaignId, IReadOnlyList<PricedTicket> tickets, string promoCode, CancellationToken cancellationToken)
    {
        if (!CodeFormat().IsMatch(promoCode))
        {
            return Refusal.Invalid("promoCode", "3 to 32 letters, digits or '-'.");
        }

        var normalized = promoCode.ToUpperInvariant();
        var code = await db.PromoCodes.AsNoTracking().FirstOrDefaultAsync(c => c.CampaignId == campaignId && c.Code == normalized, cancellationToken);
        if (code is null)
        {
            return Refusal.Invalid("promoCode", "No such promo code for this campaign.");
        }

        var discount = Discount(code.Kind, code.Value, code.Category, tickets);
        return discount > 0
            ? new CodePrice(code, discount)
            : Refusal.Invalid("promoCode", $"The promo code {code.Code} applies to {code.Category} tickets only.");
    }

    private async Task<PromoUse?> FindUseAsync(Guid purchaseId, CancellationToken cancellationToken)
    {
        await using var find = dataSource.CreateCommand("""SELECT "PromoCodeId", "DiscountCents" FROM "PromoRedemptions" WHERE "PurchaseId" = $1""");
        find.Parameters.Add(new() { Value = purchaseId });
        await using var reader = await find.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new PromoUse(reader.GetGuid(0), reader.GetInt64(1)) : null;
    }

    private sealed record CodePrice(PromoCode Code, long Discount);

    [GeneratedRegex(CodePattern)]
    private static partial Regex CodeFormat();
}
