using Mopt.Frontend.Caffe;
using Mopt.Ir;
using Mopt.Ir.Printing;

namespace Mopt.Tests.Caffe;

/// <summary>
/// A prototxt's layers are imported from its text's wire bytes as they are (<c>ProtoText.ToWire</c>: fields in the text's
/// order, lists unpacked): the module must be the one the importer makes from the parsed net, each layer re-encoded by
/// protobuf (fields in number order, packed lists packed).
/// </summary>
public sealed class CaffePrototxtWireTests
{
    /// <summary>The module read from the text's bytes and the one from the parsed net, printed (or both errors).</summary>
    private static (string FromWire, string FromNet) BothWays(string prototxt, string? weights)
    {
        static string Run(Func<MirModule> import)
        {
            try { return MirPrinter.PrintToString(import()); }
            catch (MirException e) { return "error: " + e.Message; }
        }
        var fromWire = Run(() => new CaffePrototxtReader(weights).Read(prototxt));
        var fromNet = Run(() =>
        {
            var net = CaffePrototxtReader.ParseText(prototxt);
            return weights is null ? CaffeImporter.Import(net, prototxt) : CaffeImporter.Import(net, prototxt, weights);
        });
        return (fromWire, fromNet);
    }

    public static TheoryData<string> RealNets() => new(CaffeRealNets.All.Select(n => n.Name));

    [SharedModelsTheory]
    [MemberData(nameof(RealNets))]
    public void ARealNetImportsTheSameFromItsTextsBytes(string name)
    {
        var net = CaffeRealNets.Named(name);
        var (fromWire, fromNet) = BothWays(net.PrototxtPath(CaffeRealNets.Models), net.CaffeModelPath(CaffeRealNets.Models));
        Assert.StartsWith("module", fromWire.TrimStart());
        Assert.Equal(fromNet, fromWire);
    }

    public static TheoryData<string> LitPrototxts() =>
        new(Directory.GetFiles(Path.Combine(TestPaths.RepoRoot(), "tests", "lit", "caffe", "Inputs"), "*.prototxt").Order());

    [Theory]
    [MemberData(nameof(LitPrototxts))]
    public void TheLitTestsPrototxtsImportTheSameFromTheirTextsBytes(string prototxt)
    {
        var (fromWire, fromNet) = BothWays(prototxt, null);
        Assert.Equal(fromNet, fromWire);
    }

    /// <summary>Every kind of field a layer's text may give, in an order other than the fields' numbers.</summary>
    private const string EveryKind = """
        name: "kinds"
        input: "data"
        input_shape { dim: [1, 3, 8, 8] }
        layer {
          top: "c1" bottom: "data" type: "Convolution" name: "conv\x31"
          param { lr_mult: 1 decay_mult: 0 } param { lr_mult: 2 }
          convolution_param {
            weight_filler { type: "gaussian" std: 0.01 }
            kernel_size: 1 kernel_size: 1
            stride: [1, 1]
            num_output: 1
            bias_term: false
            engine: 2
            pad_h: 0x1 pad_w: 01
          }
          propagate_down: [true, f]
          loss_weight: [1.5, -inf]
          blobs { shape { dim: [1, 3, 1, 1] } double_data: [0.25, 0.5, 1] }
        }
        layer {
          name: "pool" type: "Pooling" bottom: "c1" top: "p1"
          include { phase: TEST stage: "deploy" } include { min_level: -2 }
          pooling_param { pool: AVE global_pooling: true }
          transform_param { scale: 0.5 mean_value: [1, 2] mirror: True }
        }
        layer {
          name: "relu" type: "ReLU" bottom: "p1" top: "y"
          phase: TEST
          relu_param { negative_slope: 0.1 engine: CAFFE }
          transform_param { mean_file: "m\n\"q\"" }
          param { name: 'caf\u00e9 ' "joined" }
          exclude { stage: "train" }
        }
        layer { name: "interp" type: "Interp" bottom: "y" top: "y2" interp_param { height: 4 width: 4 } }
        layer { name: "two" type: "Eltwise" bottom: "y2" bottom: "y2" top: "z" eltwise_param { operation: SUM coeff: [0.5, 0.5] } }
        layer { name: "loss" type: "Reshape" bottom: "z" top: "r" reshape_param { shape { dim: 0 dim: -1 } axis: 1 num_axes: -1 } }
        """;

