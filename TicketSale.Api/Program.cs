using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.HttpOverrides;
using TicketSale.Api.Auth;
using TicketSale.Api.Infrastructure;
using TicketSale.Api.RateLimiting;
using TicketSale.Api.Sales;
using TicketSale.Api.Tickets;
using TicketSale.Core.Data;
using TicketSale.Core.Inventory;
using TicketSale.Core.Payments;
using TicketSale.Core.Tickets;
using TicketSale.Core.WaitingRoom;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddCacheClient("cache");
builder.AddDatabaseClient("tickets");
builder.AddMessagingClient("messaging");

builder.WebHost.ConfigureKestrel(kestrel =>
{
    // Nothing the API accepts comes near this; a bigger body is refused before it is read.
    kestrel.Limits.MaxRequestBodySize = 64 * 1024;
    kestrel.Limits.MaxRequestHeadersTotalSize = 16 * 1024;
    // Behind the gateway an Api replica needs few connections; the bench's stress ramp opens 1,024 straight to it.
    kestrel.Limits.MaxConcurrentConnections = builder.Configuration.GetValue<long?>("Kestrel:Limits:MaxConcurrentConnections") ?? 10_000;
});

builder.Services.AddProblemDetails();
builder.Services.AddExceptionHandler<BadRequestExceptionHandler>();
builder.Services.AddExceptionHandler<TransientFailureExceptionHandler>();
builder.Services.AddValidation();
builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
builder.Services.Configure<JsonOptions>(o => o.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter()));
builder.Services.AddOpenApi();
builder.AddTicketSaleAuthentication();
builder.Services.AddTicketSaleRateLimiting(builder.Configuration);
// Behind the Web gateway (and any load balancer on the way), the client's address and scheme come from
// X-Forwarded-For / -Proto; only proxies on the known networks (loopback by default) are believed.
builder.Services.Configure<ForwardedHeadersOptions>(o => o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto);

builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton(ServiceInstance.FromConfiguration(builder.Configuration));
builder.AddTicketSaleDatabase();
builder.AddStaleReads();
builder.Services.AddStackExchangeRedisCache(_ => { });
builder.Services.AddOptions<Microsoft.Extensions.Caching.StackExchangeRedis.RedisCacheOptions>()
    .Configure<StackExchange.Redis.IConnectionMultiplexer>((o, redis) => o.ConnectionMultiplexerFactory = () => Task.FromResult(redis));
builder.Services.AddHybridCache();
builder.Services.AddOptions<SalesOptions>().Bind(builder.Configuration.GetSection(SalesOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
builder.Services.AddSingleton<SeatInventory>();
builder.Services.AddSingleton<WaitingRooms>();
builder.Services.AddOptions<WaitingRoomOptions>().Bind(builder.Configuration.GetSection(WaitingRoomOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
builder.Services.AddSingleton<AdmissionTokens>();
builder.Services.AddScoped<InventoryLoader>();
builder.Services.AddSingleton<CampaignCatalog>();
builder.Services.AddHostedService<CatalogInvalidationListener>();
builder.Services.AddScoped<CampaignLifecycle>();
builder.Services.AddScoped<CampaignEditor>();
builder.Services.AddScoped<VenueImport>();
builder.Services.AddScoped<SalesFigures>();
builder.Services.AddScoped<SalesDashboard>();
builder.Services.AddSingleton<HoldPlacement>();
builder.Services.AddScoped<OrderCancellation>();
builder.Services.AddScoped<CheckIns>();
builder.Services.AddScoped<PromoCodes>();
builder.Services.AddScoped<Webhooks>();
builder.Services.AddSingleton<WaitingListInventory>();
builder.Services.AddScoped<WaitingLists>();
builder.Services.AddTicketCodes();
builder.Services.AddSingleton<PurchaseAcceptance>();
builder.Services.AddSingleton<PurchasePublisher>();
builder.Services.AddSingleton<PurchaseStatusStore>();
// One instance, so that its gauge of Redis's memory is registered once and reads its last run.
builder.Services.AddSingleton<CacheMemoryHealthCheck>();
builder.Services.AddHealthChecks()
    .AddCheck<PurchaseConsumersHealthCheck>(PurchaseConsumersHealthCheck.Name, tags: [ServiceDefaultsExtensions.ReadyTag])
    .AddCheck<CacheMemoryHealthCheck>(CacheMemoryHealthCheck.Name, tags: [ServiceDefaultsExtensions.ReadyTag]);
PaymentGatewayClient.AddPaymentGatewayClient(builder.Services);

var app = builder.Build();

app.UseForwardedHeaders();
app.UseSecurityHeaders();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseRateLimiter();
app.UseServedByHeader();
app.UseAuthentication();
app.UseAuthorization();

app.MapDefaultEndpoints();
app.MapOpenApi();
app.MapInstanceApi();
app.MapKeysApi();
app.MapAdminApi();
app.MapUsersApi();
app.MapAuditApi();
app.MapWebhooksApi();
// What buyers call is bounded in flight per replica; operators' and probes' requests are not held back by a sale.
var buyers = InFlightLimitPolicy.AppliesTo(app.MapGroup(""));
buyers.MapAuthApi();
buyers.MapCampaignsApi();
buyers.MapHoldsApi();
buyers.MapWaitingListApi();
buyers.MapPurchasesApi();
buyers.MapOrdersApi();
buyers.MapCheckInApi();

// The first admin exists before the first request is served (the schema is current: the AppHost starts the Api once
// the migration service has completed).
await app.SeedAdminAsync();

app.Run();
