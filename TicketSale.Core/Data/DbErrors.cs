using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace TicketSale.Core.Data;

public static class DbErrors
{
    public static bool IsUniqueViolation(this DbUpdateException ex) =>
        ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };
}
