using Npgsql;

namespace Mesh.ServiceDefaults.Database;

/// <summary>A statement for an <see cref="NpgsqlBatch"/>, with positional parameters ($1, $2, …).</summary>
public static class BatchSql
{
    public static NpgsqlBatchCommand Command(string sql, params object?[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(value as NpgsqlParameter ?? new NpgsqlParameter { Value = value ?? DBNull.Value });
        }
        return command;
    }

    /// <summary>Binds positional parameters ($1, $2, …) to a command, in order; null is SQL NULL.</summary>
    public static NpgsqlCommand Bind(NpgsqlCommand command, params object?[] values)
    {
        foreach (var value in values)
        {
            command.Parameters.Add(value as NpgsqlParameter ?? new NpgsqlParameter { Value = value ?? DBNull.Value });
        }
        return command;
    }

    /// <summary>A bytea[] parameter: an array of byte arrays is not inferred as one.</summary>
    public static NpgsqlParameter ByteaArray(byte[][] values) =>
        new() { NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Bytea, Value = values };
}
