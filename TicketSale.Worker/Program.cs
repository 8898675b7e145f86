using Microsoft.Extensions.Http.Resilience;
using Polly;
using TicketSale.Core.Data;
using TicketSale.Core.Inventory;
using TicketSale.Core.Mail;
using TicketSale.Core.Payments;
using TicketSale.Core.Security;
using TicketSale.Core.Tickets;
using TicketSale.Core.WaitingRoom;
using TicketSale.Worker;
using TicketSale.Worker.Inventory;
using TicketSale.Worker.Notifications;
using TicketSale.Worker.Purchases;

// The Worker is a web host only for its health, liveness and metrics endpoints; its work runs in hosted services.
var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddCacheClient("cache");
builder.AddDatabaseClient("tickets");
builder.AddMessagingClient("messaging");

builder.Services.AddSingleton(TimeProvider.System);
builder.AddTicketSaleDatabase();
builder.Services.AddSingleton<SeatInventory>();
builder.Services.AddSingleton<WaitingRooms>();
builder.Services.AddSingleton<WaitingListInventory>();
builder.Services.AddScoped<InventoryLoader>();
builder.Services.AddScoped<PurchaseProcessor>();
builder.Services.AddAuditTrail();
builder.Services.AddSingleton<WorkerMetrics>();
builder.Services.Configure<InventoryJobOptions>(builder.Configuration.GetSection("Inventory"));

// Payments get their own resilience pipeline, tuned for a slow, flaky gateway, with a circuit breaker of their own:
// the default pipeline from ServiceDefaults is shared by every client. Retries are safe because every call is
// idempotent on the purchase id.
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is the documented way to replace the default pipeline.
PaymentGatewayClient.AddPaymentGatewayClient(builder.Services)
    .RemoveAllResilienceHandlers()
    .AddStandardResilienceHandler(options =>
    {
        options.AttemptTimeout.Timeout = TimeSpan.FromSeconds(3);
        options.Retry.MaxRetryAttempts = 3;
        options.Retry.BackoffType = DelayBackoffType.Exponential;
        options.Retry.UseJitter = true;
        options.Retry.Delay = TimeSpan.FromMilliseconds(200);
        options.CircuitBreaker.FailureRatio = 0.5;
        options.CircuitBreaker.MinimumThroughput = 10;
        options.CircuitBreaker.SamplingDuration = TimeSpan.FromSeconds(10);
        options.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(5);
        options.TotalRequestTimeout.Timeout = TimeSpan.FromSeconds(12);
    })
    .Configure((options, services) =>
    {
        // Exported for the PaymentCircuitOpen alert.
        var metrics = services.GetRequiredService<WorkerMetrics>();
        options.CircuitBreaker.OnOpened = _ =>
        {
            metrics.PaymentCircuit(open: true);
            return default;
        };
        options.CircuitBreaker.OnClosed = _ =>
        {
            metrics.PaymentCircuit(open: false);
            return default;
        };
    });

// Organizers' webhooks: a delivery's retries are the dispatcher's own, kept in PostgreSQL, each one logged; the
// default pipeline's quick retries would hide failed attempts from the delivery log.
builder.Services.AddHttpClient(WebhookDispatcher.ClientName).RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001

// The writers are registered before the consumer so that they stop after it: purchases in flight can still commit.
builder.Services.AddSingleton<PurchaseRecorder>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<PurchaseRecorder>());
builder.Services.AddSingleton<OrderWriter>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<OrderWriter>());
builder.Services.AddHostedService<PurchaseConsumer>();
builder.Services.AddHostedService<DeadLetterConsumer>();
builder.Services.AddHostedService<HoldSweeper>();
builder.Services.AddHostedService<InventoryReconciler>();
builder.Services.AddHostedService<RefundRetrier>();
builder.Services.AddHostedService<PurchaseSweeper>();
builder.Services.AddHostedService<WaitingRoomPump>();
builder.Services.AddHostedService<WaitingListPump>();
builder.Services.Configure<NotificationOptions>(builder.Configuration.GetSection("Notifications"));
builder.Services.AddMailSender();
// The order's e-mail carries each ticket's signed code, as text and as a QR code.
builder.Services.AddTicketCodes();
builder.Services.AddHostedService<OrderMailer>();
builder.Services.AddHostedService<WebhookDispatcher>();
builder.Services.AddHostedService<OutboxCleanup>();

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
