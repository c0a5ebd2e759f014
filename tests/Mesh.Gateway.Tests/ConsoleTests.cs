using System.Text;
using Mesh.Gateway.Consoles;
using Mesh.Gateway.Localization;

namespace Mesh.Gateway.Tests;

public sealed class ConsoleTests
{
    /// <summary>PBKDF2-HMAC-SHA256 known answers (RFC 7914, section 11): the console's password hash is the standard one.</summary>
    [Theory]
    [InlineData("passwd", "salt", 1, "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc")]
    [InlineData("Password", "NaCl", 80000, "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56")]
    public void PasswordHash_IsPbkdf2HmacSha256(string password, string salt, int iterations, string expectedHex) =>
        Assert.Equal(expectedHex, Convert.ToHexStringLower(ConsoleAccounts.Hash(password, Encoding.UTF8.GetBytes(salt), iterations)));

    [Theory]
    [InlineData("12.34", 1_234L)]
    [InlineData("100", 10_000L)]
    [InlineData("0.5", 50L)]
    [InlineData("30.00", 3_000L)]
    public void AnAmountTypedInMajorUnits_IsReadInMinorUnits(string typed, long minor)
    {
        var problems = new List<Words>();

        Assert.Equal(minor, MerchantConsoleApi.Amount(typed, "amount", problems));
        Assert.Empty(problems);
    }

    [Theory]
    [InlineData("12.345")] // no fractions of a fen
    [InlineData("-5")]
    [InlineData("1e3")]
    [InlineData("12,34")]
    [InlineData("99999999999")] // above what an order may carry
    public void AnAmountThatIsNotOne_IsAProblem_NotAGuess(string typed)
    {
        var problems = new List<Words>();

        Assert.Null(MerchantConsoleApi.Amount(typed, "amount", problems));
        var problem = Assert.Single(problems);
        Assert.Equal(("{0} is an amount like 12.34", "amount"), (problem.Text, Assert.IsType<Words>(Assert.Single(problem.Args)).Text));
    }
}
