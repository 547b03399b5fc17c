using Mopt.Caffe.Proto;
using Mopt.Ir;
using V1Type = Mopt.Caffe.Proto.V1LayerParameter.Types.LayerType;

namespace Mopt.Frontend.Caffe;

/// <summary>
/// The legacy <c>layers</c> (V1LayerParameter) as <c>layer</c>s, as Caffe's upgrade_proto.cpp (UpgradeV1LayerParameter)
/// does: the type enum becomes the type string, blobs_lr/weight_decay/param become ParamSpecs, the parameter messages
/// move over as they are.
/// </summary>
internal static class CaffeV1Layers
{
    public static string TypeName(V1Type type) => type switch
    {
        V1Type.None => "",
        V1Type.Absval => "AbsVal",
        V1Type.Accuracy => "Accuracy",
        V1Type.Argmax => "ArgMax",
        V1Type.Bnll => "BNLL",
        V1Type.Concat => "Concat",
        V1Type.ContrastiveLoss => "ContrastiveLoss",
        V1Type.Convolution => "Convolution",
        V1Type.Deconvolution => "Deconvolution",
        V1Type.Data => "Data",
        V1Type.Dropout => "Dropout",
        V1Type.DummyData => "DummyData",
        V1Type.EuclideanLoss => "EuclideanLoss",
        V1Type.Eltwise => "Eltwise",
        V1Type.Exp => "Exp",
        V1Type.Flatten => "Flatten",
        V1Type.Hdf5Data => "HDF5Data",
        V1Type.Hdf5Output => "HDF5Output",
        V1Type.HingeLoss => "HingeLoss",
        V1Type.Im2Col => "Im2col",
        V1Type.ImageData => "ImageData",
        V1Type.InfogainLoss => "InfogainLoss",
        V1Type.InnerProduct => "InnerProduct",
        V1Type.Lrn => "LRN",
        V1Type.MemoryData => "MemoryData",
        V1Type.MultinomialLogisticLoss => "MultinomialLogisticLoss",
        V1Type.Mvn => "MVN",
        V1Type.Pooling => "Pooling",
        V1Type.Power => "Power",
        V1Type.Relu => "ReLU",
        V1Type.Sigmoid => "Sigmoid",
        V1Type.SigmoidCrossEntropyLoss => "SigmoidCrossEntropyLoss",
        V1Type.Silence => "Silence",
        V1Type.Softmax => "Softmax",
        V1Type.SoftmaxLoss => "SoftmaxWithLoss",
        V1Type.Split => "Split",
        V1Type.Slice => "Slice",
        V1Type.Tanh => "TanH",
        V1Type.WindowData => "WindowData",
        V1Type.Threshold => "Threshold",
        _ => throw new MirException($"V1 layer type {(int)type} is not one Caffe knows"),
    };

    public static LayerParameter Upgrade(V1LayerParameter v1)
    {
        var layer = new LayerParameter { Name = v1.Name, Type = TypeName(v1.Type) };
        layer.Bottom.Add(v1.Bottom);
        layer.Top.Add(v1.Top);
        layer.Include.Add(v1.Include);
        layer.Exclude.Add(v1.Exclude);
        layer.Blobs.Add(v1.Blobs);
        layer.LossWeight.Add(v1.LossWeight);
        int specs = new[] { v1.Param.Count, v1.BlobShareMode.Count, v1.BlobsLr.Count, v1.WeightDecay.Count }.Max();
        for (int i = 0; i < specs; i++)
        {
            var spec = new ParamSpec();
            if (i < v1.Param.Count) spec.Name = v1.Param[i];
            if (i < v1.BlobShareMode.Count) spec.ShareMode = (ParamSpec.Types.DimCheckMode)(int)v1.BlobShareMode[i];
            if (i < v1.BlobsLr.Count) spec.LrMult = v1.BlobsLr[i];
            if (i < v1.WeightDecay.Count) spec.DecayMult = v1.WeightDecay[i];
            layer.Param.Add(spec);
        }
        if (v1.AccuracyParam is { } accuracy) layer.AccuracyParam = accuracy;
        if (v1.ArgmaxParam is { } argmax) layer.ArgmaxParam = argmax;
        if (v1.ConcatParam is { } concat) layer.ConcatParam = concat;
        if (v1.ConvolutionParam is { } conv) layer.ConvolutionParam = conv;
        if (v1.DropoutParam is { } dropout) layer.DropoutParam = dropout;
        if (v1.EltwiseParam is { } eltwise) layer.EltwiseParam = eltwise;
        if (v1.ExpParam is { } exp) layer.ExpParam = exp;
        if (v1.InnerProductParam is { } ip) layer.InnerProductParam = ip;
        if (v1.LrnParam is { } lrn) layer.LrnParam = lrn;
        if (v1.MvnParam is { } mvn) layer.MvnParam = mvn;
        if (v1.PoolingParam is { } pooling) layer.PoolingParam = pooling;
        if (v1.PowerParam is { } power) layer.PowerParam = power;
        if (v1.ReluParam is { } relu) layer.ReluParam = relu;
        if (v1.SigmoidParam is { } sigmoid) layer.SigmoidParam = sigmoid;
        if (v1.SoftmaxParam is { } softmax) layer.SoftmaxParam = softmax;
        if (v1.SliceParam is { } slice) layer.SliceParam = slice;
        if (v1.TanhParam is { } tanh) layer.TanhParam = tanh;
        if (v1.ThresholdParam is { } threshold) layer.ThresholdParam = threshold;
        if (v1.TransformParam is { } transform) layer.TransformParam = transform;
        if (v1.LossParam is { } loss) layer.LossParam = loss;
        return layer;
    }
}
