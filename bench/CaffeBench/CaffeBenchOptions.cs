namespace Mopt.Bench.Caffe;

/// <summary>bench/run.sh caffe's options.</summary>
public sealed class CaffeBenchOptions : ModelBenchOptions
{
    // 51 rounds: the median of 21 per-round ratios of a sub-millisecond net (det1) strayed up to 0.16 above the median
    // of 2,500 rounds around it (a burst of slow rounds on a busy host), of 51 up to 0.09 (bench/README.md, caffe, twenty-first round).
    private CaffeBenchOptions() : base(runs: 51, warmup: 10, latencyRounds: 15) { }

    protected override string Usage => UsageText;

    public const string UsageText = """
        usage: bench/run.sh caffe [options]

        Per net in ../shared/models/caffe, in this one process after warm-up runs of each (median of --runs):
          mopt import       read the prototxt and caffemodel and build and verify the IR (what OpenCV's read does)
          ->onnx deploy     `mopt-opt net.prototxt --pipeline=deploy -o out.onnx`: import, lower, optimize, write
          merge->caffe      `mopt-opt net.prototxt --caffe-merge-bn -o out.prototxt`: import, merge, write both files
          OpenCV read       CvDnn.ReadNetFromCaffe(net.prototxt, net.caffemodel)
        with layers in and ONNX nodes after deploy, the ratios mopt/OpenCV (target <= 1.0x, CPU time), ONNX Runtime
        latency (1 thread, optimizations off) of the lowered model before and after deploy, and the max relative
        difference (max|a-b| / max|b|) of the deployed model in ONNX Runtime, and of the merged net written back in
        OpenCV, against OpenCV on the original.

          --runs N        timed runs of each step, interleaved (default 51)
          --warmup N      untimed runs of each first (default 10; no tiered compilation, as in the Native AOT mopt-opt),
                          then untimed rounds of all four until the garbage collector has run twice (its steady state)
          --rounds N      ONNX Runtime latency rounds (default 15)
          --only NAME     only this net (repeatable): lenet, mtcnn-det1, mtcnn-det2, mtcnn-det3, yoloface-50k, landmark106
          --models DIR    the caffe models folder (default: ../shared/models/caffe beside the repository)
          --dir DIR       work here (default: a new folder in /dev/shm, else in $TMPDIR; removed afterwards)
          --keep          keep the work folder
          --strict        exit 2 when a ratio misses 1.0x
        """;

    public static CaffeBenchOptions Parse(string[] args)
    {
        var o = new CaffeBenchOptions();
        o.ParseArgs(args);
        return o;
    }
}
