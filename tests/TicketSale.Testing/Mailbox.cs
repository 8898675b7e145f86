using System.Text.RegularExpressions;

namespace TicketSale.Testing;

/// <summary>
/// The mail the Api wrote to the state folder's <c>mail/</c> (its pickup directory in a run): what a person would find
/// in their inbox.
/// </summary>
public sealed partial class Mailbox(string directory)
{
    /// <summary>The token of the newest confirmation link sent to <paramref name="email"/>, waiting for it to arrive.</summary>
    public async Task<string> VerificationTokenAsync(string email, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            var found = Directory.Exists(directory)
                ? Directory.EnumerateFiles(directory, "*.eml").Select(f => new FileInfo(f)).OrderByDescending(f => f.LastWriteTimeUtc)
                    .Select(f => File.ReadAllText(f.FullName))
                    .Where(m => m.Contains(email, StringComparison.OrdinalIgnoreCase))
                    .Select(m => VerificationLink().Match(m)).FirstOrDefault(m => m.Success)
                : null;
            if (found is not null)
            {
                return Uri.UnescapeDataString(found.Groups["token"].Value);
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"No confirmation mail for {email} in {directory}.");
            }

            await Task.Delay(100);
        }
    }

    [GeneratedRegex(@"\?verify-email=(?<token>[A-Za-z0-9_\-\.%]+)")]
    private static partial Regex VerificationLink();
}
