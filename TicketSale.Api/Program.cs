var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddRedisClient("cache");
builder.AddNpgsqlDataSource("tickets");
builder.AddRabbitMQClient("messaging");

builder.Services.AddProblemDetails();
builder.Services.AddSingleton(ServiceInstance.FromConfiguration(builder.Configuration));

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseServedByHeader();

app.MapDefaultEndpoints();
app.MapInstanceApi();

app.Run();
