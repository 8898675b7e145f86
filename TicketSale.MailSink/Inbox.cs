using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Text;
using Microsoft.Extensions.Options;
using MimeKit;

namespace TicketSale.MailSink;

public sealed class SinkOptions
{
    public const string Section = "Sink";

    /// <summary>Where each message received is written, as one .eml file (the state folder's <c>mail/</c> in a run).</summary>
    [Required]
    public string Directory { get; set; } = Path.Combine(Path.GetTempPath(), "ticketsale-mail");

    /// <summary>The SMTP port (the AppHost gives the endpoint's).</summary>
    [Range(1, 65535)]
    public int SmtpPort { get; set; } = 2525;
}

/// <summary>A message as the inbox lists it.</summary>
public sealed record MailSummary(string Id, DateTimeOffset ReceivedAt, string? MessageId, string From, string To, string Subject);

/// <summary>The messages received, one .eml file each, named so that their names sort by arrival.</summary>
public sealed class Inbox(IOptions<SinkOptions> options, TimeProvider time)
{
    private string Directory => System.IO.Directory.CreateDirectory(options.Value.Directory).FullName;

    public async Task SaveAsync(Stream message, CancellationToken cancellationToken)
    {
        var name = $"{time.GetUtcNow():yyyyMMddHHmmssfffffff}-{Guid.NewGuid():N}.eml";
        var path = Path.Combine(Directory, name);
        // Written aside and moved in: a reader never sees half a message.
        await using (var file = File.Create(path + ".part"))
        {
            await message.CopyToAsync(file, cancellationToken);
        }

        File.Move(path + ".part", path);
    }

    public async Task<IReadOnlyList<MailSummary>> ListAsync(CancellationToken cancellationToken)
    {
        var list = new List<MailSummary>();
        foreach (var path in System.IO.Directory.EnumerateFiles(Directory, "*.eml").OrderDescending())
        {
            var message = await MimeMessage.LoadAsync(path, cancellationToken);
            list.Add(new MailSummary(Path.GetFileNameWithoutExtension(path), new DateTimeOffset(File.GetLastWriteTimeUtc(path)), message.MessageId,
                message.From.ToString(), message.To.ToString(), message.Subject ?? ""));
        }

        return list;
    }

    /// <summary>The file of a message, or null for a name that is not one of the inbox's.</summary>
    public string? PathOf(string id) =>
        id.All(c => char.IsAsciiLetterOrDigit(c) || c == '-') && File.Exists(Path.Combine(Directory, id + ".eml")) ? Path.Combine(Directory, id + ".eml") : null;
}

public static class InboxApi
{
    public static void MapInbox(this WebApplication app)
    {
        app.MapGet("/messages", async (Inbox inbox, CancellationToken cancellationToken) => TypedResults.Ok(await inbox.ListAsync(cancellationToken)));
        app.MapGet("/messages/{id}", (string id, Inbox inbox) =>
            inbox.PathOf(id) is { } path ? Results.File(path, "message/rfc822", id + ".eml") : TypedResults.Problem("No such message.", statusCode: 404));
        app.MapGet("/", async (Inbox inbox, CancellationToken cancellationToken) =>
        {
            var rows = new StringBuilder();
            foreach (var mail in await inbox.ListAsync(cancellationToken))
            {
                rows.Append(CultureInvariant($"<tr><td>{mail.ReceivedAt:u}</td><td>{Encode(mail.To)}</td><td><a href=\"messages/{Encode(mail.Id)}\">{Encode(mail.Subject)}</a></td></tr>"));
            }

            return Results.Content(
                $"""
                <!doctype html><html lang="en"><head><meta charset="utf-8"><title>TicketSale mail</title></head>
                <body><h1>Mail sent by TicketSale</h1><p>Newest first; nothing here leaves this machine.</p>
                <table><thead><tr><th scope="col">Received</th><th scope="col">To</th><th scope="col">Subject</th></tr></thead><tbody>{rows}</tbody></table></body></html>
                """, "text/html; charset=utf-8");
        });
    }

    private static string Encode(string text) => WebUtility.HtmlEncode(text);

    private static string CultureInvariant(FormattableString text) => FormattableString.Invariant(text);
}
