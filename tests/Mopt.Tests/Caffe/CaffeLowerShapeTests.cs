using Mopt.Tests.Tf;
using static Mopt.Tests.Caffe.CaffeLoweringCheck;

namespace Mopt.Tests.Caffe;

/// <summary>The lowering of Caffe's layers that move data (CaffeShapeLowerings), against OpenCV or Caffe's shape rules.</summary>
public sealed class CaffeLowerShapeTests
{
    private static readonly int[] Nchw = [2, 4, 3, 5];

    [Theory]
    [InlineData("")]
    [InlineData("concat_param { axis: 2 }")]
    [InlineData("concat_param { axis: -1 }")]
    public void ConcatMatchesOpenCv(string param) =>
        MatchesOpenCv($"layer {{ name: \"y\" type: \"Concat\" bottom: \"a\" bottom: \"b\" bottom: \"a\" top: \"y\" {param} }}", ["y"], [Nchw, Nchw]);

    /// <summary>The legacy concat_dim, when set, is Caffe's axis (OpenCV ignores it and concatenates on axis 1): [1, 2] and [1, 2] on axis 0 make [2, 2].</summary>
    [Fact]
    public void ConcatDimIsCaffesAxis()
    {
        var inputs = new[] { new CaffeInput("a", [1, 2], [1, 2]), new CaffeInput("b", [1, 2], [3, 4]) };
        var y = RunLowered("layer { name: \"y\" type: \"Concat\" bottom: \"a\" bottom: \"b\" top: \"y\" concat_param { concat_dim: 0 } }", ["y"], inputs).Single();
        AssertValues(y, [2, 2], [1, 2, 3, 4]);
    }

    /// <summary>Each top of the Slice feeds a different activation, so every part is checked by its own output.</summary>
    [Theory]
    [InlineData("slice_param { slice_point: 1 slice_point: 3 }")]
    [InlineData("slice_param { axis: 3 slice_point: 1 slice_point: 4 }")]
    [InlineData("slice_param { axis: -1 slice_point: 2 slice_point: 3 }")]
    [InlineData("slice_param { slice_dim: 1 slice_point: 2 slice_point: 3 }")]
    public void SliceAtPointsMatchesOpenCv(string param) =>
        MatchesOpenCv($$"""
            layer { name: "s" type: "Slice" bottom: "a" top: "s0" top: "s1" top: "s2" {{param}} }
            layer { name: "y0" type: "ReLU" bottom: "s0" top: "y0" }
            layer { name: "y1" type: "Sigmoid" bottom: "s1" top: "y1" }
            layer { name: "y2" type: "TanH" bottom: "s2" top: "y2" }
            """, ["y0", "y1", "y2"], [Nchw]);

    [Theory]
    [InlineData("")]
    [InlineData("slice_param { axis: 0 }")]
    public void SliceIntoEqualPartsMatchesOpenCv(string param) =>
        MatchesOpenCv($$"""
            layer { name: "s" type: "Slice" bottom: "a" top: "s0" top: "s1" {{param}} }
            layer { name: "y0" type: "ReLU" bottom: "s0" top: "y0" }
            layer { name: "y1" type: "Sigmoid" bottom: "s1" top: "y1" }
            """, ["y0", "y1"], [Nchw]);

    [Fact]
    public void SplitGivesItsBottomToEveryTop() =>
        MatchesOpenCv("""
            layer { name: "s" type: "Split" bottom: "a" top: "s0" top: "s1" }
            layer { name: "y0" type: "ReLU" bottom: "s0" top: "y0" }
            layer { name: "y1" type: "Sigmoid" bottom: "s1" top: "y1" }
            """, ["y0", "y1"], [Nchw]);

    [Theory]
    [InlineData("")]
    [InlineData("flatten_param { axis: 2 }")]
    [InlineData("flatten_param { axis: 1 end_axis: 2 }")]
    public void FlattenMatchesOpenCv(string param) =>
        MatchesOpenCv($"layer {{ name: \"y\" type: \"Flatten\" bottom: \"a\" top: \"y\" {param} }}", ["y"], [Nchw]);

