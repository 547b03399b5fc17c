namespace Mopt.Ir;

/// <summary>Writes a file so that it is either complete or not there: a temporary file, then a rename.</summary>
public static class AtomicFile
{
    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(dir)) throw new MirException($"cannot write '{path}': folder '{dir}' does not exist");
        var temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
                write(stream);
            File.Move(temp, full, overwrite: true);
        }
        catch (IOException e)
        {
            throw new MirException($"cannot write '{path}': {e.Message}");
        }
        catch (UnauthorizedAccessException e)
        {
            throw new MirException($"cannot write '{path}': {e.Message}");
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Writes every file to a temporary first and renames them only when all were written (none on error).</summary>
    public static void WriteAll(IReadOnlyList<(string Path, Action<Stream> Write)> files)
    {
        var temps = new List<(string Temp, string Full, string Path)>();
        try
        {
            foreach (var (path, write) in files)
            {
                var full = Path.GetFullPath(path);
                var dir = Path.GetDirectoryName(full)!;
                if (!Directory.Exists(dir)) throw new MirException($"cannot write '{path}': folder '{dir}' does not exist");
                var temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
                temps.Add((temp, full, path));
                try
                {
                    using var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
                    write(stream);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new MirException($"cannot write '{path}': {e.Message}"); }
            }
            foreach (var (temp, full, path) in temps)
            {
                try { File.Move(temp, full, overwrite: true); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new MirException($"cannot write '{path}': {e.Message}"); }
            }
        }
        finally
        {
            foreach (var (temp, _, _) in temps)
                if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
