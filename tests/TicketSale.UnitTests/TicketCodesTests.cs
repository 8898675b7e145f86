using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using TicketSale.Core.Auth;
using TicketSale.Core.Tickets;

namespace TicketSale.UnitTests;

public sealed class TicketCodesTests
{
    private static TicketCodes Codes(string signingKey, params string[] validationKeys) =>
        new(Options.Create(new TicketOptions { SigningKey = signingKey, ValidationKeys = validationKeys }));

    private static string PublicHalf(string privateKey)
    {
        using var key = ECDsa.Create();
        key.ImportPkcs8PrivateKey(Convert.FromBase64String(privateKey), out _);
        return Convert.ToBase64String(key.ExportSubjectPublicKeyInfo());
    }

    [Fact]
    public void A_code_names_its_campaign_and_ticket_and_is_short_enough_for_a_small_qr_code()
    {
        using var codes = Codes(SigningKeys.Generate());
        var (campaign, ticket) = (Guid.NewGuid(), Guid.NewGuid());

        var code = codes.Issue(campaign, ticket);

        Assert.StartsWith("TS1.", code, StringComparison.Ordinal);
        Assert.True(code.Length < 150, code);
        Assert.True(codes.TryRead(code, out var claim));
        Assert.Equal(new TicketClaim(campaign, ticket), claim);
    }

    [Fact]
    public void A_changed_character_anywhere_a_code_signed_by_another_key_and_garbage_are_refused()
    {
        var key = SigningKeys.Generate();
        using var codes = Codes(key);
        var code = codes.Issue(Guid.NewGuid(), Guid.NewGuid());
        for (var i = 4; i < code.Length; i++)
        {
            if (code[i] == '.')
            {
                continue;
            }

            var altered = code[..i] + (code[i] == 'A' ? 'B' : 'A') + code[(i + 1)..];
            Assert.False(codes.TryRead(altered, out _), $"accepted with character {i} changed: {altered}");
        }

        using var forger = Codes(SigningKeys.Generate());
        Assert.False(codes.TryRead(forger.Issue(Guid.NewGuid(), Guid.NewGuid()), out _));
        foreach (var garbage in new[] { "", "TS1.", "TS1..", "TS2." + code[4..], code + "A", code[..^1], "TS1.!!!.???", new string('A', 5000) })
        {
            Assert.False(codes.TryRead(garbage, out _), garbage);
        }
    }

    [Fact]
    public void After_a_key_rotation_codes_of_the_old_key_are_still_read_and_both_public_keys_are_published()
    {
        var old = SigningKeys.Generate();
        using var before = Codes(old);
        var code = before.Issue(Guid.NewGuid(), Guid.NewGuid());
        var next = SigningKeys.Generate();

        using var after = Codes(next, PublicHalf(old));
        using var forgotten = Codes(next);

        Assert.True(after.TryRead(code, out _));
        Assert.False(forgotten.TryRead(code, out _));
        Assert.Equal([PublicHalf(next), PublicHalf(old)], after.PublicKeys.Select(k => k.PublicKey));
        Assert.Equal(before.PublicKeys[0].Id, after.PublicKeys[1].Id);
    }

    [Fact]
    public void Without_a_signing_key_the_api_does_not_start()
    {
        Assert.Throws<InvalidOperationException>(() => Codes(""));
    }
}
