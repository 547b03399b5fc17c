using System.Runtime.InteropServices;
using Google.Protobuf;
using Mopt.Caffe.Proto;
using Mopt.Dialects.Caffe;
using Mopt.Frontend;
using Mopt.Frontend.Caffe;
using Mopt.Ir;

namespace Mopt.Tests.Caffe;

/// <summary>
/// Caffe import (docs/formats/caffe.md): the real caffemodels in shared/models/caffe alone and with a structure net of
/// their own, hand-built nets for in-place layers, phases, V1 layers and legacy blobs, and every bad-input error.
/// </summary>
public sealed class CaffeImporterTests
{
    private static string Models => Path.Combine(TestPaths.SharedModels, "caffe");

    private static List<Operation> Layers(MirModule module) =>
        module.MainFunction.Body.Operations.Where(o => o.Name.StartsWith("caffe.", StringComparison.Ordinal)).ToList();

    private static byte[] Bytes(MirModule module, Value value)
    {
        var constant = Assert.IsType<OpResult>(value).Owner;
        Assert.Equal("onnx.Constant", constant.Name);
        var attr = Assert.IsType<DenseResourceAttr>(constant.GetAttr("value"));
        return module.Resources[attr.Key].Data.ToArray();
    }

    private static byte[] FloatBytes(IEnumerable<float> values) => MemoryMarshal.AsBytes(values.ToArray().AsSpan()).ToArray();

    [SharedModelsFact]
    public void LenetCaffemodelAloneImportsWithItsBlobsAsTheyAreInTheFile()
    {
        var path = Path.Combine(Models, "lenet", "lenet_iter_9000.caffemodel");
        var module = ModelReaders.For(path).Read(path);
        var net = NetParameter.Parser.ParseFrom(File.ReadAllBytes(path));
        var layers = Layers(module);
        Assert.Equal(["caffe.Convolution", "caffe.Pooling", "caffe.Convolution", "caffe.Pooling", "caffe.InnerProduct", "caffe.ReLU", "caffe.InnerProduct", "caffe.Softmax"],
            layers.Select(l => l.Name));
        var func = module.MainFunction;
        var input = Assert.Single(func.Arguments);
        Assert.Equal("tensor<1x1x28x28xf32>", input.Type.Text);
        var conv1 = layers[0];
        Assert.Equal(20L, ((IntegerAttr)conv1.GetAttr("num_output")!).Value);
        Assert.Equal(2L, ((IntegerAttr)conv1.GetAttr(CaffeDialect.BlobsAttr)!).Value);
        Assert.Equal("tensor<20x1x5x5xf32>", conv1.GetOperand(1).Type.Text);
        Assert.Equal("convolution_param", ((StringAttr)conv1.GetAttr(CaffeDialect.ParamAttr)!).Value);
        Assert.Equal("MAX", ((StringAttr)layers[1].GetAttr("pool")!).Value);
        // every blob's bytes are the file's floats
        foreach (var op in layers.Where(l => l.GetAttr(CaffeDialect.BlobsAttr) is not null))
        {
            var source = net.Layer.Single(l => l.Name == ((NameLoc)op.Location).Name);
            int blobs = (int)((IntegerAttr)op.GetAttr(CaffeDialect.BlobsAttr)!).Value;
            for (int i = 0; i < blobs; i++)
                Assert.Equal(FloatBytes(source.Blobs[i].Data), Bytes(module, op.GetOperand(op.OperandCount - blobs + i)));
        }
        // the in-place ReLU reads ip1's result and gives a new value; the output is the unread top
        Assert.Same(layers[4].Result, layers[5].GetOperand(0));
        Assert.Equal("prob", func.ResultName(0));
    }

