using System.Reflection;
using System.Text.Json;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace TicketSale.Sales.Tests;

/// <summary>The web app's pages as the browser tests drive them: signing in, the seat map's seats, axe and screenshots.</summary>
public sealed class WebPages(SaleFixture fixture, ITestOutputHelper output)
{
    public static readonly string RepositoryRoot = typeof(WebPages).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "RepositoryRoot").Value!;

    /// <summary>A page at a route of the app ("#/orders"), its console written to the test's output.</summary>
    public async Task<IPage> OpenAsync(IBrowser browser, string route = "#/", BrowserNewPageOptions? options = null)
    {
        var page = await browser.NewPageAsync(options);
        page.Console += (_, message) => output.WriteLine($"console: {message.Text}");
        page.PageError += (_, error) => output.WriteLine($"page error: {error}");
        await page.GotoAsync(new Uri(fixture.Web, "/" + route).ToString());
        return page;
    }

    /// <summary>Signs in on the account page (with a one-time code when the account asks for one).</summary>
    public async Task<IPage> SignInAsync(IBrowser browser, string email, string password = SaleFixture.CustomerPassword, string? code = null,
        BrowserNewPageOptions? options = null)
    {
        var page = await OpenAsync(browser, "#/account", options);
        await page.Locator("#email").FillAsync(email);
        await page.Locator("#password").FillAsync(password);
        await page.Locator("#sign-in button[type=submit]").ClickAsync();
        if (code is not null)
        {
            await page.Locator("#code").FillAsync(code, new() { Timeout = 10_000 });
            await page.Locator("#sign-in button[type=submit]").ClickAsync();
        }

        await Assertions.Expect(page.Locator("#session")).ToContainTextAsync($"Signed in as {email}");
        return page;
    }

    public async Task<IPage> SignInAsAdminAsync(IBrowser browser, BrowserNewPageOptions? options = null)
    {
        var (password, code) = await fixture.AdminSession.CredentialsForOneSignInAsync();
        return await SignInAsync(browser, AdminSession.Email, password, code, options);
    }

    /// <summary>Opens a campaign's page and waits for its seat map to be drawn.</summary>
    public static async Task GoToCampaignAsync(IPage page, Guid campaign, bool withSeatMap = true)
    {
        await page.GotoAsync(new Uri(new Uri(page.Url), $"/#/campaigns/{campaign}").ToString());
        if (withSeatMap)
        {
            await page.Locator("canvas.seat-map-canvas[data-render-ms]").WaitForAsync(new() { Timeout = 20_000 });
        }
    }

    /// <summary>Clicks a seat where the map draws it.</summary>
    public static async Task ClickSeatAsync(IPage page, int seat)
    {
        var center = await page.EvaluateAsync<JsonElement>("seat => window.seatMap.seatCenter(seat)", seat);
        var box = (await page.Locator("canvas.seat-map-canvas").BoundingBoxAsync())!;
        await page.Mouse.ClickAsync(box.X + center.GetProperty("x").GetSingle(), box.Y + center.GetProperty("y").GetSingle());
    }

    /// <summary>The colour the map's pixels show at a seat's centre, as "#rrggbb".</summary>
    public static Task<string> SeatColorAsync(IPage page, int seat) => page.EvaluateAsync<string>("""
        seat => {
          const map = window.seatMap, p = map.seatCenter(seat), ratio = window.devicePixelRatio || 1;
          const [r, g, b] = map.canvas.getContext("2d").getImageData(Math.round(p.x * ratio), Math.round(p.y * ratio), 1, 1).data;
          return "#" + [r, g, b].map(v => v.toString(16).padStart(2, "0")).join("");
        }
        """, seat);

    public const string TakenColor = "#c9cdd2";

    /// <summary>Runs axe-core (from the npm package the web app's build installs) and returns its serious and critical violations.</summary>
    public async Task<IReadOnlyList<string>> AccessibilityViolationsAsync(IPage page)
    {
        var axe = await File.ReadAllTextAsync(Path.Combine(RepositoryRoot, "TicketSale.Web/ClientApp/node_modules/axe-core/axe.min.js"));
        // Evaluated, not added as a script tag: the page's Content-Security-Policy forbids inline scripts.
        await page.EvaluateAsync(axe);
        var result = await page.EvaluateAsync<JsonElement>("""
            async () => (await axe.run(document, { resultTypes: ["violations"] })).violations
              .filter(v => v.impact === "serious" || v.impact === "critical")
              .map(v => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map(n => n.target.join(" ")).slice(0, 3).join(", ")}`)
            """);
        var violations = result.EnumerateArray().Select(v => v.GetString()!).ToList();
        foreach (var violation in violations)
        {
            output.WriteLine($"axe: {violation}");
        }

        return violations;
    }

    /// <summary>A full-page screenshot in TestResults/screenshots (docs/screenshots holds the copies the README shows).</summary>
    public static async Task ScreenshotAsync(IPage page, string name)
    {
        var folder = Path.Combine(RepositoryRoot, "TestResults", "screenshots");
        Directory.CreateDirectory(folder);
        await page.ScreenshotAsync(new() { Path = Path.Combine(folder, name + ".png"), FullPage = true });
    }
}
