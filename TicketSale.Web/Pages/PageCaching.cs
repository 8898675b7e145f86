using Microsoft.Net.Http.Headers;

namespace TicketSale.Web.Pages;

/// <summary>
/// The pages are one index.html and content-hashed assets (ClientApp, built by Vite into wwwroot): the assets never
/// change under their name, so browsers and caches keep them for a year; index.html names the current ones and is
/// revalidated on every visit, so a new release reaches everyone at their next page load.
/// </summary>
internal static class PageCaching
{
    public const string Immutable = "public, max-age=31536000, immutable";

    public static StaticFileOptions Options { get; } = new()
    {
        OnPrepareResponse = context => context.Context.Response.Headers[HeaderNames.CacheControl] =
            context.Context.Request.Path.StartsWithSegments("/assets") ? Immutable : "no-cache",
    };
}