    /// <summary>
    /// Every deploy prototxt in shared/models/caffe, read as text with the caffemodel of its stem (or LeNet's
    /// snapshot), gets each layer's blobs byte for byte as the caffemodel stores them.
    /// </summary>
    [SharedModelsTheory]
    [InlineData("lenet/lenet.prototxt", "lenet/lenet_iter_9000.caffemodel")]
    [InlineData("mtcnn/det1.prototxt", "mtcnn/det1.caffemodel")]
    [InlineData("mtcnn/det2.prototxt", "mtcnn/det2.caffemodel")]
    [InlineData("mtcnn/det3.prototxt", "mtcnn/det3.caffemodel")]
    [InlineData("landmark106/landmark106.prototxt", "landmark106/landmark106.caffemodel")]
    [InlineData("yoloface_50k/yoloface-50k.prototxt", "yoloface_50k/yoloface-50k.caffemodel")]
    public void PrototxtWithItsCaffemodelGetsTheBlobsAsStored(string prototxt, string caffemodel)
    {
        var weightsPath = Path.Combine(Models, caffemodel);
        var module = new Mopt.Frontend.Caffe.CaffePrototxtReader(weightsPath).Read(Path.Combine(Models, prototxt));
        var stored = CaffeImporter.ReadFile(weightsPath).Layer.Where(l => l.Blobs.Count > 0)
            .GroupBy(l => l.Name).ToDictionary(g => g.Key, g => g.First());
        int checkedBlobs = 0;
        foreach (var layer in Layers(module).Where(l => l.GetAttr(CaffeDialect.BlobsAttr) is not null))
        {
            var name = layer.Location.FirstName!;
            int blobs = (int)((IntegerAttr)layer.GetAttr(CaffeDialect.BlobsAttr)!).Value;
            for (int i = 0; i < blobs; i++)
            {
                Assert.Equal(FloatBytes(stored[name].Blobs[i].Data), Bytes(module, layer.GetOperand(layer.OperandCount - blobs + i)));
                checkedBlobs++;
            }
        }
        Assert.True(checkedBlobs >= 4, $"{prototxt}: only {checkedBlobs} blobs checked");
    }

    [SharedModelsFact]
    public void MtcnnStructureWithTheTrainingCaffemodelsBlobsMatchesByName()
    {
        // det1's deploy layers, built here (the prototxt reader is another part); det1.caffemodel is the training net.
        var weightsPath = Path.Combine(Models, "mtcnn", "det1.caffemodel");
        var weights = CaffeImporter.ReadFile(weightsPath);
        var net = new NetParameter { Name = "PNet" };
        net.Input.Add("data");
        net.InputDim.Add([1, 3, 12, 12]);
        net.Layer.Add(new LayerParameter { Name = "conv1", Type = "Convolution", Bottom = { "data" }, Top = { "conv1" },
            ConvolutionParam = new ConvolutionParameter { NumOutput = 10, KernelSize = { 3 } } });
        net.Layer.Add(new LayerParameter { Name = "PReLU1", Type = "PReLU", Bottom = { "conv1" }, Top = { "conv1" } });
        var module = CaffeImporter.Import(net, "det1-head", weights, weightsPath);
        var layers = Layers(module);
        Assert.Equal(["caffe.Convolution", "caffe.PReLU"], layers.Select(l => l.Name));
        Assert.Equal("tensor<10x3x3x3xf32>", layers[0].GetOperand(1).Type.Text);
        Assert.Equal("tensor<10xf32>", layers[1].GetOperand(1).Type.Text);
        var source = weights.Layer.Single(l => l.Name == "PReLU1");
        Assert.Equal(FloatBytes(source.Blobs[0].Data), Bytes(module, layers[1].GetOperand(1)));
        Assert.Equal("tensor<1x3x12x12xf32>", module.MainFunction.Arguments[0].Type.Text);
    }

    [SharedModelsTheory]
    [InlineData("mtcnn/det1.caffemodel")]
    [InlineData("mtcnn/det2.caffemodel")]
    [InlineData("mtcnn/det3.caffemodel")]
    [InlineData("landmark106/landmark106.caffemodel")]
    [InlineData("yoloface_50k/yoloface-50k.caffemodel")]
    public void EveryRealCaffemodelImportsAlone(string relative)
    {
        var module = CaffeImporter.ImportFile(Path.Combine(Models, relative));
        Assert.NotEmpty(Layers(module));
        Assert.Contains(module.MainFunction.Body.Operations, o => o.Name == "onnx.Constant");
    }

