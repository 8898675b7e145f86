using System.Globalization;
using Microsoft.Extensions.Logging;

namespace TicketSale.Core.Security;

/// <summary>
/// The security events an operator audits and alerts on: sign-ins, failed and delayed ones, refused accounts, reused
/// refresh tokens, admins' changes, refunds, check-ins. Each is a structured log record of one category
/// (<c>TicketSale.Core.Security.SecurityEvents</c>) with a stable event id, and an entry of the audit log the console
/// queries (<see cref="AuditTrail"/>).
/// </summary>
public sealed partial class SecurityEvents(ILogger<SecurityEvents> logger, AuditTrail trail)
{
    private readonly ILogger<SecurityEvents> _logger = logger;

    public void SignedIn(Guid userId, string email, string clientAddress)
    {
        LogSignedIn(userId, email, clientAddress);
        trail.Record(AuditActions.SignIn, userId, email, userId, clientAddress, "signed in");
    }

    public void SignInFailed(string email, string clientAddress, double waitSeconds)
    {
        LogSignInFailed(email, clientAddress, waitSeconds);
        trail.Record(AuditActions.SignInFailed, null, email, null, clientAddress, $"wrong password; the address waits {Seconds(waitSeconds)} s");
    }

    public void SignInDelayed(string email, string clientAddress, double waitSeconds)
    {
        LogSignInDelayed(email, clientAddress, waitSeconds);
        trail.Record(AuditActions.SignInDelayed, null, email, null, clientAddress, $"refused for {Seconds(waitSeconds)} s more after wrong passwords");
    }

    public void SignInRefusedDisabled(Guid userId, string email, string clientAddress)
    {
        LogSignInRefusedDisabled(userId, clientAddress);
        trail.Record(AuditActions.SignInRefused, null, email, userId, clientAddress, "the account is disabled");
    }

    public void RefreshTokenReused(Guid userId, string clientAddress)
    {
        LogRefreshTokenReused(userId, clientAddress);
        trail.Record(AuditActions.RefreshTokenReused, null, null, userId, clientAddress, "a used refresh token was presented again: the session is ended");
    }

    public void AccountDisabled(Guid adminId, Guid userId, string email, DateTimeOffset until)
    {
        LogAccountDisabled(adminId, userId, until);
        trail.Record(AuditActions.AccountDisabled, adminId, email, userId, null, $"disabled until {until.ToString("u", CultureInfo.InvariantCulture)}; sessions ended");
    }

    public void AccountEnabled(Guid adminId, Guid userId, string email)
    {
        LogAccountEnabled(adminId, userId);
        trail.Record(AuditActions.AccountEnabled, adminId, email, userId, null, "enabled");
    }

    public void RoleChanged(Guid adminId, Guid userId, string email, string role)
    {
        LogRoleChanged(adminId, userId, role);
        trail.Record(AuditActions.RoleChanged, adminId, email, userId, null, $"made {role}; sessions ended");
    }

    public void AdminChange(Guid adminId, string method, string path, int statusCode, string clientAddress)
    {
        LogAdminChange(adminId, method, path, statusCode);
        trail.Record(AuditActions.AdminChange, adminId, null, null, clientAddress, $"{method} {path}: {statusCode}");
    }

    public void Refund(Guid purchaseId, string outcome, string reason)
    {
        LogRefund(purchaseId, outcome, reason);
        trail.Record(AuditActions.Refund, null, null, purchaseId, null, $"{outcome} ({reason})");
    }

    public void SecondFactorFailed(Guid userId, string email, string clientAddress, double waitSeconds)
    {
        LogSecondFactorFailed(userId, clientAddress, waitSeconds);
        trail.Record(AuditActions.SecondFactorFailed, null, email, userId, clientAddress, $"wrong one-time code; the address waits {Seconds(waitSeconds)} s");
    }

    public void PasswordChanged(Guid userId, string email, string clientAddress)
    {
        LogPasswordChanged(userId, clientAddress);
        trail.Record(AuditActions.PasswordChanged, userId, email, userId, clientAddress, "password changed; sessions ended");
    }

    public void SecondFactorEnrolled(Guid userId, string email, string clientAddress)
    {
        LogSecondFactorEnrolled(userId, clientAddress);
        trail.Record(AuditActions.SecondFactorEnrolled, userId, email, userId, clientAddress, "authenticator app enrolled");
    }

