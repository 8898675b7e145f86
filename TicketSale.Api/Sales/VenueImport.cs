using System.ComponentModel.DataAnnotations;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;
using TicketSale.Core.Data;

namespace TicketSale.Api.Sales;

/// <summary>Creates venues from sections of rows of seats, each seat numbered once across the venue.</summary>
public sealed class VenueImport(TicketSaleDbContext db, TimeProvider time)
{
    public const int MaxSeatsPerVenue = 200_000;

    /// <summary>
    /// Creates the venue and all its seats. Seats go in with PostgreSQL's binary COPY: a 50,000-seat venue is one
    /// round trip of about a megabyte instead of 50,000 inserts.
    /// </summary>
    public async Task<Outcome<Venue>> CreateAsync(CreateVenueRequest request, CancellationToken cancellationToken)
    {
        var total = request.Sections.Sum(s => (long)s.Rows * s.SeatsPerRow);
        if (total > MaxSeatsPerVenue)
        {
            return Refusal.Invalid("sections", $"A venue has at most {MaxSeatsPerVenue} seats; this one would have {total}.");
        }

        if (request.Sections.Select(s => s.Name.Trim()).Distinct(StringComparer.OrdinalIgnoreCase).Count() != request.Sections.Count)
        {
            return Refusal.Invalid("sections", "Section names must be unique.");
        }

        var venue = new Venue { Id = Guid.CreateVersion7(), Name = request.Name.Trim(), CreatedAt = time.GetUtcNow() };
        var next = 0;
        foreach (var s in request.Sections)
        {
            venue.Sections.Add(new VenueSection
            {
                Id = Guid.CreateVersion7(),
                VenueId = venue.Id,
                Name = s.Name.Trim(),
                PriceCategory = s.PriceCategory.Trim(),
                Rows = s.Rows,
                SeatsPerRow = s.SeatsPerRow,
                FirstSeatIndex = next,
            });
            next += s.Rows * s.SeatsPerRow;
        }

        venue.SeatCount = next;

        // The venue and its seats in one transaction, on the context's own connection.
        await db.Database.CreateExecutionStrategy().ExecuteAsync(async () =>
        {
            db.ChangeTracker.Clear();
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var connection = (NpgsqlConnection)db.Database.GetDbConnection();
            db.Venues.Add(venue);
            await db.SaveChangesAsync(cancellationToken);
            await CopySeatsAsync(connection, venue, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        });

        return venue;
    }

    /// <summary>The venues, newest first, with their sections (not their seats).</summary>
    public async Task<IReadOnlyList<Venue>> ListAsync(CancellationToken cancellationToken) =>
        await db.Venues.AsNoTracking().Include(v => v.Sections).OrderByDescending(v => v.CreatedAt).Take(500).ToListAsync(cancellationToken);

    public Task<Venue?> GetAsync(Guid id, CancellationToken cancellationToken) =>
        db.Venues.AsNoTracking().Include(v => v.Sections).FirstOrDefaultAsync(v => v.Id == id, cancellationToken);

    private static async Task CopySeatsAsync(NpgsqlConnection connection, Venue venue, CancellationToken cancellationToken)
    {
        await using var copy = await connection.BeginBinaryImportAsync(
            "COPY \"Seats\" (\"VenueId\", \"Index\", \"Section\", \"Row\", \"Number\", \"PriceCategory\") FROM STDIN (FORMAT BINARY)", cancellationToken);
        foreach (var section in venue.Sections)
        {
            for (var row = 1; row <= section.Rows; row++)
            {
                for (var number = 1; number <= section.SeatsPerRow; number++)
                {
                    await copy.StartRowAsync(cancellationToken);
                    await copy.WriteAsync(venue.Id, NpgsqlDbType.Uuid, cancellationToken);
                    await copy.WriteAsync(section.FirstSeatIndex + ((row - 1) * section.SeatsPerRow) + (number - 1), NpgsqlDbType.Integer, cancellationToken);
                    await copy.WriteAsync(section.Name, NpgsqlDbType.Text, cancellationToken);
                    await copy.WriteAsync(row, NpgsqlDbType.Integer, cancellationToken);
                    await copy.WriteAsync(number, NpgsqlDbType.Integer, cancellationToken);
                    await copy.WriteAsync(section.PriceCategory, NpgsqlDbType.Text, cancellationToken);
                }
            }
        }

        await copy.CompleteAsync(cancellationToken);
    }
}

public sealed record CreateVenueRequest(
    [property: Required, MinLength(1), MaxLength(200)] string Name,
    [property: Required, MinLength(1), MaxLength(100)] IReadOnlyList<SectionSpec> Sections);

public sealed record SectionSpec(
    [property: Required, MinLength(1), MaxLength(50)] string Name,
    [property: Required, MinLength(1), MaxLength(50)] string PriceCategory,
    [property: Range(1, 1000)] int Rows,
    [property: Range(1, 1000)] int SeatsPerRow);

public sealed record VenueResponse(Guid Id, string Name, int SeatCount, IReadOnlyList<SectionView> Sections)
{
    public static VenueResponse From(Venue v) => new(v.Id, v.Name, v.SeatCount,
        v.Sections.OrderBy(s => s.FirstSeatIndex).Select(s => new SectionView(s.Name, s.PriceCategory, s.Rows, s.SeatsPerRow, s.FirstSeatIndex)).ToList());
}
