using Mopt.Ir;

namespace Mopt.Passes.Conversion;

/// <summary>
/// <c>--convert-caffe-to-onnx</c> (and, implicitly, writing a <c>caffe.*</c> module as <c>.onnx</c>): lowers every
/// <c>caffe.*</c> layer to <c>onnx.*</c> ops with Caffe's semantics (docs/formats/caffe.md lists the table). Caffe is
/// NCHW, so no transposes are added; a layer's blobs are already <c>onnx.Constant</c>s and are handed on unchanged.
/// The op table is in the Caffe*Lowerings.cs files beside this one; what every lowering to ONNX shares is
/// <see cref="ConvertToOnnx"/>.
/// </summary>
public sealed class ConvertCaffeToOnnx : ConvertToOnnx
{
    public override string Name => "convert-caffe-to-onnx";
    public override string Summary => "Lower a Caffe net (caffe.*) to ONNX (onnx.*) with Caffe's semantics";

    private static readonly Dictionary<string, Lowering> Ops = BuildTable();

    /// <summary>The dialect this pass lowers, with its dot.</summary>
    internal const string DialectPrefix = "caffe.";

    protected override string Prefix => DialectPrefix;
    protected override string SourceName => "Caffe";
    private protected override IReadOnlyDictionary<string, Lowering> Table => Ops;

    private static Dictionary<string, Lowering> BuildTable()
    {
        var table = new Dictionary<string, Lowering>(StringComparer.Ordinal);
        CaffeConvPoolLowerings.Register(table);
        CaffeElementwiseLowerings.Register(table);
        CaffeShapeLowerings.Register(table);
        CaffeResizeLowerings.Register(table);
        CaffeDetectionLowerings.Register(table);
        return table;
    }

    /// <summary>The Caffe layer types this pass lowers.</summary>
    public static IEnumerable<string> LoweredOps => Ops.Keys;

    /// <summary>True when the module has <c>caffe.*</c> ops: writing it as ONNX needs this pass first.</summary>
    public static bool Needed(MirModule module) => Has(module, DialectPrefix);
}
