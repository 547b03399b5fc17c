namespace Mopt.Bench.Paddle;

/// <summary>bench/run.sh paddle's options.</summary>
public sealed class PaddleBenchOptions : ModelBenchOptions
{
    private PaddleBenchOptions() : base(runs: 15, warmup: 5, latencyRounds: 15) { }

    protected override string Usage => UsageText;
    protected override bool TakesStrict => false;

    public const string UsageText = """
        usage: bench/run.sh paddle [options]

        Per Paddle model (the three in ../shared/models/paddle, and Caffe and ONNX models written as Paddle by mopt with
        their batch norms kept), in this one process after warm-up runs of each (median of --runs, steps interleaved):
          import            read the Paddle model, build and verify the IR
          deploy->paddle    `mopt-opt model.pdmodel --pipeline=deploy -o out.pdmodel`: import, lower, optimize, write Paddle
          +round->paddle    the same with --round-weights after deploy
          ORT session       ONNX Runtime making the lowered model ready: new InferenceSession (load + graph optimization at
                            its default level, 1 thread): the named peer of deploy->paddle (ratio printed)
        then the written files' sizes, plain and gzip -9, with and without --round-weights, and ONNX Runtime latency
        (optimizations at the default level and off; 1 thread and ORT's default threads) of the lowered model
        (--convert-paddle-to-onnx), after --fold-bn and after --pipeline=deploy, with the outputs' max |a-b|.

          --runs N        timed runs of each step, interleaved (default 15)
          --warmup N      untimed runs of each first (default 5; no tiered compilation, as in the Native AOT mopt-opt)
          --rounds N      ONNX Runtime latency rounds (default 15)
          --only NAME     only this model (repeatable; see the table for names)
          --models DIR    the models folder (default: ../shared/models beside the repository)
          --dir DIR       work here (default: a new folder in /dev/shm, else in $TMPDIR; removed afterwards)
          --keep          keep the work folder
        """;

    public static PaddleBenchOptions Parse(string[] args)
    {
        var o = new PaddleBenchOptions();
        o.ParseArgs(args);
        return o;
    }
}
