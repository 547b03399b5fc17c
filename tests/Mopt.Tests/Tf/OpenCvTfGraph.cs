using Mopt.Frontend.Tf;

namespace Mopt.Tests.Tf;

/// <summary>
/// A graph in shared/models/tf as OpenCV referees it: where mopt cuts it, the input it is fed (in TensorFlow's layout),
/// the TensorFlow output compared and the OpenCV layer that computes it, and whether OpenCV reads the original file.
/// </summary>
/// <param name="Name">a short name for test and benchmark rows</param>
/// <param name="File">the file under shared/models/tf</param>
/// <param name="CutAt">--tf-inputs (empty: the graph's own Placeholder)</param>
/// <param name="Input">the input's name once cut (the Placeholder, or the node cut at)</param>
/// <param name="InputShape">the input's shape in TensorFlow's layout (NHWC when 4-D)</param>
/// <param name="Output">the TensorFlow tensor compared (--tf-outputs)</param>
/// <param name="OpenCvLayer">OpenCV's layer for that tensor: OpenCV drops Identity and fuses a bias Add/BiasAdd into the MatMul before it</param>
/// <param name="OpenCvReadsOriginal">false when OpenCV is given mopt's copy of the graph instead (cut, or written back), with the reason in <paramref name="Note"/></param>
/// <param name="Feed">what the input holds</param>
/// <param name="Note">what OpenCV does with the original file</param>
public sealed record OpenCvTfGraph(
    string Name,
    string File,
    IReadOnlyList<string> CutAt,
    string Input,
    int[] InputShape,
    string Output,
    string OpenCvLayer,
    bool OpenCvReadsOriginal,
    TfGraphInput Feed,
    string Note)
{
    public bool IsNhwc => InputShape.Length == 4;

    /// <summary>The shape OpenCV's blob has: NCHW for a 4-D NHWC input.</summary>
    public int[] OpenCvBlobShape => IsNhwc ? OpenCvReferee.NchwShape(InputShape) : InputShape;

    /// <summary>The input, in TensorFlow's layout, in OpenCV's blob order.</summary>
    public float[] ToOpenCvBlob(float[] tfValues) => IsNhwc ? OpenCvReferee.NhwcToNchw(tfValues, InputShape) : tfValues;

    /// <summary>How mopt-opt is told the same cut: --tf-inputs (when cut) and --tf-outputs.</summary>
    public IReadOnlyList<string> MoptCutArgs =>
        [.. CutAt.Count > 0 ? new[] { "--tf-inputs=" + string.Join(",", CutAt) } : [], "--tf-outputs=" + Output];

    public TfImportOptions ImportOptions => new() { Inputs = CutAt, Outputs = [Output] };

    /// <summary>The input's shape as the Graph Transform Tool's strip_unused_nodes and tf-deploy take it ("1,49,10,1").</summary>
    public string ShapeText => string.Join(",", InputShape);

    public override string ToString() => Name;
}
