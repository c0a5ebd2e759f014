namespace Mesh.Gateway.Localization;

/// <summary>
/// The words of the consumer's pages (the payment page, the code's page, the result, the way back to the
/// merchant, errors), keyed by their English text: <c>PaymentText.resx</c> and <c>PaymentText.zh-CN.resx</c>.
/// </summary>
public sealed class PaymentText;
