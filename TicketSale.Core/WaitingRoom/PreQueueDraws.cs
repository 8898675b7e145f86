using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace TicketSale.Core.WaitingRoom;

/// <summary>
/// The pre-queue's draw keys: the opening gives places in the order of keys drawn as visitors joined, so each visitor's
/// place is random (arriving first gains nothing) yet known early enough to tell them when to come back. A key is an
/// HMAC of the campaign and the visitor under the waiting room's secret: nobody can predict it, every gateway replica
/// draws the same one, and leaving and joining again draws nothing new, so a visitor cannot reroll a bad draw.
/// </summary>
public sealed class PreQueueDraws(IOptions<WaitingRoomOptions> options)
{
    /// <summary>
    /// Every key is at least this; scores below it in a pre-queue are arrival numbers of the older form, which the
    /// opening replaces with random keys.
    /// </summary>
    public const long Smallest = 1L << 32;

    // A key of its own, derived from the admission tokens' secret: a draw key reveals nothing about a token's.
    private readonly byte[] _key = HMACSHA256.HashData(Encoding.UTF8.GetBytes(options.Value.SigningKey), "TicketSale pre-queue draw"u8);

    public long Key(Guid campaignId, Guid visitor)
    {
        Span<byte> input = stackalloc byte[32];
        campaignId.TryWriteBytes(input);
        visitor.TryWriteBytes(input[16..]);
        Span<byte> hash = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(_key, input, hash);
        return FromBits(BinaryPrimitives.ReadUInt64LittleEndian(hash));
    }

    /// <summary>A key from a cryptographically secure generator, for visitors the opening finds without one.</summary>
    public static long RandomKey()
    {
        Span<byte> bytes = stackalloc byte[8];
        RandomNumberGenerator.Fill(bytes);
        return FromBits(BinaryPrimitives.ReadUInt64LittleEndian(bytes));
    }

    // 52 random bits above 2^52: a Redis score (a double) holds every key exactly, and every key is at least Smallest.
    private static long FromBits(ulong bits) => (long)((bits >> 12) | (1UL << 52));
}
