using System.Net;
using System.Text;

namespace TicketSale.Sales.Tests;

/// <summary>Bad input answers 4xx problem details, never a 500 and never a half-done change.</summary>
[Collection(SaleCollection.Name)]
public sealed class ValidationTests(SaleFixture fixture)
{
    private static readonly string s_unknown = Guid.NewGuid().ToString();

    public static TheoryData<string, string, string, string?, int> InvalidRequests => new()
    {
        // who, method + path, body, Idempotency-Key, expected status
        { "anonymous", "POST /api/auth/register", "{\"email\":", null, 400 },
        { "anonymous", "POST /api/auth/register", "{\"email\": 5, \"password\": true}", null, 400 },
        { "anonymous", "POST /api/auth/register", "[1, 2, 3]", null, 400 },
        { "anonymous", "POST /api/auth/register", "null", null, 400 },
        { "anonymous", "POST /api/auth/register", "{\"email\":\"not-an-address\",\"password\":\"long enough password\"}", null, 400 },
        { "anonymous", "POST /api/auth/register", "{\"email\":\"a'; DROP TABLE \\\"Users\\\";--\",\"password\":\"long enough password\"}", null, 400 },
        { "anonymous", "POST /api/auth/register", "{\"email\":\"short@example.com\",\"password\":\"short\"}", null, 400 },
        { "anonymous", "POST /api/auth/login", "{\"email\":\"<script>alert(1)</script>\",\"password\":\"x\"}", null, 401 },
        { "customer", "POST /api/campaigns/{campaign}/holds", "{\"generalAdmissionCategoryId\":\"{ga}\",\"quantity\":-1}", null, 400 },
        { "customer", "POST /api/campaigns/{campaign}/holds", "{\"generalAdmissionCategoryId\":\"{ga}\",\"quantity\":1000000}", null, 400 },
        { "customer", "POST /api/campaigns/{campaign}/holds", "{\"generalAdmissionCategoryId\":\"{ga}\",\"quantity\":1e309}", null, 400 },
        { "customer", "POST /api/campaigns/{campaign}/holds", "{\"seats\":[" + string.Join(',', Enumerable.Range(0, 101)) + "]}", null, 400 },
        { "customer", "POST /api/campaigns/{campaign}/holds", "{\"seats\":[1,1]}", null, 400 },
        { "customer", "POST /api/campaigns/{campaign}/holds", "{\"seats\":[]}", null, 400 },
        { "customer", "POST /api/campaigns/{campaign}/holds", "{\"seats\":[\"one\"]}", null, 400 },
        { "customer", "POST /api/campaigns/{campaign}/holds", "{\"seats\":[-1]}", null, 404 },
        { "customer", "POST /api/campaigns/{campaign}/holds", "{\"seats\":[99999]}", null, 404 },
        { "customer", "POST /api/campaigns/{campaign}/holds", "{\"generalAdmissionCategoryId\":\"" + s_unknown + "\",\"quantity\":1}", null, 404 },
        { "customer", "POST /api/campaigns/" + s_unknown + "/holds", "{\"seats\":[1]}", null, 404 },
        { "customer", "POST /api/campaigns/not-a-guid/holds", "{\"seats\":[1]}", null, 404 },
        { "customer", "POST /api/purchases", "{\"campaignId\":\"{campaign}\",\"holdId\":\"" + s_unknown + "\"}", null, 400 },
        { "customer", "POST /api/purchases", "{\"campaignId\":\"{campaign}\",\"holdId\":\"" + s_unknown + "\"}", "<script>x</script>", 400 },
        { "customer", "POST /api/purchases", "{\"campaignId\":\"{campaign}\",\"holdId\":\"'; DROP TABLE \\\"Orders\\\";--\"}", "valid-key-123", 400 },
        { "customer", "POST /api/purchases", "{\"campaignId\":\"{campaign}\",\"holdId\":\"" + s_unknown + "\"}", "valid-key-456", 404 },
        { "customer", "GET /api/purchases/" + s_unknown, "", null, 404 },
        { "customer", "GET /api/orders/" + s_unknown, "", null, 404 },
        { "customer", "POST /api/admin/venues", "{\"name\":\"x\",\"sections\":[]}", null, 403 },
        { "admin", "POST /api/admin/venues", "{\"name\":\"" + new string('x', 1000) + "\",\"sections\":[{\"name\":\"A\",\"priceCategory\":\"a\",\"rows\":1,\"seatsPerRow\":1}]}", null, 400 },
        { "admin", "POST /api/admin/venues", "{\"name\":\"Zero\",\"sections\":[{\"name\":\"A\",\"priceCategory\":\"a\",\"rows\":0,\"seatsPerRow\":10}]}", null, 400 },
        { "admin", "POST /api/admin/venues", "{\"name\":\"Huge\",\"sections\":[{\"name\":\"A\",\"priceCategory\":\"a\",\"rows\":1000,\"seatsPerRow\":1000}]}", null, 400 },
        { "admin", "POST /api/admin/venues", "{\"name\":\"" + new string('y', 100_000) + "\"}", null, 413 },
        { "admin", "POST /api/admin/campaigns", "{\"name\":\"Backwards\",\"eventAt\":\"2030-01-01T00:00:00Z\",\"saleOpensAt\":\"2030-01-01T00:00:00Z\",\"saleClosesAt\":\"2029-01-01T00:00:00Z\",\"perUserLimit\":4,\"prices\":[],\"generalAdmission\":[{\"name\":\"GA\",\"capacity\":10,\"priceCents\":1}]}", null, 400 },
        { "admin", "POST /api/admin/campaigns", "{\"name\":\"NoVenue\",\"venueId\":\"" + s_unknown + "\",\"eventAt\":\"2030-01-01T00:00:00Z\",\"saleOpensAt\":\"2029-01-01T00:00:00Z\",\"saleClosesAt\":\"2030-01-01T00:00:00Z\",\"perUserLimit\":4,\"prices\":[],\"generalAdmission\":[]}", null, 400 },
        { "admin", "POST /api/admin/campaigns", "{\"name\":\"Limit\",\"eventAt\":\"2030-01-01T00:00:00Z\",\"saleOpensAt\":\"2029-01-01T00:00:00Z\",\"saleClosesAt\":\"2030-01-01T00:00:00Z\",\"perUserLimit\":0,\"prices\":[],\"generalAdmission\":[{\"name\":\"GA\",\"capacity\":-5,\"priceCents\":1}]}", null, 400 },
        { "admin", "POST /api/admin/campaigns", "{\"name\":\"Hoarding\",\"eventAt\":\"2030-01-01T00:00:00Z\",\"saleOpensAt\":\"2029-01-01T00:00:00Z\",\"saleClosesAt\":\"2030-01-01T00:00:00Z\",\"perUserLimit\":4,\"holdSeconds\":3600,\"prices\":[],\"generalAdmission\":[{\"name\":\"GA\",\"capacity\":10,\"priceCents\":1}]}", null, 400 },
        { "admin", "POST /api/admin/campaigns/" + s_unknown + "/open", "", null, 404 },
    };

