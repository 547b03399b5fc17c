using Microsoft.ML.OnnxRuntime;
using Mopt.Backend.Runtime;

namespace Mopt.Bench.Prune;

/// <summary>Top-1 against the labels: each held-out image through the model in ONNX Runtime, argmax of the logits.</summary>
public static class Top1
{
    public static (int Correct, int Total) Of(string modelPath, DigitsNet net)
    {
        using var runner = new OrtRunner(modelPath, new OrtOptions { Optimization = GraphOptimizationLevel.ORT_ENABLE_ALL });
        string input = runner.InputNames[0];
        int correct = 0;
        for (int i = 0; i < net.Images.Count; i++)
        {
            var logits = runner.Run(new Dictionary<string, NpyArray> { [input] = net.Images[i] }).Values.First();
            var scores = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(logits.Data);
            int best = 0;
            for (int c = 1; c < scores.Length; c++) if (scores[c] > scores[best]) best = c;
            if (best == net.Labels[i]) correct++;
        }
        return (correct, net.Images.Count);
    }
}
