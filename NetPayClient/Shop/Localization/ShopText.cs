namespace Mesh.Shop.Localization;

/// <summary>The shop's words, keyed by their English text: <c>ShopText.resx</c> and <c>ShopText.zh-CN.resx</c>.</summary>
public sealed class ShopText;
