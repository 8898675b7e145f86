using TicketSale.AppHost.LocalServers;

namespace TicketSale.UnitTests;

public sealed class PrerequisitesTests
{
    [Fact]
    public void Missing_binaries_are_named_with_one_install_command_and_found_ones_are_not()
    {
        var folder = Directory.CreateTempSubdirectory("ticketsale-locator-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, "redis-server"), "");
            var binaries = new MachineBinaries([folder]);

            Assert.Equal(Path.Combine(folder, "redis-server"), binaries.Find("redis-server", "redis-server"));
            Assert.Equal("postgres", binaries.Find("postgres", "postgresql"));
            binaries.Find("initdb", "postgresql");
            var error = Assert.Throws<MissingPrerequisitesException>(binaries.ThrowIfAnyMissing);

            Assert.Equal(
                "Cannot start: 'postgres' (package postgresql), 'initdb' (package postgresql) not found. "
                + "Install with: sudo apt-get install -y postgresql",
                error.Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Nothing_missing_throws_nothing()
    {
        var binaries = new MachineBinaries(["/usr/bin"]);
        binaries.Find("env", "coreutils");
        binaries.ThrowIfAnyMissing();
        Assert.Equal("/usr/bin/env", binaries.Find("env", "coreutils"));
    }
}
