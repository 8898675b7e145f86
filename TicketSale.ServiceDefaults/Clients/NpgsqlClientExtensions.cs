using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Microsoft.Extensions.Hosting;

public static class NpgsqlClientExtensions
{
    /// <summary>
    /// Registers a pooled <see cref="NpgsqlDataSource"/> for the PostgreSQL database resource <paramref name="name"/>,
    /// with tracing and a readiness check.
    /// </summary>
    public static IHostApplicationBuilder AddNpgsqlDataSource(this IHostApplicationBuilder builder, string name)
    {
        var connectionString = ConnectionStrings.Require(builder.Configuration, name);
        builder.Services.AddNpgsqlDataSource(connectionString, dataSource => dataSource.ConfigureTracing(_ => { }));
        builder.Services.AddHealthChecks().AddNpgSql(name: name, tags: [ServiceDefaultsExtensions.ReadyTag]);
        return builder;
    }
}
