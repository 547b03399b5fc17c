using Mopt.Ir;


namespace Mopt.Backend.Runtime;

/// <summary>
/// The samples of a <see cref="CalibrationSource"/>, checked against the model's inputs and counted before any run
/// (so a bad file fails fast and progress knows the total), then read one at a time (never all in memory).
/// </summary>
/// <remarks>
/// A folder for a model with one input: every <c>.npy</c> file in name order. A file shaped like the input is one
/// sample (fed as is, so a batch when the input's batch dimension is symbolic); a file with one more leading
/// dimension, or with N leading where the input has 1, is a batch of N samples, split. A model with several inputs:
/// one subfolder per sample (name order) with <c>INPUT.npy</c> for each input, each shaped like its input.
/// dtypes must match exactly: data is never converted silently. <c>random:N</c>: N seeded random samples,
/// symbolic dimensions 1, the same for the same (seed, sample index).
/// </remarks>
public sealed class CalibrationInputs
{
    /// <summary>One file (or subfolder) and how many samples it yields.</summary>
    private sealed record Entry(string Path, int Samples, bool Split);

    private readonly IReadOnlyList<(string Name, ElementType Element, long[] Shape)> _inputs;
    private readonly IReadOnlyList<Entry> _entries;
    private readonly CalibrationSource.Random? _random;

    private CalibrationInputs(IReadOnlyList<(string, ElementType, long[])> inputs, IReadOnlyList<Entry> entries, CalibrationSource.Random? random)
    {
        _inputs = inputs;
        _entries = entries;
        _random = random;
        Count = random?.Count ?? entries.Sum(e => e.Samples);
    }

    /// <summary>The number of samples <see cref="Samples"/> yields.</summary>
    public int Count { get; }

    /// <summary>
    /// Checks the source against <paramref name="inputs"/> (name, element type, shape with -1 for a symbolic
    /// dimension) and counts its samples. Reads only the <c>.npy</c> headers. Bad data is a <see cref="MirException"/>
    /// naming the file.
    /// </summary>
    public static CalibrationInputs Open(CalibrationSource source, IReadOnlyList<(string Name, ElementType Element, long[] Shape)> inputs) => source switch
    {
        CalibrationSource.Random r => new CalibrationInputs(inputs, [], r),
        CalibrationSource.Folder f => new CalibrationInputs(inputs, inputs.Count == 1 ? FilesOf(f.Path, inputs[0]) : SampleFolders(f.Path, inputs), null),
        _ => throw new ArgumentException($"unknown calibration source {source}"),
    };

    /// <summary>Each sample as one array per input name, in order.</summary>
    public IEnumerable<Dictionary<string, NpyArray>> Samples()
    {
        if (_random is { } r)
        {
            for (int i = 0; i < r.Count; i++) yield return RandomInputs.For(_inputs, SeedOf(r.Seed, i));
            yield break;
        }
        foreach (var entry in _entries)
        {
            if (_inputs.Count != 1)
            {
                yield return _inputs.ToDictionary(i => i.Name, i => ReadChecked(System.IO.Path.Combine(entry.Path, i.Name + ".npy"), i), StringComparer.Ordinal);
                continue;
            }
            var input = _inputs[0];
            var array = ReadChecked(entry.Path, input);
            if (!entry.Split) { yield return new(StringComparer.Ordinal) { [input.Name] = array }; continue; }
            var shape = SampleShape(array.Shape, input.Shape);
            int bytes = checked((int)(array.Data.Length / array.Shape[0]));
            for (int k = 0; k < entry.Samples; k++)
                yield return new(StringComparer.Ordinal) { [input.Name] = new NpyArray(array.Element, shape, array.Data.AsSpan(k * bytes, bytes).ToArray()) };
        }
    }

    /// <summary>Sample i of random:N seeded s: a fixed mix, so sample 3 is the same whatever N is.</summary>
    private static int SeedOf(int seed, int index) => unchecked(seed * 1_000_003 + index);

    private static void CheckFolder(string path)
    {
        if (!Directory.Exists(path))
            throw new MirException(File.Exists(path)
                ? $"calibration data '{path}' is a file; give a folder of .npy files (or random:N)"
                : $"calibration folder '{path}' does not exist");
    }