    private static LayerParameter Layer(string name, string type, string[] bottoms, string[] tops) =>
        new() { Name = name, Type = type, Bottom = { bottoms }, Top = { tops } };

    private static BlobProto Blob(long[] dims, params float[] values) => new() { Shape = new BlobShape { Dim = { dims } }, Data = { values } };

    private static NetParameter Tiny()
    {
        var net = new NetParameter { Name = "tiny", Input = { "data" }, InputShape = { new BlobShape { Dim = { 1, 2, 3, 3 } } } };
        var conv = Layer("conv1", "Convolution", ["data"], ["conv1"]);
        conv.ConvolutionParam = new ConvolutionParameter { NumOutput = 2, KernelSize = { 1 } };
        conv.Blobs.Add(Blob([2, 2, 1, 1], 1, 2, 3, 4));
        conv.Blobs.Add(Blob([2], 5, 6));
        net.Layer.Add(conv);
        net.Layer.Add(Layer("relu1", "ReLU", ["conv1"], ["conv1"]));
        var train = Layer("train_only", "Dropout", ["conv1"], ["conv1"]);
        train.Include.Add(new NetStateRule { Phase = Phase.Train });
        net.Layer.Add(train);
        var notTest = Layer("not_test", "Dropout", ["conv1"], ["conv1"]);
        notTest.Exclude.Add(new NetStateRule { Phase = Phase.Test });
        net.Layer.Add(notTest);
        return net;
    }

    [Fact]
    public void InPlaceLayersGetFreshValuesAndTrainOnlyLayersAreDropped()
    {
        var module = CaffeImporter.Import(Tiny(), "tiny");
        var layers = Layers(module);
        Assert.Equal(["caffe.Convolution", "caffe.ReLU"], layers.Select(l => l.Name));
        Assert.Same(layers[0].Result, layers[1].GetOperand(0));
        Assert.NotSame(layers[0].Result, layers[1].Result);
        Assert.Same(layers[1].Result, module.MainFunction.Body.Operations.Last().GetOperand(0));
        Assert.Equal(FloatBytes([1, 2, 3, 4]), Bytes(module, layers[0].GetOperand(1)));
    }

    [Fact]
    public void TheLayersOwnParameterFieldsArePlainAndItsOtherFieldsKeepTheirNames()
    {
        var net = Tiny();
        net.Layer[0].Param.Add(new ParamSpec { LrMult = 2 });
        net.Layer[0].ConvolutionParam.Pad.Add(1);
        net.Layer[0].ConvolutionParam.KernelSize[0] = 3;
        net.Layer[0].Blobs[0].Shape.Dim[2] = 3;
        net.Layer[0].Blobs[0].Shape.Dim[3] = 3;
        net.Layer[0].Blobs[0].Data.Add(Enumerable.Repeat(0f, 32));
        var conv = Layers(CaffeImporter.Import(net, "tiny"))[0];
        Assert.Equal("convolution_param", ((StringAttr)conv.GetAttr(CaffeDialect.ParamAttr)!).Value);
        Assert.Equal([1L], ((ArrayAttr)conv.GetAttr("pad")!).Elements.Select(e => ((IntegerAttr)e).Value));
        var spec = Assert.IsType<DictionaryAttr>(Assert.Single(((ArrayAttr)conv.GetAttr("caffe.param")!).Elements));
        Assert.Equal(2.0, ((FloatAttr)spec.Get("lr_mult")!).Value);
    }

    [Fact]
    public void StructureAndWeightsFromTwoNetsMatchByNameAndExtraWeightLayersAreIgnored()
    {
        var weights = Tiny();
        weights.Layer.Add(Layer("unused", "InnerProduct", ["conv1"], ["unused"]));
        weights.Layer[^1].Blobs.Add(Blob([1, 1], 9));
        var structure = Tiny();
        structure.Layer[0].Blobs.Clear();
        var module = CaffeImporter.Import(structure, "tiny.prototxt", weights, "tiny.caffemodel");
        Assert.Equal(FloatBytes([5, 6]), Bytes(module, Layers(module)[0].GetOperand(2)));
    }

