using TicketSale.AppHost.Hosting;
using TicketSale.AppHost.Hosting.Resources;

namespace TicketSale.UnitTests;

public sealed class PrerequisitesTests
{
    [Fact]
    public void The_message_names_each_missing_binary_and_one_install_command()
    {
        var error = new MissingPrerequisitesException([new("redis-server", "redis-server"), new("postgres", "postgresql"), new("initdb", "postgresql")]);

        Assert.Equal(
            "Cannot start: 'redis-server' (package redis-server), 'postgres' (package postgresql), 'initdb' (package postgresql) not found. "
            + "Install with: sudo apt-get install -y redis-server postgresql",
            error.Message);
    }

    [Fact]
    public void The_locator_finds_only_what_is_in_its_search_path()
    {
        var folder = Directory.CreateTempSubdirectory("ticketsale-locator-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, "redis-server"), "");
            var locator = new ExecutableLocator([folder]);

            Assert.Equal(Path.Combine(folder, "redis-server"), locator.TryFind("redis-server"));
            Assert.Null(locator.TryFind("rabbitmq-server"));
            Assert.Throws<MissingPrerequisitesException>(() => locator.Find("rabbitmq-server"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
