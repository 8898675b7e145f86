using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using MimeKit;
using TicketSale.Core.Data;
using TicketSale.Core.Mail;
using TicketSale.Core.Tickets;

namespace TicketSale.Worker.Notifications;

public sealed class NotificationOptions
{
    /// <summary>How often the outbox is looked at when the last look found nothing.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The wait after a first failure (of a mail or a webhook), doubled after each next one.</summary>
    public TimeSpan FirstRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>A webhook delivery that failed this many times is dead-lettered.</summary>
    public int WebhookMaxAttempts { get; set; } = 12;

    /// <summary>How long a webhook receiver has to answer.</summary>
    public TimeSpan WebhookTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often what has done its job is deleted (<see cref="OutboxCleanup"/>).</summary>
    public TimeSpan CleanupInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long an outbox row is kept once its e-mail is sent and its webhooks fanned out.</summary>
    public TimeSpan OutboxRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How long a delivered webhook stays in the organizers' delivery log.</summary>
    public TimeSpan WebhookLogRetention { get; set; } = TimeSpan.FromDays(30);

    public TimeSpan RetryDelay(int failures) =>
        TimeSpan.FromTicks(Math.Min(MaxRetryDelay.Ticks, FirstRetryDelay.Ticks * (1L << Math.Min(failures - 1, 30))));
}

