using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using TicketSale.Core.Auth;

namespace TicketSale.UnitTests;

/// <summary>
/// Where bearer tokens are the default scheme (the Api), a request's token is checked once, by the authentication
/// middleware; a policy that named the scheme too would have the authorization middleware check it again.
/// </summary>
public sealed class TokenValidationTests
{
    private static async Task<(AuthenticationScheme? Default, AuthorizationPolicy Customer, AuthorizationPolicy Admin)> ConfigureAsync(bool defaultScheme)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddLogging();
        services.AddTicketSaleTokenValidation(defaultScheme);
        await using var provider = services.BuildServiceProvider();
        var schemes = provider.GetRequiredService<IAuthenticationSchemeProvider>();
        var policies = provider.GetRequiredService<IAuthorizationPolicyProvider>();
        return (await schemes.GetDefaultAuthenticateSchemeAsync(),
            (await policies.GetPolicyAsync(TokenValidation.CustomerPolicy))!,
            (await policies.GetPolicyAsync(TokenValidation.AdminPolicy))!);
    }

    [Fact]
    public async Task As_the_default_scheme_the_policies_use_the_user_the_authentication_middleware_found()
    {
        var (defaultScheme, customer, admin) = await ConfigureAsync(defaultScheme: true);

        Assert.Equal(JwtBearerDefaults.AuthenticationScheme, defaultScheme?.Name);
        Assert.Empty(customer.AuthenticationSchemes);
        Assert.Empty(admin.AuthenticationSchemes);
    }

    [Fact]
    public async Task Beside_another_default_scheme_the_policies_name_the_bearer_scheme()
    {
        var (_, customer, admin) = await ConfigureAsync(defaultScheme: false);

        Assert.Equal([JwtBearerDefaults.AuthenticationScheme], customer.AuthenticationSchemes);
        Assert.Equal([JwtBearerDefaults.AuthenticationScheme], admin.AuthenticationSchemes);
    }
}
