using Microsoft.Playwright;

namespace TicketSale.Sales.Tests;

/// <summary>Reads QR codes as a scanner would: from the pixels a browser draws.</summary>
internal static class QrCodes
{
    /// <summary>Decodes the QR code a canvas shows, from its pixels.</summary>
    public static async Task<string> ReadAsync(ILocator canvas)
    {
        var image = await canvas.EvaluateAsync<QrPixels>("""
            c => {
              const { data } = c.getContext("2d").getImageData(0, 0, c.width, c.height);
              const gray = [];
              for (let i = 0; i < data.length; i += 4) gray.push(Math.round((data[i] + data[i + 1] + data[i + 2]) / 3));
              return { width: c.width, height: c.height, gray };
            }
            """);
        var source = new ZXing.RGBLuminanceSource([.. image.Gray.Select(g => (byte)g)], image.Width, image.Height, ZXing.RGBLuminanceSource.BitmapFormat.Gray8);
        var result = new ZXing.QrCode.QRCodeReader().decode(new ZXing.BinaryBitmap(new ZXing.Common.HybridBinarizer(source)));
        Assert.NotNull(result);
        return result.Text;
    }

    /// <summary>Decodes a PNG image of a QR code: the browser draws it on a canvas, then as <see cref="ReadAsync"/>.</summary>
    public static async Task<string> ReadPngAsync(IPage page, byte[] png)
    {
        await page.SetContentAsync("<canvas id='qr'></canvas>");
        await page.EvaluateAsync("""
            async url => {
              const image = new Image();
              image.src = url;
              await image.decode();
              const canvas = document.getElementById("qr");
              canvas.width = image.width;
              canvas.height = image.height;
              canvas.getContext("2d").drawImage(image, 0, 0);
            }
            """, "data:image/png;base64," + Convert.ToBase64String(png));
        return await ReadAsync(page.Locator("#qr"));
    }

    private sealed class QrPixels
    {
        public int Width { get; set; }

        public int Height { get; set; }

        public int[] Gray { get; set; } = [];
    }
}
