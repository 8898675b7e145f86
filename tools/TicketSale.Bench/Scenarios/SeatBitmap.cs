using System.Numerics;

namespace TicketSale.Bench.Scenarios;

/// <summary>
/// Which seats a buyer's page shows as taken: the seat map's own bitmap, one bit per seat, the first seat in the
/// highest bit of the first byte, as <c>GET /api/campaigns/{id}/seats</c> sends it. A buyer keeps its page through
/// seconds of choosing: as a <c>bool</c> per seat, 20 KB each, the pages of the buyers shopping at once outlived
/// the load client's young generation and were collected with the old.
/// </summary>
public sealed class SeatBitmap
{
    private readonly byte[] _bits;

    /// <summary>All seats free.</summary>
    public SeatBitmap(int seats)
        : this(new byte[(seats + 7) / 8], seats)
    {
    }

    /// <summary>The seat map's bitmap as sent (kept, not copied); bytes past the seats are ignored.</summary>
    public SeatBitmap(byte[] bits, int seats)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bits.Length, (seats + 7) / 8, nameof(bits));
        _bits = bits;
        Length = seats;
    }

    public int Length { get; }

    public bool this[int seat]
    {
        get => (_bits[seat >> 3] & (0x80 >> (seat & 7))) != 0;
        set
        {
            if (value)
            {
                _bits[seat >> 3] |= (byte)(0x80 >> (seat & 7));
            }
            else
            {
                _bits[seat >> 3] &= (byte)~(0x80 >> (seat & 7));
            }
        }
    }

    public int CountFree()
    {
        var taken = 0;
        for (var i = 0; i < Length >> 3; i++)
        {
            taken += BitOperations.PopCount(_bits[i]);
        }

        for (var seat = Length & ~7; seat < Length; seat++)
        {
            taken += this[seat] ? 1 : 0;
        }

        return Length - taken;
    }
}
