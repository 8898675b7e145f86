// Scaffolds an EF Core migration for TicketSale.Core, as 'dotnet ef migrations add' would: the dotnet-ef tool is not
// in this environment's package feed, but the design-time library it drives is.
// Usage: dotnet run --project tools/TicketSale.MigrationScaffolder -- <MigrationName>
using System.Reflection;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Migrations.Design;
using Microsoft.Extensions.DependencyInjection;
using TicketSale.Core.Data;

if (args is not [var name])
{
    Console.Error.WriteLine("Usage: TicketSale.MigrationScaffolder <MigrationName>");
    return 2;
}

var options = new DbContextOptionsBuilder<TicketSaleDbContext>().UseNpgsql("Host=unused").Options;
await using var context = new TicketSaleDbContext(options);

var services = new ServiceCollection()
    .AddEntityFrameworkDesignTimeServices()
    .AddDbContextDesignTimeServices(context);
// The provider names its design-time services the way dotnet-ef finds them.
var providerAssembly = typeof(NpgsqlDbContextOptionsBuilderExtensions).Assembly;
var designTimeType = providerAssembly.GetCustomAttribute<DesignTimeProviderServicesAttribute>()!.TypeName;
((IDesignTimeServices)Activator.CreateInstance(providerAssembly.GetType(designTimeType, throwOnError: true)!)!).ConfigureDesignTimeServices(services);
await using var provider = services.BuildServiceProvider();

var scaffolder = provider.GetRequiredService<IMigrationsScaffolder>();
var migration = scaffolder.ScaffoldMigration(name, rootNamespace: "TicketSale.Core", subNamespace: "Data.Migrations", language: "C#");
var project = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../TicketSale.Core"));
var files = scaffolder.Save(project, migration, Path.Combine(project, "Data", "Migrations"));
Console.WriteLine($"Wrote {files.MigrationFile}, {files.MetadataFile}, {files.SnapshotFile}");
return 0;
