namespace Mopt.Bench.Conformance;

/// <summary>One backend test: its suite (node, simple, ...), folder, model and data set folders.</summary>
public sealed record ConformanceTest(string Suite, string Name, string Dir, string Model, IReadOnlyList<string> DataSets)
{
    public string Id => $"{Suite}/{Name}";

    /// <summary>Every test under the suite folders of <paramref name="dataDir"/>, sorted by suite then name.</summary>
    public static List<ConformanceTest> Discover(string dataDir)
    {
        var tests = new List<ConformanceTest>();
        foreach (var suiteDir in Directory.GetDirectories(dataDir).Order(StringComparer.Ordinal))
            foreach (var dir in Directory.GetDirectories(suiteDir).Order(StringComparer.Ordinal))
            {
                string model = Path.Combine(dir, "model.onnx");
                if (!File.Exists(model)) continue;
                var sets = Directory.GetDirectories(dir, "test_data_set_*").Order(StringComparer.Ordinal).ToList();
                tests.Add(new ConformanceTest(Path.GetFileName(suiteDir), Path.GetFileName(dir), dir, model, sets));
            }
        return tests;
    }
}
