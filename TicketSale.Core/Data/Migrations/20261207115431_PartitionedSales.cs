using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TicketSale.Core.Data.Migrations
{
    /// <summary>
    /// Orders and tickets partitioned by hash of their campaign, payments by hash of their purchase (eight partitions
    /// each). The campaign is the key because the unique active-seat index must contain the partition key to stay one
    /// index across partitions, the last word against a double sale; a date key would split it per partition. Every
    /// sale query names its campaign, so it reads one partition.
    /// </summary>
    public partial class PartitionedSales : Migration
    {
        /// <summary>How many hash partitions each table gets: a campaign's rows live in one of them.</summary>
        private const int Partitions = 8;

        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Each table is moved aside and created again, partitioned, under its own name, its rows copied; then the old
            // ones are dropped. The migration is one transaction: a failure leaves the old tables as they were.
            Rebuild(migrationBuilder, "Orders", "HASH (\"CampaignId\")");
            Rebuild(migrationBuilder, "Tickets", "HASH (\"CampaignId\")");
            // Payments are found by purchase alone (the gateway's idempotency key): partitioned by it, the key stays their own.
            Rebuild(migrationBuilder, "Payments", "HASH (\"PurchaseId\")");
            // Each partition's part of the active-seat index is named after it ("UX_Tickets_ActiveSeat_3"): a violation
            // names the partition's index, and the Worker tells a seat already sold by that name. The index on the
            // table then adopts them.
            for (var remainder = 0; remainder < Partitions; remainder++)
            {
                migrationBuilder.Sql($"""
                    CREATE UNIQUE INDEX "UX_Tickets_ActiveSeat_{remainder}" ON "Tickets_{remainder}" ("CampaignId", "SeatIndex") WHERE "Active" AND "SeatIndex" IS NOT NULL;
                    """);
            }

            migrationBuilder.Sql("""
                DROP TABLE "Tickets_unpartitioned";
                DROP TABLE "Orders_unpartitioned";
                DROP TABLE "Payments_unpartitioned";
                ALTER TABLE "Orders" ADD CONSTRAINT "PK_Orders" PRIMARY KEY ("Id", "CampaignId");
                CREATE INDEX "IX_Orders_CampaignId" ON "Orders" ("CampaignId");
                CREATE INDEX "IX_Orders_UserId_CreatedAt" ON "Orders" ("UserId", "CreatedAt");
                ALTER TABLE "Tickets" ADD CONSTRAINT "PK_Tickets" PRIMARY KEY ("Id", "CampaignId");
                CREATE INDEX "IX_Tickets_OrderId_CampaignId" ON "Tickets" ("OrderId", "CampaignId");
                CREATE UNIQUE INDEX "UX_Tickets_ActiveSeat" ON "Tickets" ("CampaignId", "SeatIndex") WHERE "Active" AND "SeatIndex" IS NOT NULL;
                ALTER TABLE "Payments" ADD CONSTRAINT "PK_Payments" PRIMARY KEY ("PurchaseId");
                """);
            // A ticket's order is in the partition of the same number (same campaign, same hash): the foreign key is
            // declared partition to partition. Declared on the tables, every ticket's check would search the partitioned
            // orders table, which halved the rate of confirmed orders (pgbench, batches of 64 orders of 4 tickets); between
            // partitions it costs what it did before partitioning.
            for (var remainder = 0; remainder < Partitions; remainder++)
            {
                migrationBuilder.Sql($"""
                    ALTER TABLE "Tickets_{remainder}" ADD CONSTRAINT "FK_Tickets_{remainder}_Orders_{remainder}" FOREIGN KEY ("OrderId", "CampaignId")
                        REFERENCES "Orders_{remainder}" ("Id", "CampaignId") ON DELETE CASCADE;
                    """);
            }
        }

        protected override void Down(MigrationBuilder migrationBuilder)
        {
            Flatten(migrationBuilder, "Orders");
            Flatten(migrationBuilder, "Tickets");
            Flatten(migrationBuilder, "Payments");
            migrationBuilder.Sql("""
                DROP TABLE "Tickets_partitioned";
                DROP TABLE "Orders_partitioned";
                DROP TABLE "Payments_partitioned";
                ALTER TABLE "Orders" ADD CONSTRAINT "PK_Orders" PRIMARY KEY ("Id");
                CREATE INDEX "IX_Orders_CampaignId" ON "Orders" ("CampaignId");
                CREATE INDEX "IX_Orders_UserId_CreatedAt" ON "Orders" ("UserId", "CreatedAt");
                ALTER TABLE "Tickets" ADD CONSTRAINT "PK_Tickets" PRIMARY KEY ("Id");
                CREATE INDEX "IX_Tickets_OrderId" ON "Tickets" ("OrderId");
                CREATE UNIQUE INDEX "UX_Tickets_ActiveSeat" ON "Tickets" ("CampaignId", "SeatIndex") WHERE "Active" AND "SeatIndex" IS NOT NULL;
                ALTER TABLE "Tickets" ADD CONSTRAINT "FK_Tickets_Orders_OrderId" FOREIGN KEY ("OrderId") REFERENCES "Orders" ("Id") ON DELETE CASCADE;
                ALTER TABLE "Payments" ADD CONSTRAINT "PK_Payments" PRIMARY KEY ("PurchaseId");
                """);
        }

        /// <summary>
        /// Moves <paramref name="table"/> aside and creates it again, partitioned, with its columns and rows. Keys and
        /// indexes are added once every table is moved (their names are taken until the old tables are dropped).
        /// </summary>
        private static void Rebuild(MigrationBuilder migrationBuilder, string table, string partitionBy)
        {
            migrationBuilder.Sql($"""
                ALTER TABLE "{table}" RENAME TO "{table}_unpartitioned";
                CREATE TABLE "{table}" (LIKE "{table}_unpartitioned" INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY {partitionBy};
                """);
            for (var remainder = 0; remainder < Partitions; remainder++)
            {
                migrationBuilder.Sql($"""CREATE TABLE "{table}_{remainder}" PARTITION OF "{table}" FOR VALUES WITH (MODULUS {Partitions}, REMAINDER {remainder});""");
            }

            migrationBuilder.Sql($"""INSERT INTO "{table}" SELECT * FROM "{table}_unpartitioned";""");
        }

        private static void Flatten(MigrationBuilder migrationBuilder, string table) => migrationBuilder.Sql($"""
            ALTER TABLE "{table}" RENAME TO "{table}_partitioned";
            CREATE TABLE "{table}" (LIKE "{table}_partitioned" INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
            INSERT INTO "{table}" SELECT * FROM "{table}_partitioned";
            """);
    }
}
