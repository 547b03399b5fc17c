namespace Mopt.Tests.Tf;

/// <summary>What a real graph is fed when OpenCV referees it.</summary>
public enum TfGraphInput
{
    /// <summary>nnstreamer's 9.raw as its test feeds it: (x - 127.5) / 127.5, float [1,784].</summary>
    MnistNine,

    /// <summary>tf2onnx's get_ramp: 1, 2, ..., n (its run_pretrained_models.yaml input for this graph).</summary>
    Ramp,

    /// <summary>A fixed pattern in [-1, 1) (no reference input exists for the graph).</summary>
    Pattern,
}
