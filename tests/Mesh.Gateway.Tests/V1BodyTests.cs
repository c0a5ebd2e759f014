using System.Text;
using Mesh.Gateway.Apis;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Mesh.Gateway.Tests;

/// <summary>A typed /v1 body keeps the fields as sent (what is signed) and names what is wrong with a field, never failing to bind.</summary>
public sealed class V1BodyTests
{
    [Fact]
    public async Task AWellFormedBody_IsTyped_AndKeepsItsFieldsAsSent()
    {
        var body = await BindAsync<RefundOrderRequest>("""{"merId":"808080000000001","refundId":"r-1","refundAmt":"100","signature":""}""");

        Assert.Null(body.Malformed);
        Assert.Equal(("808080000000001", "r-1", "100"), (body.MerId, body.RefundId, body.RefundAmt));
        Assert.Equal(["merId", "refundId", "refundAmt", "signature"], body.Fields.Keys);
        Assert.Equal("", body.Fields["signature"]);
    }

    [Theory]
    [InlineData("""{"merId":"808080000000001","refundAmt":100}""", "refundAmt", "a string")]
    [InlineData("""{"merId":"808080000000001","MerId":"1"}""", "MerId", "not a field of this request")]
    [InlineData("""{"merId":"1","merId":"2"}""", "merId", "once")]
    [InlineData("""[1,2]""", "body", "a JSON object")]
    [InlineData("""{"merId":""", "body", "a JSON object")]
    public async Task AMalformedBody_IsA400Problem_NamingTheField(string json, string field, string rule)
    {
        var body = await BindAsync<RefundOrderRequest>(json);

        var problem = Assert.IsType<ValidationProblem>(body.Malformed);
        var details = problem.ProblemDetails;
        Assert.Equal((400, "request.invalid"), (problem.StatusCode, details.Extensions["code"]));
        Assert.StartsWith(rule, details.Errors[field][0], StringComparison.Ordinal);
        Assert.Empty(body.Fields);
    }

    [Fact]
    public async Task ABodyThatIsNotJson_IsA400Problem()
    {
        var body = await BindAsync<OrderActionRequest>("merId=1", "application/x-www-form-urlencoded");

        Assert.Equal(["a JSON object of string values, Content-Type: application/json"], Assert.IsType<ValidationProblem>(body.Malformed).ProblemDetails.Errors["body"]);
    }

    private static async Task<T> BindAsync<T>(string json, string contentType = "application/json") where T : V1Body
    {
        var http = new DefaultHttpContext();
        http.Request.ContentType = contentType;
        http.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(json));
        var bind = typeof(T).GetMethod("BindAsync")!;
        return (await (ValueTask<T?>)bind.Invoke(null, [http])!)!;
    }
}
