using System.Security.Claims;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using TicketSale.Core.Data;
using TicketSale.Core.Mail;

namespace TicketSale.Api.Auth;

/// <summary>
/// Proof that an account's e-mail address is its owner's, before it may buy: a link with a token signed by the Api's
/// token key for another audience than access tokens (an access token is no confirmation, nor the other way round),
/// naming the account and the address, for <see cref="MailOptions.VerificationLifetime"/>.
/// </summary>
public sealed partial class EmailVerification(SigningKeys keys, IOptions<AuthOptions> auth, IOptions<MailOptions> mail, MailSender sender,
    TimeProvider time, ILogger<EmailVerification> logger)
{
    private string Audience => auth.Value.Issuer + ":email-verification";

    public string IssueToken(User user)
    {
        var now = time.GetUtcNow().UtcDateTime;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = auth.Value.Issuer,
            Audience = Audience,
            Subject = new ClaimsIdentity([new Claim(JwtRegisteredClaimNames.Sub, user.Id.ToString()), new Claim(JwtRegisteredClaimNames.Email, user.Email)]),
            IssuedAt = now,
            NotBefore = now,
            Expires = now + mail.Value.VerificationLifetime,
            SigningCredentials = new SigningCredentials(keys.Current, SecurityAlgorithms.EcdsaSha256),
        });
    }

    /// <summary>The account and address a token confirms, or null for a token that is forged, expired or of another kind.</summary>
    public async Task<(Guid User, string Email)?> ReadAsync(string token)
    {
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = auth.Value.Issuer,
            ValidAudience = Audience,
            ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
            IssuerSigningKeys = keys.Published,
            ClockSkew = TimeSpan.FromSeconds(5),
        });
        return result.IsValid
            && result.Claims.TryGetValue(JwtRegisteredClaimNames.Sub, out var sub) && Guid.TryParse(sub as string, out var user)
            && result.Claims.TryGetValue(JwtRegisteredClaimNames.Email, out var email) && email is string address
            ? (user, address)
            : null;
    }

    /// <summary>
    /// Sends the link. A mail server that is down does not undo the registration: the owner asks for another link.
    /// </summary>
    public async Task SendAsync(User user, CancellationToken cancellationToken)
    {
        var options = mail.Value;
        var link = $"{options.PublicBaseUrl.TrimEnd('/')}/?verify-email={Uri.EscapeDataString(IssueToken(user))}";
        var message = sender.Create(user.Email, "Confirm your e-mail address for TicketSale");
        message.Body = new MimeKit.TextPart("plain")
        {
            Text = $"Follow this link to confirm that {user.Email} is yours; until then the account cannot buy tickets:\r\n\r\n{link}\r\n\r\n"
                + $"The link works for {options.VerificationLifetime.TotalHours:0} hours. If you did not sign up, ignore this message.\r\n",
        };
        try
        {
            await sender.SendAsync(message, cancellationToken);
        }
        catch (Exception ex) when (ex is MailKit.ProtocolException or MailKit.Net.Smtp.SmtpCommandException or System.Net.Sockets.SocketException or IOException)
        {
            LogNotSent(logger, ex, user.Id);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The confirmation mail for account {User} could not be sent")]
    private static partial void LogNotSent(ILogger logger, Exception exception, Guid user);
}
