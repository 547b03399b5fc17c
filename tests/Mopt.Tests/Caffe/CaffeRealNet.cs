namespace Mopt.Tests.Caffe;

/// <summary>
/// A net in shared/models/caffe as the tests and the Caffe benchmark run it: its files, its one input and what that is
/// fed, and the outputs compared (Caffe top names, which are OpenCV's layer names for them).
/// </summary>
/// <param name="Name">a short name for test and benchmark rows</param>
/// <param name="Prototxt">the deploy prototxt under shared/models/caffe</param>
/// <param name="CaffeModel">its weights under shared/models/caffe</param>
/// <param name="Input">the input's name (the <c>input:</c> or Input layer's top)</param>
/// <param name="Shape">the input's shape (NCHW)</param>
/// <param name="Outputs">the tops compared</param>
/// <param name="Image">a raw 8-bit image under shared/models/caffe fed as (x - 127.5) / 127.5 to every item of the batch, or null: seeded uniform values in [-1, 1)</param>
public sealed record CaffeRealNet(string Name, string Prototxt, string CaffeModel, string Input, int[] Shape, IReadOnlyList<string> Outputs, string? Image = null)
{
    public string PrototxtPath(string models) => System.IO.Path.Combine(models, Prototxt);

    public string CaffeModelPath(string models) => System.IO.Path.Combine(models, CaffeModel);

    /// <summary>mopt-opt's input arguments for the net: the prototxt and --caffe-weights (LeNet's stems differ).</summary>
    public string[] MoptInput(string models) => [PrototxtPath(models), "--caffe-weights=" + CaffeModelPath(models)];

    /// <summary>The input values: the image normalized as its source does, or seeded values of the input's size.</summary>
    public float[] InputValues(string models)
    {
        int count = Shape.Aggregate(1, (a, d) => a * d);
        if (Image is null) return SeededValues.Uniform(seed: Name.Length * 7919 + count, count);
        var bytes = File.ReadAllBytes(System.IO.Path.Combine(models, Image));
        if (count % bytes.Length != 0) throw new InvalidDataException($"{Image} has {bytes.Length} bytes, which do not tile the input [{string.Join(",", Shape)}]");
        return Enumerable.Range(0, count).Select(i => (bytes[i % bytes.Length] - 127.5f) / 127.5f).ToArray();
    }

    public CaffeInput Feed(string models) => new(Input, Shape, InputValues(models));

    public override string ToString() => Name;
}
