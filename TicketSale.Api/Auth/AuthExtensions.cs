using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using TicketSale.Core.Data;
using TicketSale.Core.Mail;

namespace TicketSale.Api.Auth;

public static class AuthExtensions
{
    public static IHostApplicationBuilder AddTicketSaleAuthentication(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<SigningKeys>();
        builder.Services.AddTicketSaleTokenValidation(defaultScheme: true);
        builder.Services.AddSingleton<TokenService>();
        builder.Services.AddSingleton<SignInThrottle>();
        builder.Services.AddScoped<Credentials>();
        builder.Services.AddSingleton<SecondFactor>();
        builder.Services.AddSingleton<EmailVerification>();
        builder.Services.AddMailSender();
        builder.Services.AddAuditTrail();
        builder.Services.AddSingleton<IPasswordHasher<User>, PasswordHasher<User>>();
        return builder;
    }

    /// <summary>
    /// Creates the first admin from configuration when no account has that e-mail yet. Its password was given, not
    /// chosen: it must be changed, and an authenticator app enrolled, before the admin can sign in.
    /// </summary>
    public static async Task SeedAdminAsync(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<AuthOptions>>().Value;
        if (options.AdminEmail is null || options.AdminPassword is null)
        {
            return;
        }

        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TicketSaleDbContext>();
        var email = options.AdminEmail.Trim().ToLowerInvariant();
        if (await db.Users.AnyAsync(u => u.Email == email))
        {
            return;
        }

        // Its address is the operator's own configuration: confirmed by being given.
        var admin = new User
        {
            Id = Guid.CreateVersion7(),
            Email = email,
            PasswordHash = "",
            Role = Roles.Admin,
            CreatedAt = DateTimeOffset.UtcNow,
            PasswordChangeRequired = true,
            EmailVerifiedAt = DateTimeOffset.UtcNow,
        };
        admin.PasswordHash = scope.ServiceProvider.GetRequiredService<IPasswordHasher<User>>().HashPassword(admin, options.AdminPassword);
        db.Users.Add(admin);
        try
        {
            await db.SaveChangesAsync();
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            // Another replica seeded it at the same moment.
        }
    }
}