    [Fact]
    public void EveryKindOfLayerFieldImportsTheSameFromTheTextsBytes()
    {
        var dir = Directory.CreateTempSubdirectory("mopt-wire-");
        try
        {
            var prototxt = Path.Combine(dir.FullName, "kinds.prototxt");
            File.WriteAllText(prototxt, EveryKind);
            var (fromWire, fromNet) = BothWays(prototxt, null);
            Assert.Contains("caffe.Interp", fromWire);
            Assert.Contains("caf\\C3\\A9 joined", fromWire);
            Assert.Equal(fromNet, fromWire);
        }
        finally { dir.Delete(recursive: true); }
    }

    /// <summary>
    /// The net's own fields and the layer forms read apart from the layers' bytes (the net's fields and the legacy
    /// <c>layers</c> through the generated parser; Input shapes, phases and rules from each layer's bytes).
    /// </summary>
    public static TheoryData<string, string> NetForms() => new()
    {
        {
            "legacy", """
            name: "old" input: "data" input_dim: [1, 2, 3, 3] force_backward: true debug_info: false
            state { phase: TEST level: 2 stage: "deploy" }
            layers { name: "relu" type: RELU bottom: "data" top: "relu" relu_param { negative_slope: 0.5 } blobs_lr: [1, 2] }
            layers { name: "pool" type: POOLING bottom: "relu" top: "pool" pooling_param { pool: MAX kernel_size: 2 } include { min_level: 1 } }
            layers { name: "gone" type: SIGMOID bottom: "pool" top: "gone" include { stage: "train" } }
            """
        },
        {
            "input layers and rules", """
            state { level: 1 stage: "a" }
            layer { name: "in" type: "Input" top: "x" top: "y" input_param { shape { dim: [1, 3, 4, 4] } shape { dim: [1, 3] } } }
            layer { name: "kept" type: "ReLU" bottom: "x" top: "r" include { min_level: 1 stage: "a" } }
            layer { name: "dropped" type: "ReLU" bottom: "r" top: "d" exclude { stage: "a" } }
            layer { name: "deep" type: "Sigmoid" bottom: "y" top: "s" include { max_level: 0 } include { not_stage: "b" } }
            """
        },
        {
            "training snapshot", """
            input: "data" input_shape { dim: [1, 1, 2, 2] }
            layer { name: "a" type: "ReLU" bottom: "data" top: "a" phase: TRAIN }
            layer { name: "b" type: "TanH" bottom: "a" top: "b" phase: TRAIN include { phase: TRAIN } }
            """
        },
        {
            "both forms", """
            input: "data"
            layer { name: "a" type: "ReLU" bottom: "data" top: "a" }
            layers { name: "b" type: RELU bottom: "a" top: "b" }
            """
        },
        {
            "two input shapes for three tops", """
            layer { name: "in" type: "Input" top: "x" top: "y" top: "z" input_param { shape { dim: 1 } shape { dim: 2 } } }
            """
        },
    };

    [Theory]
    [MemberData(nameof(NetForms))]
    public void TheNetsFieldsAndLayerFormsImportTheSameFromTheTextsBytes(string what, string text)
    {
        var dir = Directory.CreateTempSubdirectory("mopt-wire-");
        try
        {
            var prototxt = Path.Combine(dir.FullName, "net.prototxt");
            File.WriteAllText(prototxt, text);
            var (fromWire, fromNet) = BothWays(prototxt, null);
            Assert.Equal(fromNet, fromWire);
            switch (what)
            {
                case "legacy":
                    Assert.Contains("caffe.ReLU", fromWire);
                    Assert.Contains("caffe.Pooling", fromWire);
                    Assert.DoesNotContain("caffe.Sigmoid", fromWire);
                    Assert.Contains("caffe.force_backward = true", fromWire);
                    break;
                case "input layers and rules":
                    Assert.Contains("tensor<1x3x4x4xf32>", fromWire);
                    Assert.Contains("loc(\"kept\")", fromWire);
                    Assert.DoesNotContain("loc(\"dropped\")", fromWire);
                    Assert.Contains("loc(\"deep\")", fromWire);
                    break;
                case "training snapshot":
                    Assert.Contains("caffe.phase = \"TRAIN\"", fromWire);
                    break;
                case "both forms":
                    Assert.Contains("both 'layer' and the legacy 'layers'", fromWire);
                    break;
                default:
                    Assert.Contains("has 3 tops and 2 shapes", fromWire);
                    break;
            }
        }
        finally { dir.Delete(recursive: true); }
    }
}
