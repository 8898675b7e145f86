using TicketSale.Web.Gateway;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.Services.AddApiGateway();
builder.Services.AddHttpClient(ApiReachableHealthCheck.HttpClientName);
builder.Services.AddHealthChecks().AddCheck<ApiReachableHealthCheck>("api", tags: [ServiceDefaultsExtensions.ReadyTag]);

var app = builder.Build();

app.UseDefaultFiles();
app.UseStaticFiles();

app.MapDefaultEndpoints();
app.MapReverseProxy(proxy =>
{
    proxy.Use(RetryOnRefusedConnection.InvokeAsync);
    proxy.UseSessionAffinity();
    proxy.UseLoadBalancing();
    proxy.UsePassiveHealthChecks();
});

app.Run();
