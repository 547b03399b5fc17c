namespace Mopt.Bench.Tf;

/// <summary>bench/run.sh tf's options.</summary>
public sealed class TfBenchOptions : ModelBenchOptions
{
    private TfBenchOptions() : base(runs: 21, warmup: 10, latencyRounds: 15) { }

    protected override string Usage => UsageText;
    protected override bool TakesRounds => false;

    public const string UsageText = """
        usage: bench/run.sh tf [options]

        Per graph in ../shared/models/tf, in this one process after warm-up runs of each (median of --runs):
          mopt pb->pb       mopt-opt in process (its importer and writer as a library): `mopt-opt g.pb -o out.pb`
          tf-deploy         `mopt-opt g.pb [cut] --pipeline='tf-deploy{shape=...}' -o out.pb` (n/a until the pipeline exists)
          ->onnx            `mopt-opt g.pb [cut] --convert-tf-to-onnx -o out.onnx` (n/a until the lowering exists)
          OpenCV read       CvDnn.ReadNetFromTensorflow on the same file (mopt's copy where OpenCV refuses the original)
        with the node counts before and after tf-deploy, the ratios mopt/OpenCV (target <= 1.0x) and the max relative
        difference (max|a-b| / max|b|) of the lowered model in ONNX Runtime against OpenCV on the same input.

          --runs N        timed runs of each, interleaved, after one warm-up each (default 21)
          --warmup N      untimed runs of each first (default 10; the benchmark runs without tiered compilation, so
                          mopt's code is fully optimized from its first call, as in the Native AOT mopt-opt)
          --only NAME     only this graph (repeatable): mnist, fc_layers, cifar10, kws_cnn, kws_ds_cnn
          --models DIR    the tf models folder (default: ../shared/models/tf beside the repository)
          --dir DIR       work here (default: a new folder in /dev/shm, else in $TMPDIR; removed afterwards)
          --keep          keep the work folder
          --strict        exit 2 when a ratio misses 1.0x
        """;

    public static TfBenchOptions Parse(string[] args)
    {
        var o = new TfBenchOptions();
        o.ParseArgs(args);
        return o;
    }
}
