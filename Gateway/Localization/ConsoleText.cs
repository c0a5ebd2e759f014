namespace Mesh.Gateway.Localization;

/// <summary>
/// The consoles' words (the merchant console's and the operator console's), in <c>ConsoleText.resx</c>
/// (English, the neutral language) and <c>ConsoleText.zh-CN.resx</c>.
/// </summary>
public sealed class ConsoleText;
