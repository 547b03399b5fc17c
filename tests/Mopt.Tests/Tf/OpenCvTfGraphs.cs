using Mopt.Backend.Tf;
using Mopt.Frontend.Tf;

namespace Mopt.Tests.Tf;

/// <summary>
/// The graphs of shared/models/tf that OpenCV 4.13's dnn module runs, and how (found by trying each; see
/// docs/formats/tensorflow.md, "Checked against OpenCV"). Shared by the tests and the TF benchmark (which links this file).
/// </summary>
public static class OpenCvTfGraphs
{
    public static IReadOnlyList<OpenCvTfGraph> All { get; } =
    [
        new("mnist", "nnstreamer_mnist/mnist.pb", [], "input", [1, 784], "softmax", "softmax", true, TfGraphInput.MnistNine,
            "read as is"),
        new("fc_layers", "tf2onnx_fc_layers/frozen.pb", [], "X", [1, 784], "output", "model/pred/MatMul", true, TfGraphInput.Ramp,
            "read as is; 'output' is an Identity of model/pred/BiasAdd, which OpenCV folds into the MatMul layer"),
        new("cifar10", "utensor_cifar10_cnn/cifar10_cnn.pb", [], "Placeholder", [1, 32, 32, 3], "fully_connect_2/logits", "fully_connect_2/MatMul", false, TfGraphInput.Pattern,
            "the original fails ('Input layer not found: Reshape/shape': OpenCV does not resolve the input written 'Reshape/shape:0'); "
            + "mopt's copy writes 'Reshape/shape' and is read; OpenCV's ArgMax 'pred' is wrong (0 where the logits' argmax is 2), so the logits are compared"),
        new("kws_cnn", "ml_kws_cnn_s/CNN_S.pb", ["Reshape_1"], "Reshape_1", [1, 49, 10, 1], "labels_softmax", "labels_softmax", false, TfGraphInput.Pattern,
            "the original loads but starts at a DT_STRING wav_data; mopt's copy cut at Reshape_1 is run"),
        new("kws_ds_cnn", "ml_kws_ds_cnn_s/DS_CNN_S.pb", ["Reshape_1"], "Reshape_1", [1, 49, 10, 1], "labels_softmax", "labels_softmax", false, TfGraphInput.Pattern,
            "the original loads but starts at a DT_STRING wav_data; mopt's copy cut at Reshape_1 is run"),
    ];

    public static OpenCvTfGraph Named(string name) => All.Single(g => g.Name == name);

    /// <summary>The input <paramref name="graph"/> is fed, in TensorFlow's layout.</summary>
    public static float[] InputValues(OpenCvTfGraph graph, string tfModels)
    {
        int count = graph.InputShape.Aggregate(1, (a, d) => a * d);
        var values = new float[count];
        switch (graph.Feed)
        {
            case TfGraphInput.MnistNine:
                var raw = System.IO.File.ReadAllBytes(Path.Combine(tfModels, "nnstreamer_mnist", "9.raw"));
                for (int i = 0; i < count; i++) values[i] = (raw[i] - 127.5f) / 127.5f;
                break;
            case TfGraphInput.Ramp:
                for (int i = 0; i < count; i++) values[i] = i + 1;
                break;
            case TfGraphInput.Pattern:
                // Not periodic in any axis of these shapes, so a transposed input would give other outputs.
                for (int i = 0; i < count; i++) values[i] = (i * 7919 % 2003) / 1001.5f - 1f;
                break;
        }
        return values;
    }

    /// <summary>
    /// The file OpenCV reads for <paramref name="graph"/>: the original, or mopt's copy (imported with the graph's cut and
    /// written back as .pb into <paramref name="dir"/>).
    /// </summary>
    public static string FileForOpenCv(OpenCvTfGraph graph, string tfModels, string dir)
    {
        var original = Path.Combine(tfModels, graph.File);
        return graph.OpenCvReadsOriginal ? original : WriteMoptCopy(original, graph.ImportOptions, Path.Combine(dir, graph.Name + ".pb"));
    }

    /// <summary>Imports <paramref name="original"/> with <paramref name="options"/> and writes it back to <paramref name="path"/>.</summary>
    public static string WriteMoptCopy(string original, TfImportOptions options, string path)
    {
        var module = TfImporter.ImportFile(original, options);
        using (var stream = System.IO.File.Create(path)) TfExporter.Write(module, stream, path);
        return path;
    }
}