    [Fact]
    public void V1LayersAreUpgradedToTheirTypeNames()
    {
        var net = new NetParameter { Name = "v1", Input = { "data" } };
        net.Layers.Add(new V1LayerParameter { Name = "relu1", Type = V1LayerParameter.Types.LayerType.Relu, Bottom = { "data" }, Top = { "relu1" } });
        net.Layers.Add(new V1LayerParameter { Name = "loss", Type = V1LayerParameter.Types.LayerType.SoftmaxLoss, Bottom = { "relu1" }, Top = { "loss" } });
        Assert.Equal(["caffe.ReLU", "caffe.SoftmaxWithLoss"], Layers(CaffeImporter.Import(net, "v1")).Select(l => l.Name));
    }

    [Fact]
    public void LegacyBlobShapesLoseTheLeadingOnesTheLayerDoesNotHave()
    {
        var net = new NetParameter { Name = "legacy", Input = { "data" } };
        var ip = Layer("ip1", "InnerProduct", ["data"], ["ip1"]);
        ip.InnerProductParam = new InnerProductParameter { NumOutput = 2, BiasTerm = false };
        ip.Blobs.Add(new BlobProto { Num = 1, Channels = 1, Height = 2, Width = 3, Data = { 1, 2, 3, 4, 5, 6 } });
        net.Layer.Add(ip);
        Assert.Equal("tensor<2x3xf32>", Layers(CaffeImporter.Import(net, "legacy"))[0].GetOperand(1).Type.Text);
    }

    [Fact]
    public void AnUnknownLayerTypeImports()
    {
        var net = Tiny();
        net.Layer.Add(Layer("odd", "Mystery", ["conv1"], ["odd"]));
        Assert.Equal("caffe.Mystery", Layers(CaffeImporter.Import(net, "tiny"))[^1].Name);
    }

    [Fact]
    public void ABottomNoLayerProducesIsAnErrorNamingIt()
    {
        var net = Tiny();
        net.Layer.Add(Layer("relu2", "ReLU", ["nowhere"], ["relu2"]));
        var e = Assert.Throws<MirException>(() => CaffeImporter.Import(net, "tiny"));
        Assert.Equal("'tiny': layer 'relu2' (ReLU): bottom 'nowhere' is the top of no layer before it", e.Message);
    }

    [Fact]
    public void AMissingOrWrongBlobIsAnErrorNamingTheLayer()
    {
        var structure = Tiny();
        structure.Layer[0].Blobs.Clear();
        var e = Assert.Throws<MirException>(() => CaffeImporter.Import(structure, "tiny.prototxt", new NetParameter { Layer = { Layer("other", "ReLU", [], []) } }, "w.caffemodel"));
        Assert.Equal("'tiny.prototxt': layer 'conv1' (Convolution) has no blobs; a Convolution layer like it takes 2", e.Message);

        var count = Tiny();
        count.Layer[0].Blobs.RemoveAt(1);
        e = Assert.Throws<MirException>(() => CaffeImporter.Import(count, "tiny"));
        Assert.Equal("'tiny': layer 'conv1' (Convolution) has 1 blob; a Convolution layer like it takes 2", e.Message);

        var shape = Tiny();
        shape.Layer[0].ConvolutionParam.NumOutput = 3;
        e = Assert.Throws<MirException>(() => CaffeImporter.Import(shape, "tiny"));
        Assert.Equal("'tiny': layer 'conv1' (Convolution): the weight blob [2x2x1x1] has 2 outputs, num_output is 3", e.Message);

        var values = Tiny();
        values.Layer[0].Blobs[1].Data.Add(7);
        e = Assert.Throws<MirException>(() => CaffeImporter.Import(values, "tiny"));
        Assert.Equal("'tiny': layer 'conv1' (Convolution): blob 1: it has 3 values, its shape [2] needs 2", e.Message);
    }

