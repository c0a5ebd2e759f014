using System.Runtime.CompilerServices;

namespace Mesh.ServiceDefaults.Safety;

/// <summary>Invariant checks that stay on in Release: a broken invariant stops the operation, loudly.</summary>
public static class Invariant
{
    public static void Holds(bool condition, string why, [CallerArgumentExpression(nameof(condition))] string? expression = null)
    {
        if (!condition)
        {
            throw new InvariantViolationException($"Invariant violated: {why} ({expression})");
        }
    }
}

public sealed class InvariantViolationException(string message) : Exception(message);
