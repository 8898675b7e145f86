using Microsoft.Extensions.Logging;

namespace TicketSale.Core.Security;

/// <summary>
/// The security events an operator audits and alerts on, as structured log records of one category
/// (<c>TicketSale.Core.Security.SecurityEvents</c>) with stable event ids: failed and delayed sign-ins, refused
/// accounts, reused refresh tokens, admins' changes, refunds.
/// </summary>
public sealed partial class SecurityEvents(ILogger<SecurityEvents> logger)
{
    private readonly ILogger<SecurityEvents> _logger = logger;

    [LoggerMessage(EventId = 4001, EventName = "SignInFailed", Level = LogLevel.Warning,
        Message = "Wrong password for {Email} from {ClientAddress}; that address now waits {WaitSeconds} s")]
    public partial void SignInFailed(string email, string clientAddress, double waitSeconds);

    [LoggerMessage(EventId = 4002, EventName = "SignInDelayed", Level = LogLevel.Warning,
        Message = "Sign-in to {Email} from {ClientAddress} refused for {WaitSeconds} s more after wrong passwords")]
    public partial void SignInDelayed(string email, string clientAddress, double waitSeconds);

    [LoggerMessage(EventId = 4003, EventName = "SignInRefusedDisabled", Level = LogLevel.Warning,
        Message = "Sign-in to disabled account {UserId} from {ClientAddress} refused")]
    public partial void SignInRefusedDisabled(Guid userId, string clientAddress);

    [LoggerMessage(EventId = 4004, EventName = "RefreshTokenReused", Level = LogLevel.Warning,
        Message = "A used refresh token of user {UserId} was presented again from {ClientAddress}: its session is ended")]
    public partial void RefreshTokenReused(Guid userId, string clientAddress);

    [LoggerMessage(EventId = 4005, EventName = "AccountDisabled", Level = LogLevel.Warning,
        Message = "Admin {AdminId} disabled account {UserId} until {Until}; its sessions are ended")]
    public partial void AccountDisabled(Guid adminId, Guid userId, DateTimeOffset until);

    [LoggerMessage(EventId = 4006, EventName = "AccountEnabled", Level = LogLevel.Warning,
        Message = "Admin {AdminId} enabled account {UserId}")]
    public partial void AccountEnabled(Guid adminId, Guid userId);

    [LoggerMessage(EventId = 4012, EventName = "RoleChanged", Level = LogLevel.Warning,
        Message = "Admin {AdminId} made account {UserId} {Role}; its sessions are ended")]
    public partial void RoleChanged(Guid adminId, Guid userId, string role);

    [LoggerMessage(EventId = 4007, EventName = "AdminChange", Level = LogLevel.Information,
        Message = "Admin {AdminId} {Method} {Path}: {StatusCode}")]
    public partial void AdminChange(Guid adminId, string method, string path, int statusCode);

    [LoggerMessage(EventId = 4008, EventName = "Refund", Level = LogLevel.Information,
        Message = "Refund of purchase {PurchaseId}: {Outcome} ({Reason})")]
    public partial void Refund(Guid purchaseId, string outcome, string reason);

    [LoggerMessage(EventId = 4009, EventName = "SecondFactorFailed", Level = LogLevel.Warning,
        Message = "Wrong one-time code for user {UserId} from {ClientAddress}; that address now waits {WaitSeconds} s")]
    public partial void SecondFactorFailed(Guid userId, string clientAddress, double waitSeconds);

    [LoggerMessage(EventId = 4010, EventName = "PasswordChanged", Level = LogLevel.Warning,
        Message = "User {UserId} changed their password from {ClientAddress}; their sessions are ended")]
    public partial void PasswordChanged(Guid userId, string clientAddress);

    [LoggerMessage(EventId = 4011, EventName = "SecondFactorEnrolled", Level = LogLevel.Warning,
        Message = "User {UserId} enrolled an authenticator app from {ClientAddress}")]
    public partial void SecondFactorEnrolled(Guid userId, string clientAddress);
}