    public void CheckIn(Guid staffId, Guid? ticketId, string gate, string outcome, string clientAddress)
    {
        LogCheckIn(staffId, ticketId, gate, outcome);
        trail.Record(AuditActions.CheckIn, staffId, null, ticketId, clientAddress, $"gate {gate}: {outcome}");
    }

    private static string Seconds(double seconds) => seconds.ToString("0.#", CultureInfo.InvariantCulture);

    [LoggerMessage(EventId = 4001, EventName = "SignInFailed", Level = LogLevel.Warning,
        Message = "Wrong password for {Email} from {ClientAddress}; that address now waits {WaitSeconds} s")]
    private partial void LogSignInFailed(string email, string clientAddress, double waitSeconds);

    [LoggerMessage(EventId = 4002, EventName = "SignInDelayed", Level = LogLevel.Warning,
        Message = "Sign-in to {Email} from {ClientAddress} refused for {WaitSeconds} s more after wrong passwords")]
    private partial void LogSignInDelayed(string email, string clientAddress, double waitSeconds);

    [LoggerMessage(EventId = 4003, EventName = "SignInRefusedDisabled", Level = LogLevel.Warning,
        Message = "Sign-in to disabled account {UserId} from {ClientAddress} refused")]
    private partial void LogSignInRefusedDisabled(Guid userId, string clientAddress);

    [LoggerMessage(EventId = 4004, EventName = "RefreshTokenReused", Level = LogLevel.Warning,
        Message = "A used refresh token of user {UserId} was presented again from {ClientAddress}: its session is ended")]
    private partial void LogRefreshTokenReused(Guid userId, string clientAddress);

    [LoggerMessage(EventId = 4005, EventName = "AccountDisabled", Level = LogLevel.Warning,
        Message = "Admin {AdminId} disabled account {UserId} until {Until}; its sessions are ended")]
    private partial void LogAccountDisabled(Guid adminId, Guid userId, DateTimeOffset until);

    [LoggerMessage(EventId = 4006, EventName = "AccountEnabled", Level = LogLevel.Warning,
        Message = "Admin {AdminId} enabled account {UserId}")]
    private partial void LogAccountEnabled(Guid adminId, Guid userId);

    [LoggerMessage(EventId = 4007, EventName = "AdminChange", Level = LogLevel.Information,
        Message = "Admin {AdminId} {Method} {Path}: {StatusCode}")]
    private partial void LogAdminChange(Guid adminId, string method, string path, int statusCode);

    [LoggerMessage(EventId = 4008, EventName = "Refund", Level = LogLevel.Information,
        Message = "Refund of purchase {PurchaseId}: {Outcome} ({Reason})")]
    private partial void LogRefund(Guid purchaseId, string outcome, string reason);

    [LoggerMessage(EventId = 4009, EventName = "SecondFactorFailed", Level = LogLevel.Warning,
        Message = "Wrong one-time code for user {UserId} from {ClientAddress}; that address now waits {WaitSeconds} s")]
    private partial void LogSecondFactorFailed(Guid userId, string clientAddress, double waitSeconds);

    [LoggerMessage(EventId = 4010, EventName = "PasswordChanged", Level = LogLevel.Warning,
        Message = "User {UserId} changed their password from {ClientAddress}; their sessions are ended")]
    private partial void LogPasswordChanged(Guid userId, string clientAddress);

    [LoggerMessage(EventId = 4011, EventName = "SecondFactorEnrolled", Level = LogLevel.Warning,
        Message = "User {UserId} enrolled an authenticator app from {ClientAddress}")]
    private partial void LogSecondFactorEnrolled(Guid userId, string clientAddress);

    [LoggerMessage(EventId = 4012, EventName = "RoleChanged", Level = LogLevel.Warning,
        Message = "Admin {AdminId} made account {UserId} {Role}; its sessions are ended")]
    private partial void LogRoleChanged(Guid adminId, Guid userId, string role);

    [LoggerMessage(EventId = 4013, EventName = "SignedIn", Level = LogLevel.Information,
        Message = "User {UserId} ({Email}) signed in from {ClientAddress}")]
    private partial void LogSignedIn(Guid userId, string email, string clientAddress);

    [LoggerMessage(EventId = 4014, EventName = "CheckIn", Level = LogLevel.Information,
        Message = "Door staff {StaffId} at gate {Gate} scanned ticket {TicketId}: {Outcome}")]
    private partial void LogCheckIn(Guid staffId, Guid? ticketId, string gate, string outcome);
}
