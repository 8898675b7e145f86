using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Microsoft.Extensions.Hosting;

public static class RedisClientExtensions
{
    /// <summary>
    /// Registers one shared <see cref="IConnectionMultiplexer"/> for the Redis resource <paramref name="name"/> and a
    /// readiness check for it. The multiplexer reconnects by itself, so the process survives a Redis restart.
    /// </summary>
    public static IHostApplicationBuilder AddRedisClient(this IHostApplicationBuilder builder, string name)
    {
        var options = ConfigurationOptions.Parse(ConnectionStrings.Require(builder.Configuration, name));
        options.AbortOnConnectFail = false;
        options.ConnectRetry = 3;
        // Replies complete on the .NET thread pool instead of the client's ten dedicated reader threads: each reply
        // otherwise wakes one of those, which then wakes a pool thread for the awaiting request. On the hold path
        // (one script per request, two cores) the hop cost the Api 5-25% of its CPU per hold (`./bench.sh --scenarios hot`).
        options.SocketManager = SocketManager.ThreadPool;

        builder.Services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(options));
        builder.Services.AddHealthChecks().AddRedis(sp => sp.GetRequiredService<IConnectionMultiplexer>(), name, tags: [ServiceDefaultsExtensions.ReadyTag]);
        return builder;
    }
}
