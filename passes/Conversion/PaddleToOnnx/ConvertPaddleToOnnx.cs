using Mopt.Ir;

namespace Mopt.Passes.Conversion;

/// <summary>
/// <c>--convert-paddle-to-onnx</c> (and, implicitly, writing a <c>paddle.*</c> module as <c>.onnx</c>): lowers every
/// <c>paddle.*</c> op to <c>onnx.*</c> with Paddle's semantics (docs/formats/paddle.md lists the table). The op table is
/// in the Paddle*Lowerings.cs files beside this one; what every lowering to ONNX shares is <see cref="ConvertToOnnx"/>.
/// </summary>
public sealed class ConvertPaddleToOnnx : ConvertToOnnx
{
    public override string Name => "convert-paddle-to-onnx";
    public override string Summary => "Lower a Paddle program (paddle.*) to ONNX (onnx.*) with Paddle's semantics";

    private static readonly Dictionary<string, Lowering> Ops = BuildTable();

    /// <summary>The dialect this pass lowers, with its dot.</summary>
    internal const string DialectPrefix = "paddle.";

    protected override string Prefix => DialectPrefix;
    protected override string SourceName => "Paddle";
    private protected override IReadOnlyDictionary<string, Lowering> Table => Ops;

    private static Dictionary<string, Lowering> BuildTable()
    {
        var table = new Dictionary<string, Lowering>(StringComparer.Ordinal);
        PaddleConvPoolLowerings.Register(table);
        PaddleElementwiseLowerings.Register(table);
        PaddleShapeLowerings.Register(table);
        PaddleResizeLowerings.Register(table);
        PaddlePirLowerings.Register(table);
        return table;
    }

    /// <summary>A PIR program's ifs keep their blocks: renamed onnx.If in place before the ops in them are lowered.</summary>
    protected override bool BeforeLowering(MirModule module, PassContext context)
    {
        PaddlePirLowerings.RenameIfs(module);
        return true;
    }

    /// <summary>The Paddle op types this pass lowers.</summary>
    public static IEnumerable<string> LoweredOps => Ops.Keys;

    /// <summary>True when the module has <c>paddle.*</c> ops: writing it as ONNX needs this pass first.</summary>
    public static bool Needed(MirModule module) => Has(module, DialectPrefix);
}