    private static List<Entry> FilesOf(string folder, (string Name, ElementType Element, long[] Shape) input)
    {
        CheckFolder(folder);
        var files = Directory.GetFiles(folder, "*.npy").Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw new MirException($"calibration folder '{folder}' has no .npy files");
        var entries = new List<Entry>(files.Count);
        foreach (var file in files)
        {
            var (element, shape) = NpyArray.ReadHeader(file);
            CheckElement(file, element, input);
            if (Fits(shape, input.Shape)) entries.Add(new Entry(file, 1, false));
            else if (IsBatchOf(shape, input.Shape)) entries.Add(new Entry(file, checked((int)shape[0]), true));
            else throw ShapeMismatch(file, shape, input);
        }
        return entries;
    }

    private static List<Entry> SampleFolders(string folder, IReadOnlyList<(string Name, ElementType Element, long[] Shape)> inputs)
    {
        CheckFolder(folder);
        if (inputs.Count == 0) throw new MirException($"the model has no inputs, so calibration folder '{folder}' cannot feed it; use random:N");
        var names = string.Join(", ", inputs.Select(i => i.Name));
        var samples = Directory.GetDirectories(folder).Order(StringComparer.Ordinal).ToList();
        if (samples.Count == 0)
            throw new MirException($"calibration folder '{folder}' has no sample subfolders: a model with several inputs ({names}) needs one subfolder per sample holding {string.Join(", ", inputs.Select(i => i.Name + ".npy"))}");
        foreach (var sample in samples)
            foreach (var input in inputs)
            {
                var file = Path.Combine(sample, input.Name + ".npy");
                if (!File.Exists(file)) throw new MirException($"{sample}: no {input.Name}.npy for input '{input.Name}' (each sample folder needs {names})");
                var (element, shape) = NpyArray.ReadHeader(file);
                CheckElement(file, element, input);
                if (!Fits(shape, input.Shape)) throw ShapeMismatch(file, shape, input);
            }
        return samples.Select(s => new Entry(s, 1, false)).ToList();
    }

    /// <summary>The whole file, checked again (the header was checked when counting; the data length is checked here).</summary>
    private static NpyArray ReadChecked(string file, (string Name, ElementType Element, long[] Shape) input)
    {
        var array = NpyArray.Read(file);
        CheckElement(file, array.Element, input);
        if (!Fits(array.Shape, input.Shape) && !IsBatchOf(array.Shape, input.Shape)) throw ShapeMismatch(file, array.Shape, input);
        return array;
    }

    private static void CheckElement(string file, ElementType element, (string Name, ElementType Element, long[] Shape) input)
    {
        if (element != input.Element)
            throw new MirException($"{file}: dtype {element} does not match input '{input.Name}' {input.Element}; mopt does not convert calibration data (save it with .astype(np.{NumpyName(input.Element)}))");
    }

    /// <summary>Same rank, and every static dimension of the input equal.</summary>
    private static bool Fits(ReadOnlySpan<long> data, ReadOnlySpan<long> input)
    {
        if (data.Length != input.Length) return false;
        for (int d = 0; d < data.Length; d++)
            if (input[d] >= 0 && input[d] != data[d]) return false;
        return true;
    }

    /// <summary>A batch of samples: one more leading dimension, or N leading where the input has 1.</summary>
    private static bool IsBatchOf(long[] data, long[] input) =>
        (data.Length == input.Length + 1 && Fits(data.AsSpan(1), input)) ||
        (data.Length == input.Length && input.Length > 0 && input[0] == 1 && Fits(data.AsSpan(1), input.AsSpan(1)));

    /// <summary>The shape of one sample split out of a batch file.</summary>
    private static long[] SampleShape(long[] data, long[] input) =>
        data.Length == input.Length + 1 ? data[1..] : [1, .. data[1..]];

    private static MirException ShapeMismatch(string file, long[] shape, (string Name, ElementType Element, long[] Shape) input) =>
        new($"{file}: shape {ShapeText(shape)} does not match input '{input.Name}' {ShapeText(input.Shape)}");

    private static string ShapeText(long[] shape) => $"[{string.Join(",", shape.Select(d => d < 0 ? "?" : d.ToString(System.Globalization.CultureInfo.InvariantCulture)))}]";

    private static string NumpyName(ElementType t) => t.Name switch
    {
        "f32" => "float32", "f64" => "float64", "f16" => "float16", "i64" => "int64", "i32" => "int32", "i16" => "int16",
        "i8" => "int8", "ui8" => "uint8", "ui16" => "uint16", "ui32" => "uint32", "ui64" => "uint64", "i1" => "bool_",
        _ => t.Name,
    };
}
