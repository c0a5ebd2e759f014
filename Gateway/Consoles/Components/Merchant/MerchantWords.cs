using Mesh.Gateway.Localization;
using Microsoft.Extensions.Localization;

namespace Mesh.Gateway.Consoles.Components.Merchant;

/// <summary>How the merchant console's pages word values and lists of problems in the request's language.</summary>
public static class MerchantWords
{
    /// <summary>
    /// The label of a value (an order's status, a role, a notification mode): the resource <c>{kind}.{value}</c>, or the value
    /// itself when it has none. The value stays what forms post and exports carry.
    /// </summary>
    public static string Label(this IStringLocalizer text, string kind, string value)
    {
        var label = text[kind + "." + value];
        return label.ResourceNotFound ? value : label.Value;
    }

    /// <summary>Every problem of a form, worded and joined the language's way.</summary>
    public static string Said(this IStringLocalizer text, IEnumerable<Words> problems) =>
        string.Join(text["ProblemSeparator"].Value, problems.Select(text.Say));
}
