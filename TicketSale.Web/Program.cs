using Microsoft.AspNetCore.HttpOverrides;
using TicketSale.Core.Auth;
using TicketSale.Core.Http;
using TicketSale.Web.Gateway;
using TicketSale.Web.Pages;
using TicketSale.Web.Sessions;
using TicketSale.Web.WaitingRoom;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddCacheClient("cache");
builder.WebHost.ConfigureKestrel(kestrel =>
{
    // The certificate, when there is one, comes from configuration (Kestrel:Certificates:Default:Path / :Password).
    kestrel.Limits.MaxRequestBodySize = 64 * 1024;
    kestrel.Limits.MaxRequestHeadersTotalSize = 16 * 1024;
    kestrel.Limits.MaxRequestLineSize = 8 * 1024;
    // A bound on open connections (idle ones and event streams included), so that a flood of them ends in refused
    // connections rather than in a process out of memory and file descriptors. Kestrel:Limits:MaxConcurrentConnections.
    kestrel.Limits.MaxConcurrentConnections = builder.Configuration.GetValue<long?>("Kestrel:Limits:MaxConcurrentConnections") ?? 20_000;
});
builder.Services.AddProblemDetails();
builder.Services.AddExceptionHandler<TransientFailureExceptionHandler>();
builder.Services.Configure<ForwardedHeadersOptions>(o => o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto);
builder.Services.AddHsts(o => { o.MaxAge = TimeSpan.FromDays(365); o.IncludeSubDomains = true; });
builder.AddBrowserSessions();
// The Api's own bearer-token validation and policies: the waiting room answered here checks the same access tokens.
builder.Services.AddTicketSaleTokenValidation(defaultScheme: false);
builder.AddApiRelease();
builder.Services.AddApiGateway();
builder.Services.AddWaitingRoom();
builder.Services.AddHttpClient(PurchasePathHealthCheck.HttpClientName);
builder.Services.AddHealthChecks().AddCheck<PurchasePathHealthCheck>("api", tags: [ServiceDefaultsExtensions.ReadyTag]);

var app = builder.Build();

app.UseForwardedHeaders();
// Errors raised here at the edge (an oversized body, a dead Api) answer as problem details, like the Api's own.
app.UseExceptionHandler();
app.UseStatusCodePages();
if (!app.Environment.IsDevelopment())
{
    app.UseHsts();
    // Probes come from the platform over plain HTTP: redirecting them would fail them.
    app.UseWhen(context => !ServiceDefaultsExtensions.IsInfrastructurePath(context.Request.Path), https => https.UseHttpsRedirection());
}

app.UseSecurityHeaders();
app.UseDefaultFiles();
app.UseStaticFiles(PageCaching.Options);
// The waiting room's gate first: a request it turns away costs nothing more (no session, no token check).
app.UseRateLimiter();
app.UseAuthentication();
app.UseWhen(context => context.Request.Path.StartsWithSegments("/api"), api => api.Use(BrowserSessions.ForwardSessionAsync));
app.UseAuthorization();

app.MapDefaultEndpoints();
app.MapBrowserSessions();
app.MapWaitingRoomApi();
app.MapReleaseApi();
app.MapReverseProxy(proxy =>
{
    proxy.Use(RetryOnRefusedConnection.InvokeAsync);
    proxy.UseSessionAffinity();
    proxy.UseLoadBalancing();
    proxy.UsePassiveHealthChecks();
});

app.Run();