/// <summary>
/// Sends the buyers' e-mails of the outbox: the order's confirmation with its tickets, the cancellation with its
/// refund, the refund of a purchase that failed after its charge, a waiting list's offer. A message is locked (FOR UPDATE SKIP LOCKED, so
/// Worker replicas share the work) while it is sent and marked sent in the same transaction: a Worker that dies
/// before sending leaves it to the next look. One that dies after the server took mail and before the batch's commit
/// sends that mail again, each message with the same Message-ID, by which mail clients and servers recognise a duplicate.
/// </summary>
public sealed partial class OrderMailer(IServiceScopeFactory scopes, MailSender sender, TicketCodes codes, IOptions<NotificationOptions> options,
    TimeProvider time, ILogger<OrderMailer> logger) : BackgroundService
{
    private const int Batch = 20;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var sent = 0;
            try
            {
                sent = await SendDueAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogPassFailed(logger, ex);
            }

            if (sent < Batch)
            {
                await Task.Delay(options.Value.PollInterval, time, stoppingToken);
            }
        }
    }

    private async Task<int> SendDueAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TicketSaleDbContext>();
        if (!await AnythingDueAsync(db, cancellationToken))
        {
            return 0;
        }

        return await db.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
        {
            db.ChangeTracker.Clear();
            var now = time.GetUtcNow();
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var due = await db.OutboxMessages
                .FromSql($"""
                    SELECT * FROM "OutboxMessages" WHERE "MailPending" AND ("MailRetryAt" IS NULL OR "MailRetryAt" <= {now})
                    ORDER BY COALESCE("MailRetryAt", "OccurredAt"), "Id" LIMIT {Batch} FOR UPDATE SKIP LOCKED
                    """)
                .ToListAsync(cancellationToken);
            // Soonest due first: a mail that keeps failing does not stand before every newer one.
            var sent = 0;
            // One connection for the batch, opened for its first message: a flash sale's orders each send one.
            MailConnection? connection = null;
            try
            {
                foreach (var message in due)
                {
                    try
                    {
                        if (await ComposeAsync(db, message, cancellationToken) is { } mail)
                        {
                            connection ??= await sender.ConnectAsync(cancellationToken);
                            await connection.SendAsync(mail, cancellationToken);
                        }

                        message.MailPending = false;
                        message.MailedAt = time.GetUtcNow();
                        sent++;
                    }
                    // Whatever the server or the network did (refused, dropped, timed out, refused the message): later.
                    catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                    {
                        message.MailAttempts++;
                        message.MailRetryAt = time.GetUtcNow() + options.Value.RetryDelay(message.MailAttempts);
                        LogNotSent(logger, ex, message.Type, message.OrderId, message.MailAttempts);
                        // The server is most likely down for the rest too: the rows are not held locked (their webhooks'
                        // fan-out skips locked rows) for a timeout each.
                        break;
                    }
                }
            }
            finally
            {
                if (connection is not null)
                {
                    await connection.DisposeAsync();
                }
            }

            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return sent;
        });
    }

    /// <summary>
    /// Whether a mail is due, asked untraced: an idle look every poll would be a trace of its own each time, burying
    /// the ones that matter. The sending is traced.
    /// </summary>
    private async Task<bool> AnythingDueAsync(TicketSaleDbContext db, CancellationToken cancellationToken)
    {
        using var untraced = OpenTelemetry.SuppressInstrumentationScope.Begin();
        var now = time.GetUtcNow();
        return await db.Database.SqlQuery<bool>(
            $"""
            SELECT EXISTS (SELECT 1 FROM "OutboxMessages" WHERE "MailPending" AND ("MailRetryAt" IS NULL OR "MailRetryAt" <= {now})) AS "Value"
            """).SingleAsync(cancellationToken);
    }

    /// <summary>The message for an outbox row, or null when there is nobody to write to (the account is gone).</summary>
    private async Task<MimeMessage?> ComposeAsync(TicketSaleDbContext db, OutboxMessage message, CancellationToken cancellationToken)
    {
        if (message.Type == OrderEvents.WaitingListOffered)
        {
            return await ComposeOfferAsync(db, message, cancellationToken);
        }

        var purchase = await db.Purchases.AsNoTracking().Where(p => p.Id == message.OrderId)
            .Select(p => new { p.UserId, p.AmountCents }).FirstOrDefaultAsync(cancellationToken);
        var email = purchase is null ? null
            : await db.Users.Where(u => u.Id == purchase.UserId).Select(u => u.Email).FirstOrDefaultAsync(cancellationToken);
        if (purchase is null || email is null)
        {
            return null;
        }

        var campaign = await db.Campaigns.AsNoTracking().Where(c => c.Id == message.CampaignId).Select(c => new { c.Name, c.EventAt, c.VenueId })
            .FirstAsync(cancellationToken);
        var links = sender.Options.PublicBaseUrl.TrimEnd('/');
        var text = new StringBuilder();
        var attachments = new List<(string Name, byte[] Png)>();
        string subject;
        switch (message.Type)
        {
            case OrderEvents.Confirmed:
                subject = $"Your tickets for {campaign.Name}";
                var tickets = await TicketLinesAsync(db, message.OrderId, message.CampaignId, campaign.VenueId, cancellationToken);
                text.Append(CultureInfo.InvariantCulture, $"Order {message.OrderId} is confirmed: {tickets.Count} ticket(s) for {campaign.Name} on {campaign.EventAt:dddd d MMMM yyyy, HH:mm} UTC, {Money(purchase.AmountCents)} paid.\r\n\r\n");
                text.Append("Show each ticket's QR code at the door: it is attached, and on the ticket's page.\r\n\r\n");
                foreach (var ((id, place), number) in tickets.Select((t, i) => (t, i + 1)))
                {
                    // Signed as the ticket's page signs it: the door checks it the same way, online or not.
                    var code = codes.Issue(message.CampaignId, id);
                    text.Append(CultureInfo.InvariantCulture, $"Ticket {number}: {place}\r\nCode: {code}\r\n{links}/#/orders/{message.OrderId}/tickets/{id}\r\n\r\n");
                    attachments.Add(($"ticket-{number}.png", QrPng(code)));
                }

                break;
            case OrderEvents.Cancelled:
                subject = $"Your order for {campaign.Name} is cancelled";
                text.Append(CultureInfo.InvariantCulture, $"Order {message.OrderId} for {campaign.Name} is cancelled, and {Money(purchase.AmountCents)} is refunded to the card you paid with. Its tickets no longer admit anyone.\r\n");
                break;
            case OrderEvents.Refunded:
                subject = $"Your purchase for {campaign.Name} could not be completed";
                text.Append(CultureInfo.InvariantCulture, $"Your purchase {message.OrderId} for {campaign.Name} could not be completed, and the {Money(purchase.AmountCents)} charged is refunded to your card.\r\n");
                break;
            default:
                return null;
        }

        text.Append(CultureInfo.InvariantCulture, $"\r\nYour orders: {links}/#/orders\r\n");
        var mail = Envelope(message, email, subject);
        mail.Headers.Add("X-TicketSale-Order", message.OrderId.ToString());
        var body = new BodyBuilder { TextBody = text.ToString() };
        foreach (var (name, png) in attachments)
        {
            body.Attachments.Add(name, png, new ContentType("image", "png"));
        }

        mail.Body = body.ToMessageBody();
        return mail;
    }

    /// <summary>A message for an outbox row, the same each time it is sent: a duplicate after a crash is recognisable as one.</summary>
    private MimeMessage Envelope(OutboxMessage message, string email, string subject)
    {
        var mail = sender.Create(email, subject);
        mail.MessageId = $"{message.Type}.{message.Id}@ticketsale.local";
        mail.Headers.Add("X-TicketSale-Event", message.Type);
        return mail;
    }

    /// <summary>The code as a QR code image (error correction M, as the ticket's page draws it), 8 pixels a module.</summary>
    private static byte[] QrPng(string code)
    {
        using var generator = new QRCoder.QRCodeGenerator();
        using var data = generator.CreateQrCode(code, QRCoder.QRCodeGenerator.ECCLevel.M);
        return new QRCoder.PngByteQRCode(data).GetGraphic(8);
    }

    /// <summary>The tickets held for a waiting-list entry: until when, and where to buy them.</summary>
    private async Task<MimeMessage?> ComposeOfferAsync(TicketSaleDbContext db, OutboxMessage message, CancellationToken cancellationToken)
    {
        var offer = await db.WaitingListEntries.AsNoTracking().Where(e => e.Id == message.OrderId)
            .Join(db.Campaigns, e => e.CampaignId, c => c.Id, (e, c) => new { e.UserId, e.Quantity, e.OfferExpiresAt, c.Name })
            .FirstOrDefaultAsync(cancellationToken);
        var email = offer is null ? null : await db.Users.Where(u => u.Id == offer.UserId).Select(u => u.Email).FirstOrDefaultAsync(cancellationToken);
        if (offer is null || email is null)
        {
            return null;
        }

        var mail = Envelope(message, email, $"Tickets for {offer.Name} are held for you");
        mail.Body = new TextPart("plain")
        {
            Text = string.Create(CultureInfo.InvariantCulture,
                $"Your turn on the waiting list for {offer.Name} has come: {offer.Quantity} ticket(s) are held for you until {offer.OfferExpiresAt:HH:mm:ss} UTC on {offer.OfferExpiresAt:d MMMM yyyy}.\r\n\r\n"
                + $"Buy them on the campaign's page before then; after that they go to the next buyer waiting:\r\n{sender.Options.PublicBaseUrl.TrimEnd('/')}/#/campaigns/{message.CampaignId}\r\n"),
        };
        return mail;
    }

    /// <summary>Each ticket of the order and what it is for ("Main, row 1, seat 5", or the standing category).</summary>
    private static async Task<List<(Guid Id, string Place)>> TicketLinesAsync(TicketSaleDbContext db, Guid orderId, Guid campaignId, Guid? venueId,
        CancellationToken cancellationToken)
    {
        var tickets = await db.Tickets.AsNoTracking().Where(t => t.OrderId == orderId && t.CampaignId == campaignId)
            .OrderBy(t => t.SeatIndex).Select(t => new { t.Id, t.SeatIndex, t.GeneralAdmissionCategoryId }).ToListAsync(cancellationToken);
        var seatIndexes = tickets.Where(t => t.SeatIndex is not null).Select(t => t.SeatIndex!.Value).ToList();
        var seats = await db.Seats.AsNoTracking().Where(s => s.VenueId == venueId && seatIndexes.Contains(s.Index))
            .ToDictionaryAsync(s => s.Index, s => $"{s.Section}, row {s.Row}, seat {s.Number}", cancellationToken);
        var categories = await db.GeneralAdmissionCategories.AsNoTracking().Where(g => g.CampaignId == campaignId)
            .ToDictionaryAsync(g => g.Id, g => g.Name, cancellationToken);
        return tickets.ConvertAll(t => (t.Id, t.SeatIndex is { } seat ? seats.GetValueOrDefault(seat, $"Seat {seat + 1}")
            : categories.GetValueOrDefault(t.GeneralAdmissionCategoryId ?? Guid.Empty, "General admission")));
    }

    private static string Money(long cents) => string.Create(CultureInfo.InvariantCulture, $"€{cents / 100m:0.00}");

    [LoggerMessage(LogLevel.Warning, "The {Type} mail of order {OrderId} could not be sent (attempt {Attempts}); it is tried again later")]
    private static partial void LogNotSent(ILogger logger, Exception exception, string type, Guid orderId, int attempts);

    [LoggerMessage(LogLevel.Warning, "The outbox could not be read for mail; the next look tries again")]
    private static partial void LogPassFailed(ILogger logger, Exception exception);
}
