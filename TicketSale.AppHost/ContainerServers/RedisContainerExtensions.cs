using TicketSale.AppHost.LocalServers;

namespace TicketSale.AppHost.ContainerServers;

/// <summary>
/// Aspire's Redis container (publishing, or with Docker) set up as the local server is: a memory ceiling that never
/// evicts, and an ACL user per service. Aspire starts the container through a shell: in a run its arguments follow
/// <c>redis-server</c>; when published they are one <c>-c</c> command line, where the shell expands the passwords from
/// the container's environment, so that none is written into the manifest or the generated files.
/// </summary>
public static class RedisContainerExtensions
{
    /// <summary>
    /// A memory ceiling (<c>TicketSale:RedisMaxMemory</c>, 1gb by default) and <c>noeviction</c>: holds, stock and pins
    /// must never be evicted to make room.
    /// </summary>
    public static IResourceBuilder<RedisResource> WithMemoryCeiling(this IResourceBuilder<RedisResource> redis) =>
        redis.WithServerArguments(["--maxmemory", LocalServerExtensions.RedisMaxMemory(redis.ApplicationBuilder), "--maxmemory-policy", "noeviction"]);

    /// <summary>
    /// Adds a service's own user (<see cref="RedisServiceUser"/>) and returns its connection string. The default user
    /// keeps Aspire's password: it is the operators' login and the health check's.
    /// </summary>
    public static ReferenceExpression WithServiceUser(this IResourceBuilder<RedisResource> redis, string user, IResourceBuilder<ParameterResource> password,
        IReadOnlyList<string> keyPatterns, IReadOnlyList<string> channelPatterns)
    {
        var serviceUser = new RedisServiceUser(user, password.Resource, keyPatterns, channelPatterns);
        var variable = PasswordVariable(user);
        redis.WithEnvironment(variable, password)
            .WithServerArguments(["--user", user, "on", $">${variable}", .. serviceUser.Rules]);
        return ReferenceExpression.Create(
            $"{redis.Resource.PrimaryEndpoint.Property(EndpointProperty.HostAndPort)},user={user},password={password.Resource},tiebreaker=,configChannel=");
    }

    /// <summary>The container's environment variable that holds a user's password: <c>REDIS_TICKETSALE_API_PASSWORD</c>.</summary>
    public static string PasswordVariable(string user) => $"REDIS_{user.Replace('-', '_').ToUpperInvariant()}_PASSWORD";

    // Double quotes keep '>', '&', '|', '{' and '*' from the shell and still expand a password's variable.
    private static string ShellWord(string argument) =>
        argument.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':' or '@' or '+') ? argument : $"\"{argument}\"";

    private static IResourceBuilder<RedisResource> WithServerArguments(this IResourceBuilder<RedisResource> redis, IReadOnlyList<string> arguments) =>
        redis.WithArgs(context =>
        {
            if (context.Args.Count > 0 && context.Args[^1] is string commandLine && commandLine.StartsWith("redis-server", StringComparison.Ordinal))
            {
                context.Args[^1] = commandLine + string.Concat(arguments.Select(a => " " + ShellWord(a)));
            }
            else
            {
                foreach (var argument in arguments)
                {
                    context.Args.Add(argument);
                }
            }
        });
}
