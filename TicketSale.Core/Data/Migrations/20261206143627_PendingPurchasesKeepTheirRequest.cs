using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace TicketSale.Core.Data.Migrations
{
    /// <inheritdoc />
    public partial class PendingPurchasesKeepTheirRequest : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "Deadline",
                table: "Purchases",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Request",
                table: "Purchases",
                type: "jsonb",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_Purchases_PendingDeadline",
                table: "Purchases",
                column: "Deadline",
                filter: "\"Status\" = 'Pending'");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Purchases_PendingDeadline",
                table: "Purchases");

            migrationBuilder.DropColumn(
                name: "Deadline",
                table: "Purchases");

            migrationBuilder.DropColumn(
                name: "Request",
                table: "Purchases");
        }
    }
}