    /// <summary>
    /// The blob checks read a layer's parameters as Caffe does: kernel_h/kernel_w before kernel_size, one kernel_size for
    /// every axis or one per axis, bias_term and group with their defaults, an InnerProduct's transpose, a PReLU's
    /// channel_shared.
    /// </summary>
    [Theory]
    [InlineData("kernel_h: 1 kernel_w: 1", null)]
    [InlineData("kernel_h: 2 kernel_w: 1", "the weight blob [2x2x1x1] does not have the kernel 2x1")]
    [InlineData("kernel_size: 1 kernel_size: 1", null)]
    [InlineData("kernel_size: 3", "the weight blob [2x2x1x1] does not have the kernel 3x3")]
    [InlineData("kernel_size: 1 num_output: 3", "the weight blob [2x2x1x1] has 2 outputs, num_output is 3")]
    [InlineData("kernel_size: 1 bias_term: false", " has 2 blobs; a Convolution layer like it takes 1")]
    [InlineData("kernel_size: 1 bias_term: true group: 2", null)]
    public void TheBlobChecksReadAConvolutionsParametersAsProtobufDoes(string param, string? error)
    {
        var net = Tiny();
        net.Layer[0].ConvolutionParam = ConvolutionParameter.Parser.ParseFrom(Mopt.Protobuf.ProtoText.ToWire(ConvolutionParameter.Descriptor, param));
        if (error is null) Assert.Equal("caffe.Convolution", Layers(CaffeImporter.Import(net, "tiny"))[0].Name);
        else Assert.EndsWith(error, Assert.Throws<MirException>(() => CaffeImporter.Import(net, "tiny")).Message);
    }

    [Fact]
    public void TheBlobChecksReadAnInnerProductsTransposeAndAPReLUsSharing()
    {
        NetParameter Net(bool transpose, bool shared, long[] slope)
        {
            var net = new NetParameter { Name = "ip", Input = { "data" }, InputShape = { new BlobShape { Dim = { 1, 3 } } } };
            var ip = Layer("ip", "InnerProduct", ["data"], ["ip"]);
            ip.InnerProductParam = new InnerProductParameter { NumOutput = 2, BiasTerm = false, Transpose = transpose };
            ip.Blobs.Add(Blob([3, 2], 1, 2, 3, 4, 5, 6)); // [K, N]: 2 outputs only when transposed
            net.Layer.Add(ip);
            var prelu = Layer("prelu", "PReLU", ["ip"], ["prelu"]);
            prelu.PreluParam = new PReLUParameter { ChannelShared = shared };
            prelu.Blobs.Add(Blob(slope, Enumerable.Repeat(0.25f, (int)slope.Aggregate(1L, (a, b) => a * b)).ToArray()));
            net.Layer.Add(prelu);
            return net;
        }
        Assert.Equal(2, Layers(CaffeImporter.Import(Net(transpose: true, shared: false, [2]), "ip")).Count);
        Assert.Equal(2, Layers(CaffeImporter.Import(Net(transpose: true, shared: true, []), "ip")).Count);
        Assert.EndsWith("the weight blob [3x2] has 3 outputs, num_output is 2",
            Assert.Throws<MirException>(() => CaffeImporter.Import(Net(transpose: false, shared: false, [2]), "ip")).Message);
        Assert.Contains("has 1 dimensions, the layer's needs 0",
            Assert.Throws<MirException>(() => CaffeImporter.Import(Net(transpose: true, shared: true, [2]), "ip")).Message);
    }

    [Fact]
    public void WhatIsNotANetParameterIsAnErrorNamingTheFile()
    {
        Assert.Equal("'x': not a Caffe NetParameter: the file is empty", Assert.Throws<MirException>(() => CaffeImporter.Parse([], "x")).Message);
        Assert.StartsWith("'x': not a Caffe NetParameter", Assert.Throws<MirException>(() => CaffeImporter.Parse("this is not a net"u8, "x")).Message);
        var bytes = Tiny().ToByteArray();
        Assert.Equal("'x': not a Caffe NetParameter: the file is truncated", Assert.Throws<MirException>(() => CaffeImporter.Parse(bytes.AsSpan(0, bytes.Length - 5), "x")).Message);
    }
}
