using System.Buffers;
using Microsoft.Extensions.Options;
using SmtpServer;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace TicketSale.MailSink;

/// <summary>The SMTP side: every message accepted is written to the <see cref="Inbox"/> before the client hears "250".</summary>
public sealed partial class SmtpListener(Inbox inbox, IOptions<SinkOptions> options, ILogger<SmtpListener> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(new Store(inbox, logger));
        var server = new SmtpServer.SmtpServer(new SmtpServerOptionsBuilder().ServerName("mail.ticketsale.local").Port(options.Value.SmtpPort).Build(), services);
        LogListening(logger, options.Value.SmtpPort, options.Value.Directory);
        await server.StartAsync(stoppingToken);
    }

    [LoggerMessage(LogLevel.Information, "Accepting mail over SMTP on port {Port}, kept in {Directory}")]
    private static partial void LogListening(ILogger logger, int port, string directory);

    [LoggerMessage(LogLevel.Information, "A message for {Recipients} recipient(s) kept")]
    private static partial void LogKept(ILogger logger, int recipients);

    private sealed class Store(Inbox inbox, ILogger logger) : MessageStore
    {
        public override async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer,
            CancellationToken cancellationToken)
        {
            await using var message = new MemoryStream(buffer.ToArray());
            await inbox.SaveAsync(message, cancellationToken);
            LogKept(logger, transaction.To.Count);
            return SmtpResponse.Ok;
        }
    }
}
