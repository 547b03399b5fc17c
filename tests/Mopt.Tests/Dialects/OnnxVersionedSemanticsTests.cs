using Mopt.Dialects;
using Mopt.Ir;

namespace Mopt.Tests.Dialects;

/// <summary>
/// The ONNX dialect's <see cref="IVersionedSemantics.AllCurrent"/>: when it says no operator can mean anything but its
/// current form at the module's opset, the drivers ask no op; so on ops of every older form mopt knows it must agree
/// with <see cref="IVersionedSemantics.Differs"/>.
/// </summary>
public sealed class OnnxVersionedSemanticsTests
{
    // One op of each older form OnnxLegacy names (each differs at some opset below 13), in a module at a given opset.
    private static MirModule AtOpset(long? opset) => Mir.Parse($$"""
        module{{(opset is { } o ? $" attributes {{onnx.opset = {o} : i64}}" : "")}} {
          func.func @main(%x: tensor<2x3xf32>, %s: tensor<3xf32>, %u: tensor<*xf32>) -> tensor<*xf32> {
            %0 = "onnx.Add"(%x, %s) {axis = 1 : i64, broadcast = 1 : i64} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
            %1 = "onnx.PRelu"(%x, %s) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
            %2 = "onnx.Softmax"(%u) : (tensor<*xf32>) -> tensor<*xf32>
            %3 = "onnx.Dropout"(%x) : (tensor<2x3xf32>) -> tensor<2x3xf32>
            %4 = "onnx.Tile"(%x, %s) : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<*xf32>
            return %4 : tensor<*xf32>
          }
        }
        """);

    [Fact]
    public void AllCurrentHoldsExactlyWhereNoOpDiffers()
    {
        var registry = StandardDialects.Registry;
        foreach (long? opset in new long?[] { null, 1, 6, 7, 12, 13, 17, 25, 26 })
        {
            var module = AtOpset(opset);
            var ops = module.AllOperations().Where(o => o.Name.StartsWith("onnx.", StringComparison.Ordinal)).ToList();
            var semantics = registry.Interface<IVersionedSemantics>(ops[0])!;
            bool anyDiffers = ops.Any(op => registry.Interface<IVersionedSemantics>(op)!.Differs(op, module) is not null);
            bool allCurrent = semantics.AllCurrent(module);
            Assert.True(!allCurrent || !anyDiffers, $"opset {opset}: AllCurrent, yet an op differs");
            Assert.Equal(opset is null or (>= 13 and <= 25), allCurrent);
            if (opset is 12 or 26) Assert.True(anyDiffers, $"opset {opset}: the sample should have an op of another form");
        }
    }
}
