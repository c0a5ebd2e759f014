namespace Mesh.Gateway.Localization;

/// <summary>
/// The words every page of the gateway shares (the language switch, the patterns of amounts and
/// dates), in <c>SharedText.resx</c> (English, the neutral language) and <c>SharedText.zh-CN.resx</c>.
/// </summary>
public sealed class SharedText;