    /// <summary>Flatten from axis 0 is Caffe's 1-D blob [120] (OpenCV's Mat shows it as [120, 1]).</summary>
    [Fact]
    public void FlattenFromAxisZeroIsOneAxis()
    {
        var inputs = Inputs(-2, 2, Nchw);
        var y = RunLowered("layer { name: \"y\" type: \"Flatten\" bottom: \"a\" top: \"y\" flatten_param { axis: 0 } }", ["y"], inputs).Single();
        AssertValues(y, [120], inputs[0].Values);
    }

    [Theory]
    [InlineData("reshape_param { shape { dim: 0 dim: -1 } }")]
    [InlineData("reshape_param { shape { dim: 0 dim: 2 dim: -1 dim: 5 } }")]
    [InlineData("reshape_param { shape { dim: -1 dim: 3 dim: 1 dim: 5 } }")]
    [InlineData("reshape_param { shape { dim: 2 dim: 2 } axis: 1 num_axes: 1 }")]
    [InlineData("reshape_param { shape { dim: -1 } axis: 1 num_axes: 2 }")]
    public void ReshapeMatchesOpenCv(string param) =>
        MatchesOpenCv($"layer {{ name: \"y\" type: \"Reshape\" bottom: \"a\" top: \"y\" {param} }}", ["y"], [Nchw]);

    /// <summary>Caffe's rules computed here: 0 copies the axis at its position (from `axis`), −1 takes the rest, and axes outside [axis, axis + num_axes) stay.</summary>
    [Theory]
    [InlineData("reshape_param { shape { dim: 0 dim: -1 } }", new[] { 2, 60 })]
    [InlineData("reshape_param { shape { dim: 0 dim: 0 dim: -1 } axis: 1 }", new[] { 2, 4, 3, 5 })]
    [InlineData("reshape_param { shape { dim: 1 dim: -1 } axis: -1 }", new[] { 2, 4, 3, 5, 1, 1 })]
    [InlineData("reshape_param { shape { dim: 6 dim: -1 } axis: 1 num_axes: 2 }", new[] { 2, 6, 2, 5 })]
    [InlineData("reshape_param { shape { dim: 1 } axis: 0 num_axes: 0 }", new[] { 1, 2, 4, 3, 5 })]
    public void ReshapeHasCaffesShape(string param, int[] shape)
    {
        var inputs = Inputs(-2, 2, Nchw);
        var y = RunLowered($"layer {{ name: \"y\" type: \"Reshape\" bottom: \"a\" top: \"y\" {param} }}", ["y"], inputs).Single();
        AssertValues(y, shape, inputs[0].Values);
    }

    [Theory]
    [InlineData("permute_param { order: 0 order: 2 order: 3 order: 1 }")]
    [InlineData("permute_param { order: 3 order: 1 order: 0 order: 2 }")]
    public void PermuteMatchesOpenCv(string param) =>
        MatchesOpenCv($"layer {{ name: \"y\" type: \"Permute\" bottom: \"a\" top: \"y\" {param} }}", ["y"], [Nchw]);

