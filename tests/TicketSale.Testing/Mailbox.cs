using System.Text.RegularExpressions;
using MimeKit;

namespace TicketSale.Testing;

/// <summary>
/// The mail the development mail sink received, one .eml file each in the state folder's <c>mail/</c>: what a person
/// would find in their inbox.
/// </summary>
public sealed partial class Mailbox(string directory)
{
    /// <summary>The token of the newest confirmation link sent to <paramref name="email"/>, waiting for it to arrive.</summary>
    public async Task<string> VerificationTokenAsync(string email, TimeSpan? timeout = null)
    {
        var messages = await WaitForAsync(email, m => VerificationLink().IsMatch(m.TextBody ?? ""), timeout ?? TimeSpan.FromSeconds(15));
        return Uri.UnescapeDataString(VerificationLink().Match(messages[0].TextBody ?? "").Groups["token"].Value);
    }

    /// <summary>The messages sent to <paramref name="email"/>, newest first.</summary>
    public IReadOnlyList<MimeMessage> To(string email) =>
        Directory.Exists(directory)
            ? Directory.EnumerateFiles(directory, "*.eml").OrderDescending()
                // The address is in the headers, as written: a cheap filter before parsing.
                .Where(f => File.ReadAllText(f).Contains(email, StringComparison.OrdinalIgnoreCase))
                .Select(f => MimeMessage.Load(f))
                .Where(m => m.To.Mailboxes.Any(a => string.Equals(a.Address, email, StringComparison.OrdinalIgnoreCase)))
                .ToList()
            : [];

    /// <summary>Waits until a message to <paramref name="email"/> matches, and returns every one that does, newest first.</summary>
    public async Task<IReadOnlyList<MimeMessage>> WaitForAsync(string email, Func<MimeMessage, bool> matches, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (To(email).Where(matches).ToList() is { Count: > 0 } found)
            {
                return found;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"No matching mail for {email} in {directory}.");
            }

            await Task.Delay(100);
        }
    }

    [GeneratedRegex(@"\?verify-email=(?<token>[A-Za-z0-9_\-\.%]+)")]
    private static partial Regex VerificationLink();
}
