using Mopt.Ir;
using Mopt.Passes.Quantization;

namespace Mopt.Passes;

/// <summary>
/// What passes need from outside the compiler (a reference runtime, ONNX Runtime in mopt-opt), given to the
/// <see cref="PassManager"/> and read through <see cref="PassContext.Services"/>. The passes only declare what they
/// need; the runtime harness (<c>backend/Runtime</c>, a layer above) implements it and the tool or test hands it over.
/// A pass that needs a service it is not given says so, or does without (see each property).
/// </summary>
public sealed record PassServices
{
    /// <summary>None: passes run on their own (fold-constants natively only; static quantize-int8 is an error).</summary>
    public static PassServices None { get; } = new();

    /// <summary>Runs modules on calibration samples (static <c>quantize-int8</c>); null: static quantization is an error.</summary>
    public IModelRunner? ModelRunner { get; init; }

    /// <summary>
    /// Evaluates what <c>fold-constants</c> does not evaluate natively (with its default <c>fallback=true</c>); null:
    /// such operations are not folded, and are reported as skipped.
    /// </summary>
    public OpEvaluator? FallbackEvaluator { get; init; }

    /// <summary>Reads a NumPy <c>.npy</c> file as a tensor (prune-sensitivity's <c>labels=FILE.npy</c>); null: .npy labels are an error.</summary>
    public Func<string, DenseElementsAttr>? ReadArray { get; init; }

    /// <summary>Draws charts (prune-sensitivity's <c>chart=FILE.svg</c>); null: asking for a chart is an error.</summary>
    public ILineChartWriter? ChartWriter { get; init; }
}
