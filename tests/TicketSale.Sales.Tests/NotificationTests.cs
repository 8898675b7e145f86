using System.Net;
using MimeKit;

namespace TicketSale.Sales.Tests;

/// <summary>The buyers' e-mails, sent by the Worker from the outbox through the development mail sink.</summary>
[Collection(SaleCollection.Name)]
public sealed class NotificationTests(SaleFixture fixture)
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task What_has_done_its_job_is_deleted_past_its_retention_and_nothing_still_to_send_is()
    {
        var campaign = Guid.NewGuid();
        Task<long> MessageAsync(string age, bool mailPending, string? retryIn = null) => fixture.ScalarAsync(
            $"""
            INSERT INTO "OutboxMessages" ("Type", "CampaignId", "OrderId", "OccurredAt", "MailPending", "MailRetryAt", "MailAttempts", "WebhooksPending")
            VALUES ('order.confirmed', $1, $2, now() - interval '{age}', {mailPending}, {(retryIn is null ? "NULL" : $"now() + interval '{retryIn}'")}, 1, FALSE)
            RETURNING "Id"
            """, campaign, Guid.NewGuid());
        var oldSent = await MessageAsync("8 days", mailPending: false);
        var recentSent = await MessageAsync("1 day", mailPending: false);
        // Its mail keeps failing (tried again tomorrow): still to send, however old.
        var oldUnsent = await MessageAsync("8 days", mailPending: true, retryIn: "1 day");

        // An inactive subscription (nothing is sent to it), with an old delivered webhook and its attempt, a recent
        // one, and an old dead letter.
        var subscription = Guid.NewGuid();
        await fixture.ScalarAsync("""
            INSERT INTO "WebhookSubscriptions" ("Id", "Url", "Secret", "Events", "CampaignId", "Active", "CreatedAt")
            VALUES ($1, 'http://127.0.0.1:9/retention', 'whsec_retention', 'order.placed', $2, FALSE, now()) RETURNING 1
            """, subscription, campaign);
        Task<long> DeliveryAsync(long message, string status, string age) => fixture.ScalarAsync(
            $"""
            INSERT INTO "WebhookDeliveries" ("SubscriptionId", "OutboxMessageId", "EventType", "Payload", "Status", "Attempts", "NextAttemptAt", "CreatedAt", "DeliveredAt")
            VALUES ($1, $2, 'order.placed', '{"{}"}', '{status}', 1, now(), now() - interval '{age}', {(status == "Delivered" ? $"now() - interval '{age}'" : "NULL")})
            RETURNING "Id"
            """, subscription, message);
        var oldDelivered = await DeliveryAsync(oldSent, "Delivered", "31 days");
        await fixture.ScalarAsync("""INSERT INTO "WebhookAttempts" ("DeliveryId", "At", "StatusCode", "DurationMs") VALUES ($1, now() - interval '31 days', 200, 5) RETURNING 1""", oldDelivered);
        var recentDelivered = await DeliveryAsync(recentSent, "Delivered", "1 day");
        var oldDeadLetter = await DeliveryAsync(oldUnsent, "DeadLettered", "31 days");

        await Eventually.HoldsAsync(async () => await fixture.ScalarAsync("""SELECT count(*) FROM "OutboxMessages" WHERE "Id" = $1""", oldSent) == 0,
            "the old sent message to be deleted");
        await Eventually.HoldsAsync(async () => await fixture.ScalarAsync("""SELECT count(*) FROM "WebhookDeliveries" WHERE "Id" = $1""", oldDelivered) == 0,
            "the old delivered webhook to be deleted");
        Assert.Equal(0, await fixture.ScalarAsync("""SELECT count(*) FROM "WebhookAttempts" WHERE "DeliveryId" = $1""", oldDelivered));
        Assert.Equal(2, await fixture.ScalarAsync("""SELECT count(*) FROM "OutboxMessages" WHERE "Id" = ANY($1)""", new[] { recentSent, oldUnsent }));
        Assert.Equal(2, await fixture.ScalarAsync("""SELECT count(*) FROM "WebhookDeliveries" WHERE "Id" = ANY($1)""", new[] { recentDelivered, oldDeadLetter }));
    }

    [Fact]
    public async Task A_confirmed_order_is_mailed_once_with_its_tickets_and_its_cancellation_with_the_refund()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 6);
        var (buyer, order, tickets) = await fixture.BuyTicketsAsync(campaign.Id, 1, 2);

        var confirmation = Assert.Single(await fixture.Mailbox.WaitForAsync(buyer.Email!, m => Is(m, "order.confirmed", order), s_wait));
        Assert.StartsWith("Your tickets for Campaign ", confirmation.Subject, StringComparison.Ordinal);
        var text = confirmation.TextBody;
        Assert.Contains("2 ticket(s)", text, StringComparison.Ordinal);
        Assert.Contains("€84.00 paid", text, StringComparison.Ordinal);
        Assert.Contains("Main, row 1, seat 2", text, StringComparison.Ordinal);
        Assert.Contains("Main, row 1, seat 3", text, StringComparison.Ordinal);
        // Each ticket's code, signed with the ticket key (ECDSA signatures differ each time: the code is read, not compared),
        // in the text and as an attached QR code read as a scanner reads it, in the order of the seats.
        using var codes = new TicketSale.Core.Tickets.TicketCodes(Microsoft.Extensions.Options.Options.Create(
            new TicketSale.Core.Tickets.TicketOptions { SigningKey = fixture.App.GetParameterValue("ticket-signing-key") }));
        var images = confirmation.Attachments.OfType<MimePart>().ToList();
        Assert.Equal(["ticket-1.png", "ticket-2.png"], images.Select(i => i.FileName));
        using var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        foreach (var ((id, _), number) in tickets.Select((t, i) => (t, i)))
        {
            Assert.Contains($"/#/orders/{order}/tickets/{id}", text, StringComparison.Ordinal);
            var written = System.Text.RegularExpressions.Regex.Match(text ?? "", $@"Ticket {number + 1}: [^\r\n]*\r?\nCode: (\S+)").Groups[1].Value;
            Assert.True(codes.TryRead(written, out var claim), $"a ticket code for ticket {number + 1} in the text: {text}");
            Assert.Equal((campaign.Id, id), (claim.CampaignId, claim.TicketId));

            using var png = new MemoryStream();
            await images[number].Content!.DecodeToAsync(png);
            Assert.Equal(written, await QrCodes.ReadPngAsync(page, png.ToArray()));
        }

        var cancelled = await buyer.PostAsync($"/api/orders/{order}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, cancelled.Status);
        var notice = Assert.Single(await fixture.Mailbox.WaitForAsync(buyer.Email!, m => Is(m, "order.cancelled", order), s_wait));
        Assert.Contains("€84.00 is refunded", notice.TextBody, StringComparison.Ordinal);
        Assert.Single(fixture.Mailbox.To(buyer.Email!), m => Is(m, "order.confirmed", order));
    }

    [Fact]
    public async Task A_worker_killed_between_confirming_an_order_and_sending_its_mail_sends_it_exactly_once()
    {
        var campaign = await fixture.NewCampaignOnSaleAsync(rows: 0, seatsPerRow: 0, generalAdmission: 10);
        var buyer = await fixture.NewCustomerAsync();
        var (_, hold, _) = await buyer.HoldGeneralAdmissionAsync(campaign.Id, campaign.GeneralAdmissionId!.Value, 2);

        // The mail server is down: the order is confirmed, its mail cannot go, and the Worker dies meanwhile.
        await fixture.App.StopResourceAsync("mail");
        Guid order;
        try
        {
            var (_, purchase, _) = await buyer.PurchaseAsync(campaign.Id, hold!.Value);
            order = purchase!.Value;
            Assert.Equal("Confirmed", (await fixture.WaitForOutcomesAsync([order], s_wait))[order]);
            // The Worker is sending (mail that came before this order's may be ahead of it) and failing.
            await Eventually.HoldsAsync(async () => await fixture.ScalarAsync(
                "SELECT count(*) FROM \"OutboxMessages\" WHERE \"MailPending\" AND \"MailAttempts\" > 0") > 0,
                "the Worker to have tried to send mail", s_wait);
            await fixture.App.KillResourceAsync("worker");
            Assert.Equal(1, await fixture.ScalarAsync(
                "SELECT count(*) FROM \"OutboxMessages\" WHERE \"OrderId\" = $1 AND \"Type\" = 'order.confirmed' AND \"MailPending\"", order));
        }
        finally
        {
            await fixture.App.StartResourceAsync("mail");
        }

        Assert.DoesNotContain(fixture.Mailbox.To(buyer.Email!), m => Is(m, "order.confirmed", order));
        await fixture.App.StartResourceAsync("worker");

        Assert.Single(await fixture.Mailbox.WaitForAsync(buyer.Email!, m => Is(m, "order.confirmed", order), s_wait));
        await Eventually.HoldsAsync(async () => await fixture.ScalarAsync(
            "SELECT count(*) FROM \"OutboxMessages\" WHERE \"OrderId\" = $1 AND \"Type\" = 'order.confirmed' AND NOT \"MailPending\" AND \"MailedAt\" IS NOT NULL", order) == 1,
            "the mail to be marked sent");
        // Marked sent: however many times the Worker looks again, no second one.
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Single(fixture.Mailbox.To(buyer.Email!), m => Is(m, "order.confirmed", order));
        await Invariants.AssertAllAsync(fixture, campaign, [order]);
    }

    private static bool Is(MimeMessage message, string type, Guid order) =>
        message.Headers["X-TicketSale-Event"] == type && message.Headers["X-TicketSale-Order"] == order.ToString();
}
