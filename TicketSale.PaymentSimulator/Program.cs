using TicketSale.PaymentSimulator;

// A stand-in for a card payment gateway: idempotent on the payment key, with settable latency, failure rate and outage.
var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.Services.AddProblemDetails();
builder.Services.Configure<LedgerOptions>(builder.Configuration.GetSection("Ledger"));
builder.Services.AddSingleton<Ledger>();
builder.Services.AddSingleton(TimeProvider.System);

var app = builder.Build();

app.UseExceptionHandler();
app.MapDefaultEndpoints();
app.MapPaymentsApi();
app.MapSimulatorApi();

app.Run();
