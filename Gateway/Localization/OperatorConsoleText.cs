namespace Mesh.Gateway.Localization;

/// <summary>
/// The operator console's words (its pages, the messages and errors its handlers give), in
/// <c>OperatorConsoleText.resx</c> (English, the neutral language: each key is its English text, as
/// <see cref="Words"/> expects) and <c>OperatorConsoleText.zh-CN.resx</c>. The layout's navigation is
/// <see cref="ConsoleText"/>'s.
/// </summary>
public sealed class OperatorConsoleText;