    /// <summary>SSD appends the axes order leaves out, in order: order [0, 3] is perm [0, 3, 1, 2] (OpenCV refuses an order shorter than the rank).</summary>
    [Fact]
    public void PermuteAppendsTheMissingAxes()
    {
        int[] shape = [1, 2, 1, 3];
        var inputs = Inputs(-2, 2, shape);
        var y = RunLowered("layer { name: \"y\" type: \"Permute\" bottom: \"a\" top: \"y\" permute_param { order: 0 order: 3 } }", ["y"], inputs).Single();
        var x = inputs[0].Values;
        AssertValues(y, [1, 3, 2, 1], [x[0], x[3], x[1], x[4], x[2], x[5]]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("crop_param { offset: 1 }")]
    [InlineData("crop_param { offset: 1 offset: 2 }")]
    [InlineData("crop_param { axis: 1 offset: 1 offset: 0 offset: 2 }")]
    public void CropMatchesOpenCv(string param) =>
        MatchesOpenCv($"layer {{ name: \"y\" type: \"Crop\" bottom: \"a\" bottom: \"b\" top: \"y\" {param} }}", ["y"], [[2, 4, 5, 6], [2, 2, 3, 3]]);

    [Fact]
    public void CropIsCaffesSlice()
    {
        int[] shape = [1, 1, 3, 4];
        var inputs = new[] { new CaffeInput("a", shape, [.. Enumerable.Range(0, 12).Select(i => (float)i)]), new CaffeInput("b", [1, 1, 2, 2], new float[4]) };
        var y = RunLowered("layer { name: \"y\" type: \"Crop\" bottom: \"a\" bottom: \"b\" top: \"y\" crop_param { offset: 1 offset: 2 } }", ["y"], inputs).Single();
        AssertValues(y, [1, 1, 2, 2], [6, 7, 10, 11]);
    }

    /// <summary>Caffe's rule, computed here: the block from `axis` on repeated `tiles` times.</summary>
    [Fact]
    public void TileIsCaffesFormula()
    {
        int[] shape = [2, 2, 1, 1];
        var inputs = new[] { new CaffeInput("a", shape, [1, 2, 3, 4]) };
        var y = RunLowered("layer { name: \"y\" type: \"Tile\" bottom: \"a\" top: \"y\" tile_param { axis: 1 tiles: 3 } }", ["y"], inputs).Single();
        AssertValues(y, [2, 6, 1, 1], [1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4]);
    }

    /// <summary>Reduction is computed here from reduction_layer.cpp: over every axis from `axis`, times coeff; MEAN divides by their count.</summary>
    [Theory]
    [InlineData("SUM", 0, 1f)]
    [InlineData("ASUM", 1, 2f)]
    [InlineData("SUMSQ", 2, -1f)]
    [InlineData("MEAN", -1, 0.5f)]
    public void ReductionIsCaffesFormula(string operation, int axis, float coeff)
    {
        int[] shape = [2, 3, 4];
        var inputs = Inputs(-2, 2, shape);
        var y = RunLowered($"layer {{ name: \"y\" type: \"Reduction\" bottom: \"a\" top: \"y\" reduction_param {{ operation: {operation} axis: {axis} coeff: {coeff} }} }}", ["y"], inputs).Single();
        int a = axis < 0 ? axis + 3 : axis;
        int inner = shape.Skip(a).Aggregate(1, (p, d) => p * d), outer = 24 / inner;
        var expected = Enumerable.Range(0, outer).Select(o =>
        {
            var block = inputs[0].Values.Skip(o * inner).Take(inner);
            double r = operation switch
            {
                "SUM" => block.Sum(v => (double)v),
                "ASUM" => block.Sum(v => Math.Abs((double)v)),
                "SUMSQ" => block.Sum(v => (double)v * v),
                _ => block.Average(v => (double)v),
            };
            return (float)(r * coeff);
        }).ToArray();
        AssertValues(y, shape.Take(a).ToArray(), expected);
    }

    /// <summary>ArgMax along an axis: the top_k indices (as floats), or their values with out_max_val; the axis' size becomes top_k.</summary>
    [Theory]
    [InlineData(1, false)]
    [InlineData(1, true)]
    [InlineData(2, false)]
    [InlineData(2, true)]
    public void ArgMaxAlongAnAxisIsCaffesFormula(int k, bool outMaxVal)
    {
        int[] shape = [2, 4, 3];
        var inputs = Inputs(-2, 2, shape);
        var y = RunLowered($"layer {{ name: \"y\" type: \"ArgMax\" bottom: \"a\" top: \"y\" argmax_param {{ axis: 1 top_k: {k} out_max_val: {(outMaxVal ? "true" : "false")} }} }}", ["y"], inputs).Single();
        var x = inputs[0].Values;
        var expected = new float[2 * k * 3];
        for (int n = 0; n < 2; n++)
            for (int w = 0; w < 3; w++)
            {
                var best = Enumerable.Range(0, 4).OrderByDescending(c => x[(n * 4 + c) * 3 + w]).Take(k).ToArray();
                for (int j = 0; j < k; j++) expected[(n * k + j) * 3 + w] = outMaxVal ? x[(n * 4 + best[j]) * 3 + w] : best[j];
            }
        AssertValues(y, [2, k, 3], expected);
    }

    /// <summary>ArgMax without an axis: per sample over everything else, [N, 1, k] indices, or [N, 2, k] indices then values; at least rank 3, and the input's rank beyond.</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ArgMaxPerSampleIsCaffesFormula(bool outMaxVal)
    {
        int[] shape = [2, 3, 2, 2];
        var inputs = Inputs(-2, 2, shape);
        var y = RunLowered($"layer {{ name: \"y\" type: \"ArgMax\" bottom: \"a\" top: \"y\" argmax_param {{ top_k: 2 out_max_val: {(outMaxVal ? "true" : "false")} }} }}", ["y"], inputs).Single();
        var x = inputs[0].Values;
        var expected = new List<float>();
        for (int n = 0; n < 2; n++)
        {
            var best = Enumerable.Range(0, 12).OrderByDescending(i => x[n * 12 + i]).Take(2).ToArray();
            expected.AddRange(best.Select(i => (float)i));
            if (outMaxVal) expected.AddRange(best.Select(i => x[n * 12 + i]));
        }
        AssertValues(y, [2, outMaxVal ? 2 : 1, 2, 1], [.. expected]);
    }

    [Theory]
    [InlineData("layer { name: \"y\" type: \"Slice\" bottom: \"a\" top: \"y\" top: \"z\" top: \"w\" }", "node 'y' (Slice): the sliced axis has 4 values, which 3 tops cannot share equally")]
    [InlineData("layer { name: \"y\" type: \"Slice\" bottom: \"a\" top: \"y\" top: \"z\" slice_param { slice_point: 1 slice_point: 2 } }", "node 'y' (Slice): it has 2 slice_point for 2 tops")]
    [InlineData("layer { name: \"y\" type: \"Slice\" bottom: \"a\" top: \"y\" top: \"z\" top: \"w\" slice_param { slice_point: 2 slice_point: 2 } }", "node 'y' (Slice): slice_point [2, 2] must increase")]
    [InlineData("layer { name: \"y\" type: \"Reshape\" bottom: \"a\" top: \"y\" reshape_param { shape { dim: 7 dim: -1 } } }", "node 'y' (Reshape): reshape_param.shape [7, -1] cannot hold the input's 120 values")]
    [InlineData("layer { name: \"y\" type: \"Reshape\" bottom: \"a\" top: \"y\" reshape_param { shape { dim: -1 dim: -1 } } }", "node 'y' (Reshape): reshape_param.shape has more than one −1")]
    [InlineData("layer { name: \"y\" type: \"Permute\" bottom: \"a\" top: \"y\" permute_param { order: 0 order: 0 } }", "node 'y' (Permute): permute_param.order [0, 0] repeats axis 0")]
    [InlineData("layer { name: \"y\" type: \"Permute\" bottom: \"a\" top: \"y\" permute_param { order: 4 } }", "node 'y' (Permute): permute_param.order [4] names axis 4")]
    [InlineData("layer { name: \"y\" type: \"Crop\" bottom: \"a\" bottom: \"a\" top: \"y\" crop_param { offset: 1 offset: 2 offset: 3 } }", "node 'y' (Crop): it has 3 offsets for the 2 axes from axis 2")]
    [InlineData("layer { name: \"y\" type: \"Crop\" bottom: \"a\" bottom: \"a\" top: \"y\" crop_param { offset: 1 } }", "node 'y' (Crop): axis 2: offset 1 + size 3 is past the input's 3")]
    [InlineData("layer { name: \"y\" type: \"Tile\" bottom: \"a\" top: \"y\" }", "node 'y' (Tile): a Tile layer needs tile_param.tiles")]
    [InlineData("layer { name: \"y\" type: \"Flatten\" bottom: \"a\" top: \"y\" flatten_param { axis: 2 end_axis: 1 } }", "node 'y' (Flatten): end_axis 1 comes before axis 2")]
    public void AnImpossibleShapeIsAnErrorNamingTheLayer(string layers, string message) =>
        Assert.Contains(message, LoweringError(layers, Nchw));
}
