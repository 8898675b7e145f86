using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using TicketSale.Core.Data;

namespace TicketSale.Api.Sales;

/// <param name="Url">Where the events are POSTed: an absolute http or https address.</param>
/// <param name="Events">Some of <see cref="OrderEvents.Webhooks"/>.</param>
/// <param name="CampaignId">One campaign's events only; every campaign's when absent.</param>
public sealed record WebhookRequest([property: Required, StringLength(2000)] string Url, [property: Required] IReadOnlyList<string> Events, Guid? CampaignId);

/// <param name="Secret">The key receivers check signatures with (Standard Webhooks: "whsec_" and base64).</param>
public sealed record WebhookView(Guid Id, string Url, IReadOnlyList<string> Events, Guid? CampaignId, string Secret, bool Active, DateTimeOffset CreatedAt)
{
    public static WebhookView From(WebhookSubscription s) => new(s.Id, s.Url, s.Events.Split(','), s.CampaignId, s.Secret, s.Active, s.CreatedAt);
}

public sealed record WebhookAttemptView(DateTimeOffset At, int? StatusCode, string? Error, int DurationMs);

public sealed record WebhookDeliveryView(long Id, string EventType, string EventId, WebhookDeliveryStatus Status, int Attempts, DateTimeOffset NextAttemptAt,
    int? LastStatusCode, string? LastError, DateTimeOffset CreatedAt, DateTimeOffset? DeliveredAt, IReadOnlyList<WebhookAttemptView> AttemptLog);

/// <summary>Organizers' webhook subscriptions and their delivery log; the Worker delivers (WebhookDispatcher).</summary>
public sealed class Webhooks(TicketSaleDbContext db, TimeProvider time)
{
    public async Task<Outcome<WebhookView>> SubscribeAsync(WebhookRequest request, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(request.Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            return Refusal.Invalid(nameof(request.Url), "An absolute http or https address.");
        }

        var unknown = request.Events.Except(OrderEvents.Webhooks).ToList();
        if (request.Events.Count == 0 || unknown.Count > 0)
        {
            return Refusal.Invalid(nameof(request.Events), $"One or more of: {string.Join(", ", OrderEvents.Webhooks)}.");
        }

        if (request.CampaignId is { } campaign && !await db.Campaigns.AnyAsync(c => c.Id == campaign, cancellationToken))
        {
            return Refusal.Invalid(nameof(request.CampaignId), "No such campaign.");
        }

        var subscription = new WebhookSubscription
        {
            Id = Guid.CreateVersion7(),
            Url = url.ToString(),
            Secret = "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            Events = string.Join(',', request.Events.Distinct()),
            CampaignId = request.CampaignId,
            CreatedAt = time.GetUtcNow(),
        };
        db.WebhookSubscriptions.Add(subscription);
        await db.SaveChangesAsync(cancellationToken);
        return WebhookView.From(subscription);
    }

    public async Task<IReadOnlyList<WebhookView>> ListAsync(CancellationToken cancellationToken) =>
        (await db.WebhookSubscriptions.AsNoTracking().Where(s => s.Active).OrderBy(s => s.CreatedAt).ToListAsync(cancellationToken)).ConvertAll(WebhookView.From);

    /// <summary>Stops sending to it; its delivery log stays.</summary>
    public async Task<bool> UnsubscribeAsync(Guid id, CancellationToken cancellationToken) =>
        await db.WebhookSubscriptions.Where(s => s.Id == id && s.Active).ExecuteUpdateAsync(u => u.SetProperty(s => s.Active, false), cancellationToken) == 1;

    /// <summary>The newest deliveries of a subscription, each with its attempts; null for an unknown subscription.</summary>
    public async Task<IReadOnlyList<WebhookDeliveryView>?> DeliveriesAsync(Guid id, WebhookDeliveryStatus? status, CancellationToken cancellationToken)
    {
        if (!await db.WebhookSubscriptions.AnyAsync(s => s.Id == id, cancellationToken))
        {
            return null;
        }

        var deliveries = await db.WebhookDeliveries.AsNoTracking().Include(d => d.AttemptLog)
            .Where(d => d.SubscriptionId == id && (status == null || d.Status == status))
            .OrderByDescending(d => d.Id).Take(100).ToListAsync(cancellationToken);
        return deliveries.ConvertAll(d => new WebhookDeliveryView(d.Id, d.EventType, $"evt_{d.OutboxMessageId}", d.Status, d.Attempts, d.NextAttemptAt,
            d.LastStatusCode, d.LastError, d.CreatedAt, d.DeliveredAt,
            d.AttemptLog.OrderBy(a => a.Id).Select(a => new WebhookAttemptView(a.At, a.StatusCode, a.Error, a.DurationMs)).ToList()));
    }

    /// <summary>Sends a dead-lettered delivery again, from its first wait: false when there is no such dead letter.</summary>
    public async Task<bool> RedeliverAsync(long deliveryId, CancellationToken cancellationToken) =>
        await db.WebhookDeliveries.Where(d => d.Id == deliveryId && d.Status == WebhookDeliveryStatus.DeadLettered)
            .ExecuteUpdateAsync(u => u.SetProperty(d => d.Status, WebhookDeliveryStatus.Pending).SetProperty(d => d.Attempts, 0)
                .SetProperty(d => d.NextAttemptAt, time.GetUtcNow()), cancellationToken) == 1;
}
