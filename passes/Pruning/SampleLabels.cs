using System.Globalization;
using Mopt.Ir;

namespace Mopt.Passes.Pruning;

/// <summary>
/// The labels of prune-sensitivity's samples: a <c>.npy</c> of integers, one per sample (as bench/digits writes
/// <c>eval/labels.npy</c>, int64 [N]; read by the runtime harness through <see cref="PassServices.ReadArray"/>), or a
/// text file with one integer per line (blank lines ignored).
/// </summary>
public static class SampleLabels
{
    public static long[] Read(string path, PassServices services)
    {
        if (!File.Exists(path)) throw new MirException($"prune-sensitivity: labels file '{path}' does not exist");
        return Path.GetExtension(path).Equals(".npy", StringComparison.OrdinalIgnoreCase) ? FromNpy(path, services) : FromText(path);
    }

    private static long[] FromNpy(string path, PassServices services)
    {
        var read = services.ReadArray ?? throw new MirException($"prune-sensitivity: labels '{path}': reading .npy needs the runtime harness, which is not available here; give a .txt of one label per line");
        var array = read(path);
        if (array.Type.Element.IsFloat || array.Type.Rank > 2 || (array.Type.Rank == 2 && array.Type.Shape![1] != 1))
            throw new MirException($"{path}: labels must be integers, one per sample (shape [N] or [N,1]), not {array.Type}");
        int size = array.Type.Element.ByteSize;
        var bytes = array.ToFullBytes();
        var labels = new long[array.ElementCount];
        for (int i = 0; i < labels.Length; i++) labels[i] = ElementCodec.ReadInteger(bytes.AsSpan(i * size, size), array.Type.Element);
        return labels;
    }

    private static long[] FromText(string path)
    {
        string[] lines;
        try { lines = File.ReadAllLines(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new MirException($"cannot read '{path}': {e.Message}"); }
        var labels = new List<long>(lines.Length);
        for (int i = 0; i < lines.Length; i++)
        {
            var text = lines[i].Trim();
            if (text.Length == 0) continue;
            if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var label))
                throw new MirException($"a label is an integer, not '{text}'", new SourcePosition(path, i + 1, lines[i].IndexOf(text, StringComparison.Ordinal) + 1, 0), lines[i]);
            labels.Add(label);
        }
        return labels.ToArray();
    }
}
