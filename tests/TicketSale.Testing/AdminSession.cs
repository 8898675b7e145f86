using System.Net.Http.Json;
using System.Text.Json.Nodes;
using OtpNet;

namespace TicketSale.Testing;

/// <summary>
/// The seeded admin as an operator meets it: the generated password is changed first, an authenticator app is
/// enrolled, and sign-ins carry its one-time codes; the session is renewed with refresh tokens and signed into again
/// when it ends.
/// </summary>
public sealed class AdminSession(HttpClient http, Uri gateway, string generatedPassword) : IDisposable
{
    public const string Email = "admin@ticketsale.local";

    private readonly SemaphoreSlim _gate = new(1, 1);
    private string? _password;
    private Totp? _codes;
    private long _lastStep = -1;
    private string? _access;
    private string? _refresh;
    private DateTimeOffset _renewAt;

    /// <summary>A current access token: the one held, renewed at half its life, or a fresh sign-in.</summary>
    public async Task<string> AccessTokenAsync()
    {
        await _gate.WaitAsync();
        try
        {
            if (_access is not null && DateTimeOffset.UtcNow < _renewAt)
            {
                return _access;
            }

            if (_refresh is not null)
            {
                using var renewed = await http.PostAsJsonAsync(new Uri(gateway, "/api/auth/refresh"), new { refreshToken = _refresh });
                if (renewed.IsSuccessStatusCode)
                {
                    await KeepAsync(renewed);
                    return _access!;
                }
            }

            await SignInLockedAsync();
            return _access!;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Signs in afresh with the password and a one-time code.</summary>
    public async Task<string> SignInAsync()
    {
        await _gate.WaitAsync();
        try
        {
            await SignInLockedAsync();
            return _access!;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>What the admin types into the sign-in page: the password, and a one-time code no other sign-in uses.</summary>
    public async Task<(string Password, string Code)> CredentialsForOneSignInAsync()
    {
        await _gate.WaitAsync();
        try
        {
            if (_password is null)
            {
                await SetUpAsync();
            }

            return (_password!, await NextCodeLockedAsync());
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose() => _gate.Dispose();

    private async Task SignInLockedAsync()
    {
        if (_password is null)
        {
            await SetUpAsync();
        }

        var code = await NextCodeLockedAsync();
        using var response = await http.PostAsJsonAsync(new Uri(gateway, "/api/auth/login"), new { email = Email, password = _password, totpCode = code });
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"The admin's sign-in was refused: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }

        await KeepAsync(response);
    }

    // Each step's code is accepted once, and one step early: a second sign-in within a step uses the next one's,
    // a third waits for the step to turn.
    private async Task<string> NextCodeLockedAsync()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 30;
        if (_lastStep > now)
        {
            await Task.Delay(TimeSpan.FromSeconds(((_lastStep * 30) - DateTimeOffset.UtcNow.ToUnixTimeSeconds()) + 1));
            now = DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 30;
        }

        var step = Math.Max(now, _lastStep + 1);
        _lastStep = step;
        return _codes!.ComputeTotp(DateTimeOffset.FromUnixTimeSeconds(step * 30).UtcDateTime);
    }

    private async Task SetUpAsync()
    {
        var chosen = "admin-" + Guid.NewGuid().ToString("N");
        using (var changed = await http.PostAsJsonAsync(new Uri(gateway, "/api/auth/password"), new { email = Email, password = generatedPassword, newPassword = chosen }))
        {
            if (!changed.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"Changing the admin's generated password was refused: {(int)changed.StatusCode} {await changed.Content.ReadAsStringAsync()}");
            }
        }

        _password = chosen;
        using var enrolled = await http.PostAsJsonAsync(new Uri(gateway, "/api/auth/second-factor"), new { email = Email, password = chosen });
        enrolled.EnsureSuccessStatusCode();
        var secret = (string)(await enrolled.Content.ReadFromJsonAsync<JsonObject>())!["secret"]!;
        _codes = new Totp(Base32Encoding.ToBytes(secret));
    }

    private async Task KeepAsync(HttpResponseMessage response)
    {
        var tokens = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        _access = (string)tokens["accessToken"]!;
        _refresh = (string)tokens["refreshToken"]!;
        _renewAt = DateTimeOffset.UtcNow + (TimeSpan.FromSeconds((int)tokens["expiresIn"]!) / 2);
    }
}
