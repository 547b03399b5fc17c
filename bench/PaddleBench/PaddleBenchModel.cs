namespace Mopt.Bench.Paddle;

/// <summary>
/// A model the benchmark runs as Paddle: a real Paddle model (<see cref="Passes"/> null), or a Caffe or ONNX model that
/// mopt-opt writes as Paddle first (untimed) with these passes, none of which folds batch norms.
/// </summary>
/// <param name="Input">mopt-opt's input arguments, paths relative to the models folder.</param>
public sealed record PaddleBenchModel(string Name, string Origin, string[] Input, string[]? Passes)
{
    /// <summary>mopt-opt's input arguments with the paths under <paramref name="models"/>.</summary>
    public string[] InputArgs(string models) =>
        [.. Input.Select(a => a.StartsWith("--", StringComparison.Ordinal)
            ? a[..(a.IndexOf('=') + 1)] + Path.Combine(models, a[(a.IndexOf('=') + 1)..])
            : Path.Combine(models, a))];
}
