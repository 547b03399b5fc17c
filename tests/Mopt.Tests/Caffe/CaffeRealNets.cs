namespace Mopt.Tests.Caffe;

/// <summary>The nets in shared/models/caffe (its SOURCES.md), as <see cref="CaffeRealNet"/>s.</summary>
public static class CaffeRealNets
{
    /// <summary>Where the Caffe nets are: shared/models/caffe beside the repository.</summary>
    public static string Models => System.IO.Path.Combine(TestPaths.SharedModels, "caffe");

    public static IReadOnlyList<CaffeRealNet> All { get; } =
    [
        // nnstreamer's ArmNN test feeds 9.raw as (x - 127.5) / 127.5 and expects argmax(prob) = 9; the prototxt's batch is 64.
        new("lenet", "lenet/lenet.prototxt", "lenet/lenet_iter_9000.caffemodel", "data", [64, 1, 28, 28], ["prob"], Image: "lenet/9.raw"),
        new("mtcnn-det1", "mtcnn/det1.prototxt", "mtcnn/det1.caffemodel", "data", [1, 3, 12, 12], ["conv4-2", "prob1"]),
        new("mtcnn-det2", "mtcnn/det2.prototxt", "mtcnn/det2.caffemodel", "data", [1, 3, 24, 24], ["conv5-2", "prob1"]),
        new("mtcnn-det3", "mtcnn/det3.prototxt", "mtcnn/det3.caffemodel", "data", [1, 3, 48, 48], ["conv6-2", "conv6-3", "prob1"]),
        new("yoloface-50k", "yoloface_50k/yoloface-50k.prototxt", "yoloface_50k/yoloface-50k.caffemodel", "data", [1, 3, 56, 56], ["layer33-conv"]),
        new("landmark106", "landmark106/landmark106.prototxt", "landmark106/landmark106.caffemodel", "data", [1, 3, 112, 112], ["bn6_3"]),
    ];

    public static CaffeRealNet Named(string name) => All.Single(n => n.Name == name);
}
