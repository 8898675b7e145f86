using System.Net.Sockets;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Npgsql;
using RabbitMQ.Client.Exceptions;
using StackExchange.Redis;

namespace TicketSale.Core.Http;

/// <summary>
/// A dependency that is down or restarting (PostgreSQL, Redis, the broker, the Api behind the gateway) answers as 503 with Retry-After: the
/// client knows to come back, and nothing is reported as a server bug.
/// </summary>
public sealed class TransientFailureExceptionHandler(IProblemDetailsService problemDetails, ILogger<TransientFailureExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!IsTransient(exception))
        {
            return false;
        }

        logger.LogWarning(exception, "A dependency is unavailable; answering 503");
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = "2";
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = new Microsoft.AspNetCore.Mvc.ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Service unavailable",
                Detail = "A part of the system is briefly unavailable. Try again shortly.",
            },
        });
    }

    private static bool IsTransient(Exception exception)
    {
        for (var ex = exception; ex is not null; ex = ex.InnerException)
        {
            if (ex is NpgsqlException { IsTransient: true } or RedisConnectionException or RedisTimeoutException or Inventory.InventoryUnavailableException
                or BrokerUnreachableException or AlreadyClosedException or SocketException or TimeoutException or HttpRequestException)
            {
                return true;
            }
        }

        return false;
    }
}