    [Theory]
    [MemberData(nameof(InvalidRequests))]
    public async Task Invalid_input_answers_4xx_problem_details(string who, string request, string body, string? idempotencyKey, int expected)
    {
        var campaign = await SharedCampaignAsync();
        var client = who switch
        {
            "admin" => fixture.Admin,
            "customer" => await fixture.NewCustomerAsync(),
            _ => fixture.Anonymous(),
        };
        var (method, path) = (request.Split(' ')[0], request.Split(' ')[1].Replace("{campaign}", campaign.Id.ToString(), StringComparison.Ordinal));
        body = body.Replace("{campaign}", campaign.Id.ToString(), StringComparison.Ordinal).Replace("{ga}", campaign.GeneralAdmissionId.ToString(), StringComparison.Ordinal);

        var response = await client.SendAsync(new HttpMethod(method), path, null,
            rawContent: body.Length == 0 ? null : new StringContent(body, Encoding.UTF8, "application/json"),
            idempotencyKey: request.Contains("/api/purchases", StringComparison.Ordinal) && idempotencyKey is null ? null : idempotencyKey);

        Assert.Equal((HttpStatusCode)expected, response.Status);
        Assert.Equal("application/problem+json", response.ContentType);
        Assert.Equal(expected, (int)response.Body!["status"]!);
    }

    [Fact]
    public async Task Field_errors_name_the_fields()
    {
        var response = await fixture.Anonymous().PostAsync("/api/auth/register", new { email = "not-an-address", password = "short" });

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        var errors = response.Body!["errors"]!.AsObject();
        Assert.Contains(errors, e => e.Key.Equals("email", StringComparison.OrdinalIgnoreCase));
        Assert.Contains(errors, e => e.Key.Equals("password", StringComparison.OrdinalIgnoreCase));
    }

    private static Campaign? s_campaign;

    private async Task<Campaign> SharedCampaignAsync() =>
        s_campaign ??= await fixture.NewCampaignOnSaleAsync(rows: 1, seatsPerRow: 10, generalAdmission: 100);
}
