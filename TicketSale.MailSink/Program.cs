using TicketSale.MailSink;

// Development's mail server: accepts whatever the services send over SMTP and keeps it as .eml files, with an inbox
// page to read them. Nothing is relayed anywhere.
var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.Services.AddProblemDetails();
builder.Services.AddOptions<SinkOptions>().Bind(builder.Configuration.GetSection(SinkOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
builder.Services.AddSingleton<Inbox>();
builder.Services.AddHostedService<SmtpListener>();

var app = builder.Build();

app.UseExceptionHandler();
app.MapDefaultEndpoints();
app.MapInbox();

app.Run();
