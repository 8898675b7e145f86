using System.Buffers.Text;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace TicketSale.Core.WaitingRoom;

public sealed class WaitingRoomOptions
{
    public const string Section = "WaitingRoom";

    /// <summary>The HMAC key of admission tokens; shared by all replicas, from configuration (generated in development).</summary>
    [Required, MinLength(32)]
    public string SigningKey { get; set; } = "";

    /// <summary>How long an admission lasts: long enough to choose seats and hold them, short enough not to be passed around.</summary>
    [Range(typeof(TimeSpan), "00:00:05", "01:00:00")]
    public TimeSpan AdmissionLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// With pacing by stock: how long an admitted visitor counts against the tickets left. Most buy or give up within
    /// a couple of minutes; counting them for the whole admission would hold the queue still behind visitors who left.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:02", "01:00:00")]
    public TimeSpan ShoppingWindow { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// With pacing by stock: visitors shopping at a time per ticket left. At 1 every visitor let in can find at least
    /// one ticket; more lets the queue move faster when many admitted visitors leave without buying, at the price of
    /// visitors let in to find nothing.
    /// </summary>
    [Range(1.0, 100.0)]
    public double VisitorsPerTicket { get; set; } = 1.0;

    /// <summary>
    /// The pre-queue comes back after the opening spread over at most this many seconds, each visitor at a random
    /// moment in them (see <see cref="OpeningPollsPerSecond"/>).
    /// </summary>
    [Range(1, 3600)]
    public int PreQueueComebackSeconds { get; set; } = 60;

    /// <summary>
    /// How many of the pre-queue come back per second after the opening (within <see cref="PreQueueComebackSeconds"/>):
    /// told to come back all at once, they would ask in the opening's first second.
    /// </summary>
    [Range(10, 1_000_000)]
    public int OpeningPollsPerSecond { get; set; } = 2000;
}

/// <summary>
/// Admission tokens: "campaign.visitor.expiry" signed with HMAC-SHA256, so any replica can check one without a
/// Redis call, and one cannot be forged, stretched, or used by another visitor or for another campaign.
/// </summary>
public sealed class AdmissionTokens(IOptions<WaitingRoomOptions> options)
{
    public const string Header = "X-Admission-Token";

    private readonly byte[] _key = Encoding.UTF8.GetBytes(options.Value.SigningKey);

    public string Issue(Guid campaignId, Guid visitor, DateTimeOffset expires)
    {
        var payload = $"{campaignId:N}.{visitor:N}.{expires.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}";
        var bytes = Encoding.UTF8.GetBytes(payload);
        return Base64Url.EncodeToString(bytes) + "." + Base64Url.EncodeToString(HMACSHA256.HashData(_key, bytes));
    }

    public bool IsValid(string? token, Guid campaignId, Guid visitor, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 512 || token.Split('.') is not [var encodedPayload, var encodedSignature])
        {
            return false;
        }

        try
        {
            var bytes = Base64Url.DecodeFromChars(encodedPayload);
            var signature = Base64Url.DecodeFromChars(encodedSignature);
            var expected = HMACSHA256.HashData(_key, bytes);
            var payload = Encoding.UTF8.GetString(bytes);
            return CryptographicOperations.FixedTimeEquals(signature, expected)
                && payload.Split('.') is [var campaign, var user, var expiry]
                && campaign == campaignId.ToString("N")
                && user == visitor.ToString("N")
                && long.TryParse(expiry, NumberStyles.None, CultureInfo.InvariantCulture, out var expiresAt)
                && now.ToUnixTimeMilliseconds() < expiresAt;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
