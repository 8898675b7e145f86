using System.Security.Cryptography;
using System.Text;

namespace TicketSale.Core.Messaging;

/// <summary>
/// A purchase's id is derived from who asks and the Idempotency-Key they send, so every retry of a request names the
/// same purchase — on any replica, after any crash, even if Redis forgot everything — and learns its outcome.
/// </summary>
public static class PurchaseIds
{
    public static Guid For(Guid userId, string idempotencyKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(idempotencyKey);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes($"ticketsale-purchase:{userId:N}:{idempotencyKey}"), hash);
        var bytes = hash[..16];
        // RFC 9562 version 8 (custom), variant 10: a well-formed UUID whose bits are the hash's.
        bytes[6] = (byte)((bytes[6] & 0x0F) | 0x80);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes, bigEndian: true);
    }
}
