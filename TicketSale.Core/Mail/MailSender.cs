using System.ComponentModel.DataAnnotations;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MimeKit;

namespace TicketSale.Core.Mail;

public sealed class MailOptions
{
    public const string Section = "Mail";

    /// <summary>
    /// The SMTP server: <c>smtp://host:port</c> (STARTTLS when the server offers it), or <c>smtps://host:port</c> for
    /// TLS from the start. In a run, the AppHost's mail sink.
    /// </summary>
    [Required]
    public Uri? Smtp { get; set; }

    /// <summary>The SMTP account, when the server wants one (a deployment's secret).</summary>
    public string? UserName { get; set; }

    public string? Password { get; set; }

    /// <summary>How long the server has for each step of sending a message.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    [Required, EmailAddress]
    public string From { get; set; } = "tickets@ticketsale.local";

    /// <summary>The public site's address, which links in mail point to.</summary>
    [Required, Url]
    public string PublicBaseUrl { get; set; } = "http://localhost:5080";

    /// <summary>How long an e-mail confirmation link works.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "7.00:00:00")]
    public TimeSpan VerificationLifetime { get; set; } = TimeSpan.FromHours(24);
}

/// <summary>
/// Sends mail over SMTP with MailKit: a message on a connection of its own, or many over one connection
/// (<see cref="ConnectAsync"/>) — an order's mail goes out for every order, and a connection per message would cost a
/// TCP and SMTP handshake each.
/// </summary>
public sealed class MailSender(IOptions<MailOptions> options)
{
    public MailOptions Options => options.Value;

    /// <summary>A message from the sender address of the configuration.</summary>
    public MimeMessage Create(string to, string subject) => new()
    {
        From = { MailboxAddress.Parse(options.Value.From) },
        To = { MailboxAddress.Parse(to) },
        Subject = subject,
    };

    /// <summary>Sends it on a connection of its own; throws what MailKit throws when the server cannot be reached or refuses it.</summary>
    public async Task SendAsync(MimeMessage message, CancellationToken cancellationToken)
    {
        await using var connection = await ConnectAsync(cancellationToken);
        await connection.SendAsync(message, cancellationToken);
    }

    /// <summary>A connection to the server, authenticated when the configuration has an account, for one message after another.</summary>
    public async Task<MailConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        var server = options.Value.Smtp!;
        // MailKit's default is two minutes: a server that takes the connection and says nothing would hold the sender.
        var client = new SmtpClient { Timeout = (int)options.Value.Timeout.TotalMilliseconds };
        try
        {
            await client.ConnectAsync(server.Host, server.Port,
                server.Scheme == "smtps" ? SecureSocketOptions.SslOnConnect : SecureSocketOptions.StartTlsWhenAvailable, cancellationToken);
            if (options.Value.UserName is { Length: > 0 } user)
            {
                await client.AuthenticateAsync(user, options.Value.Password ?? "", cancellationToken);
            }

            return new MailConnection(client);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }
}

/// <summary>An open SMTP connection; disposing it says goodbye to the server (QUIT) and closes it.</summary>
public sealed class MailConnection(SmtpClient client) : IAsyncDisposable
{
    public Task SendAsync(MimeMessage message, CancellationToken cancellationToken) => client.SendAsync(message, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (client.IsConnected)
            {
                await client.DisconnectAsync(quit: true);
            }
        }
        catch (Exception ex) when (ex is IOException or MailKit.ServiceNotConnectedException or MailKit.Net.Smtp.SmtpProtocolException or OperationCanceledException or TimeoutException)
        {
            // The messages were sent or not before this; a goodbye the server did not hear changes neither.
        }
        finally
        {
            client.Dispose();
        }
    }
}

public static class MailExtensions
{
    /// <summary>The mail options, checked at start (a service that sends mail does not start without an SMTP server), and the sender.</summary>
    public static IServiceCollection AddMailSender(this IServiceCollection services)
    {
        services.AddOptions<MailOptions>().BindConfiguration(MailOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<MailSender>();
        return services;
    }
}
