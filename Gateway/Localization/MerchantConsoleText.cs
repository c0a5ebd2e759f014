namespace Mesh.Gateway.Localization;

/// <summary>
/// The merchant console's words (its pages, their messages and errors, the labels of statuses and roles), keyed by their
/// English text or, for a value's label, by <c>{kind}.{value}</c>: <c>MerchantConsoleText.resx</c> (English, the neutral
/// language) and <c>MerchantConsoleText.zh-CN.resx</c>.
/// </summary>
public sealed class MerchantConsoleText;
