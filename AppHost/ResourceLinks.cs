namespace Mesh.AppHost;

/// <summary>
/// What a person opens on each resource, as links on the dashboard: the gateway's merchant and
/// operator consoles and its API reference, the demo shop's catalogue (where a payment starts).
/// </summary>
public static class ResourceLinks
{
    public const string MerchantConsole = "Merchant console";
    public const string OperatorConsole = "Operator console";
    public const string ApiReference = "API reference (Scalar)";
    public const string Shop = "Demo shop";

    public static IResourceBuilder<ProjectResource> WithGatewayLinks(this IResourceBuilder<ProjectResource> gateway) =>
        gateway.WithUrls(context =>
        {
            if (context.GetEndpoint("https") is not { } https)
            {
                return;
            }
            context.Urls.Add(new ResourceUrlAnnotation { Url = $"{https.Url}/console", DisplayText = MerchantConsole, Endpoint = https });
            context.Urls.Add(new ResourceUrlAnnotation { Url = $"{https.Url}/ops", DisplayText = OperatorConsole, Endpoint = https });
            context.Urls.Add(new ResourceUrlAnnotation { Url = $"{https.Url}/scalar", DisplayText = ApiReference, Endpoint = https });
        });

    public static IResourceBuilder<ProjectResource> WithShopLink(this IResourceBuilder<ProjectResource> shop) =>
        shop.WithUrlForEndpoint("http", url => url.DisplayText = Shop);
}
