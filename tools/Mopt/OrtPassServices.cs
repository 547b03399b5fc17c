using Mopt.Backend.Charts;
using Mopt.Backend.Runtime;
using Mopt.Ir;
using Mopt.Passes;

namespace Mopt.Api;

/// <summary>ONNX Runtime as the passes' services: what mopt-opt gives its pass manager, and what tests give theirs.</summary>
public static class OrtPassServices
{
    /// <summary>
    /// ONNX Runtime as the calibration runner (static quantize-int8, prune-sensitivity) and as fold-constants' fallback
    /// evaluator; the runtime harness's .npy reader (prune-sensitivity's labels); ScottPlot for charts.
    /// </summary>
    public static PassServices Create() => new()
    {
        ModelRunner = new OrtModelRunner(),
        FallbackEvaluator = OrtOpEvaluator.Evaluate,
        ReadArray = path => { var a = NpyArray.Read(path); return DenseElementsAttr.Create(a.TensorType, a.Data); },
        ChartWriter = new ScottPlotChartWriter(),
    };
}
