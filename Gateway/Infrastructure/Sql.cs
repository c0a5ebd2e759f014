using Npgsql;

namespace Mesh.Gateway.Infrastructure;

public static class Sql
{
    /// <summary>Binds positional parameters ($1, $2, …) in order; null is SQL NULL.</summary>
    public static NpgsqlCommand Bind(NpgsqlCommand command, params object?[] values)
    {
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
        }
        return command;
    }
}
