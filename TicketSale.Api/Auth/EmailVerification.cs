using System.ComponentModel.DataAnnotations;
using System.Net.Mail;
using System.Security.Claims;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using TicketSale.Core.Data;

namespace TicketSale.Api.Auth;

public sealed class MailOptions
{
    public const string Section = "Mail";

    /// <summary>Where mail is written as .eml files instead of being sent (development: the state folder's <c>mail/</c>).</summary>
    public string? PickupDirectory { get; set; }

    /// <summary>The SMTP server mail is sent through when there is no pickup directory.</summary>
    public string? SmtpHost { get; set; }

    [Range(1, 65535)]
    public int SmtpPort { get; set; } = 587;

    [Required, EmailAddress]
    public string From { get; set; } = "tickets@ticketsale.local";

    /// <summary>The public site's address, which links in mail point to.</summary>
    [Required, Url]
    public string PublicBaseUrl { get; set; } = "http://localhost:5080";

    /// <summary>How long a confirmation link works.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "7.00:00:00")]
    public TimeSpan VerificationLifetime { get; set; } = TimeSpan.FromHours(24);
}

/// <summary>
/// Proof that an account's e-mail address is its owner's, before it may buy: a link with a token signed by the Api's
/// token key for another audience than access tokens (an access token is no confirmation, nor the other way round),
/// naming the account and the address, for <see cref="MailOptions.VerificationLifetime"/>.
/// </summary>
public sealed partial class EmailVerification(SigningKeys keys, IOptions<AuthOptions> auth, IOptions<MailOptions> mail, TimeProvider time,
    ILogger<EmailVerification> logger)
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
        using var message = new MailMessage(options.From, user.Email)
        {
            Subject = "Confirm your e-mail address for TicketSale",
            Body = $"Follow this link to confirm that {user.Email} is yours; until then the account cannot buy tickets:\r\n\r\n{link}\r\n\r\n"
                + $"The link works for {options.VerificationLifetime.TotalHours:0} hours. If you did not sign up, ignore this message.\r\n",
            BodyEncoding = System.Text.Encoding.UTF8,
            // Plain 7-bit text: the link stays on one line, as written.
            BodyTransferEncoding = System.Net.Mime.TransferEncoding.SevenBit,
        };
        using var smtp = options.PickupDirectory is { Length: > 0 } pickup
            ? new SmtpClient { DeliveryMethod = SmtpDeliveryMethod.SpecifiedPickupDirectory, PickupDirectoryLocation = Directory.CreateDirectory(pickup).FullName }
            : new SmtpClient(options.SmtpHost ?? "localhost", options.SmtpPort) { EnableSsl = true };
        try
        {
            await smtp.SendMailAsync(message, cancellationToken);
        }
        catch (SmtpException ex)
        {
            LogNotSent(logger, ex, user.Id);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The confirmation mail for account {User} could not be sent")]
    private static partial void LogNotSent(ILogger logger, Exception exception, Guid user);
}
