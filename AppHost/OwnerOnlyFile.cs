using System.Security.Cryptography;

namespace Mesh.AppHost;

/// <summary>Secrets the AppHost keeps between starts: created once, readable by their owner only, never printed.</summary>
public static class OwnerOnlyFile
{
    public static string ReadOrCreateSecret(string path)
    {
        if (File.Exists(path))
        {
            return File.ReadAllText(path).Trim();
        }
        var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        Write(path, secret, FileMode.CreateNew);
        return secret;
    }

    /// <summary>Writes <paramref name="text"/> to a file only its owner can read.</summary>
    public static void Write(string path, string text, FileMode mode = FileMode.Create)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var options = new FileStreamOptions { Mode = mode, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using var file = new FileStream(path, options);
        file.Write(System.Text.Encoding.ASCII.GetBytes(text));
    }
}
