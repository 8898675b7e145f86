using TicketSale.Core.Auth;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Health;
using Yarp.ReverseProxy.ServiceDiscovery;

namespace TicketSale.Web.Gateway;

internal static class ApiGateway
{
    /// <summary>
    /// Stands for the live Api release (<see cref="ApiRelease"/>); every replica service discovery knows under the
    /// release's name is a destination.
    /// </summary>
    public const string ApiAddress = "http://api";

    private static readonly TimeSpan s_passiveWindow = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Reverse-proxies <c>/api/**</c> to the Api replicas, all but the waiting room (answered here, see
    /// <see cref="WaitingRoom.WaitingRoomApi"/>), and <c>/api/admin/**</c> only for admins: round-robin over the replicas that pass the active health probe,
    /// and passive health so a replica that refuses connections leaves the rotation at its first failure
    /// rather than at the next probe.
    /// </summary>
    public static IServiceCollection AddApiGateway(this IServiceCollection services)
    {
        services.AddReverseProxy().LoadFromMemory(
            [
                new RouteConfig
                {
                    RouteId = "api",
                    ClusterId = "api",
                    Match = new RouteMatch { Path = "/api/{**catch-all}" },
                },
                // The organizers' routes: the Api checks the role too, but a customer's request stops here, at the edge.
                new RouteConfig
                {
                    RouteId = "admin",
                    ClusterId = "api",
                    AuthorizationPolicy = TokenValidation.AdminPolicy,
                    Match = new RouteMatch { Path = "/api/admin/{**catch-all}" },
                },
            ],
            [
                new ClusterConfig
                {
                    ClusterId = "api",
                    LoadBalancingPolicy = "RoundRobin",
                    Destinations = new Dictionary<string, DestinationConfig> { ["api"] = new() { Address = ApiAddress } },
                    HealthCheck = new HealthCheckConfig
                    {
                        Active = new ActiveHealthCheckConfig
                        {
                            Enabled = true,
                            Interval = TimeSpan.FromSeconds(2),
                            Timeout = TimeSpan.FromSeconds(2),
                            Policy = "ConsecutiveFailures",
                            Path = "/alive",
                        },
                        Passive = new PassiveHealthCheckConfig
                        {
                            Enabled = true,
                            Policy = "TransportFailureRate",
                            ReactivationPeriod = s_passiveWindow,
                        },
                        AvailableDestinationsPolicy = "HealthyOrPanic",
                    },
                },
            ]);
        services.AddWaitingRoomAdmission();
        services.AddAddressLimits();
        services.AddSingleton<IDestinationResolver, ServiceDiscoveryDestinationResolver>();
        // YARP keeps a passively failed destination out for at least the failure-rate detection window (default
        // one minute); a restarted replica should be back within seconds.
        services.Configure<TransportFailureRateHealthPolicyOptions>(o => o.DetectionWindowSize = s_passiveWindow);
        return services;
    }
}
