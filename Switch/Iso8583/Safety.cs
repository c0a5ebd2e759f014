namespace Mesh.Iso8583;

/// <summary>Invariant checks that stay on in Release (the library has no service dependencies).</summary>
internal static class Safety
{
    public static void Holds(bool condition, string why)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"Invariant violated: {why}");
        }
    }
}
