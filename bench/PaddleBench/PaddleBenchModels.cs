namespace Mopt.Bench.Paddle;

/// <summary>
/// The benchmark's models: the three real Paddle models, and larger real Caffe and ONNX models written as Paddle by mopt
/// with their batch norms kept (the --fold-bn measurement needs BN-bearing programs; two without BNs are the control).
/// </summary>
public static class PaddleBenchModels
{
    /// <summary>shape folding only: UltraFace's box decoding reads shapes (Shape, Gather), which Paddle's ops here cannot take.</summary>
    private static readonly string[] FoldShapes = ["--pass-pipeline=infer-shapes{on-conflict=keep},canonicalize,fold-constants,cse,dce"];

    public static IReadOnlyList<PaddleBenchModel> All { get; } =
    [
        new("fit_a_line", "Paddle", ["paddle/paddle2onnx_fit_a_line"], null),
        new("simple_model", "Paddle", ["paddle/paddlelite_simple_model/model.pdmodel"], null),
        new("resnet_cifar", "Paddle", ["paddle/paddlemobile_resnet_cifar"], null),
        new("lenet", "Caffe", ["caffe/lenet/lenet.prototxt", "--caffe-weights=caffe/lenet/lenet_iter_9000.caffemodel"], []),
        new("yoloface_50k", "Caffe", ["caffe/yoloface_50k/yoloface-50k.prototxt", "--caffe-weights=caffe/yoloface_50k/yoloface-50k.caffemodel"], []),
        new("landmark106", "Caffe", ["caffe/landmark106/landmark106.prototxt", "--caffe-weights=caffe/landmark106/landmark106.caffemodel"], []),
        new("super_resolution", "ONNX", ["onnx/connxr_super_resolution/model.onnx"], []),
        new("ultraface_rfb_320", "ONNX", ["onnx/ultraface_rfb_320/version-RFB-320.onnx"], FoldShapes),
    ];
}
