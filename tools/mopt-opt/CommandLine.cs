using System.Globalization;
using System.Reflection;
using Mopt.Ir;
using Mopt.Passes;

namespace Mopt.Tools.Opt;

/// <summary>
/// mopt-opt's arguments, read the way mlir-opt reads them: passes are flags run in the order given. Written by
/// hand because pass flags are only known at run time (from the pass registry), which option libraries do not model.
/// </summary>
public sealed class CommandLine
{
    public string Input { get; private set; } = "-";
    public string? Output { get; private set; }
    public List<Pass> Passes { get; } = new();
    public bool PrintBeforeAll { get; private set; }
    public bool PrintAfterAll { get; private set; }
    public HashSet<string> PrintBefore { get; } = new(StringComparer.Ordinal);
    public HashSet<string> PrintAfter { get; } = new(StringComparer.Ordinal);
    public string? IrDumpDir { get; private set; }
    public long? ElideLargerThan { get; private set; }
    public bool Timing { get; private set; }
    public bool PassStatistics { get; private set; }
    public bool Debug { get; private set; }
    public bool VerifyEach { get; private set; } = true;
    public bool ListPasses { get; private set; }
    public bool ListPipelines { get; private set; }
    public bool Summarize { get; private set; }
    public string? VerifyAgainst { get; private set; }
    public double VerifyTolerance { get; private set; } = 1e-4;
    public string? VerifyInputs { get; private set; }
    public int VerifySeed { get; private set; }
    public bool Help { get; private set; }
    public bool Version { get; private set; }
    /// <summary><c>--calibration-table=FILE</c>: the activation ranges of the quantize-int8 pass, as TensorRT's calibration cache.</summary>
    public string? CalibrationTable { get; private set; }

    /// <summary><c>--tf-outputs=a,b:1</c>: a GraphDef's outputs as tensor names (default: the nodes no one consumes).</summary>
    public List<string> TfOutputs { get; } = new();

    /// <summary><c>--tf-inputs=a,b</c>: the nodes to cut a GraphDef at, which become its inputs.</summary>
    public List<string> TfInputs { get; } = new();

    /// <summary><c>--tf-checkpoint=PREFIX</c>: the checkpoint to freeze a MetaGraphDef with (its variables become constants).</summary>
    public string? TfCheckpoint { get; private set; }

    /// <summary><c>--caffe-weights=FILE.caffemodel</c>: the blobs of a <c>.prototxt</c> input (default: the .caffemodel of its stem).</summary>
    public string? CaffeWeights { get; private set; }

    /// <summary><c>--quant-report=FILE.json</c>: the report of every quantize-int8 pass in the pipeline.</summary>
    public string? QuantReport { get; private set; }

    /// <summary><c>--prune-report=FILE.json</c>: the report of every prune-channels pass in the pipeline.</summary>
    public string? PruneReport { get; private set; }

    /// <summary><c>--view-op-graph</c>: write the graph after the passes as Graphviz DOT (or <c>-o x.svg</c>) instead of the IR.</summary>
    public bool ViewOpGraph { get; private set; }

    /// <summary><c>--view-op-graph='diff=OTHER'</c>: the model the graph is coloured against (what the pipeline removed, added, changed).</summary>
    public string? ViewOpGraphDiff { get; private set; }

    /// <summary>Flags mlir-opt users type out of habit; accepted and ignored (mopt always allows unregistered dialects and prints locations).</summary>
    private static readonly HashSet<string> Accepted = new(StringComparer.Ordinal)
    {
        "allow-unregistered-dialect", "mlir-print-debuginfo", "mlir-print-op-generic",
    };

    public static CommandLine Parse(IReadOnlyList<string> args)
    {
        var cl = new CommandLine();
        bool inputSeen = false;
        for (int i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg == "-o")
            {
                if (i + 1 >= args.Count) throw new PipelineException("-o needs a file name");
                cl.Output = args[++i];
                continue;
            }
            if (arg.StartsWith("-o", StringComparison.Ordinal) && !arg.StartsWith("--", StringComparison.Ordinal) && arg.Length > 2)
            {
                cl.Output = arg[2] == '=' ? arg[3..] : arg[2..];
                continue;
            }
            if (arg == "-" || !arg.StartsWith('-'))
            {
                if (inputSeen) throw new PipelineException($"more than one input file: '{cl.Input}' and '{arg}'");
                cl.Input = arg;
                inputSeen = true;
                continue;
            }
            if (arg is "-h" or "--help" or "-help") { cl.Help = true; continue; }
            if (arg is "--version" or "-version") { cl.Version = true; continue; }

            var body = arg.TrimStart('-');
            int eq = body.IndexOf('=');
            string name = eq >= 0 ? body[..eq] : body;
            string? value = eq >= 0 ? body[(eq + 1)..] : null;
            switch (name)
            {
                case "pass-pipeline": cl.Passes.AddRange(PipelineParser.Parse(Required(name, value))); break;
                case "pipeline": cl.Passes.AddRange(PipelineRegistry.Build(Required(name, value))); break;
                case "list-pipelines": cl.ListPipelines = Flag(name, value); break;
                case "print-ir-before-all" or "mlir-print-ir-before-all": cl.PrintBeforeAll = Flag(name, value); break;
                case "print-ir-after-all" or "mlir-print-ir-after-all": cl.PrintAfterAll = Flag(name, value); break;
                case "print-ir-before" or "mlir-print-ir-before": cl.PrintBefore.UnionWith(PassNames(name, value)); break;
                case "print-ir-after" or "mlir-print-ir-after": cl.PrintAfter.UnionWith(PassNames(name, value)); break;
                case "ir-dump-dir" or "mlir-print-ir-tree-dir": cl.IrDumpDir = Required(name, value); break;
                case "elide-constants-larger-than" or "mlir-elide-elementsattrs-if-larger":
                    cl.ElideLargerThan = long.TryParse(Required(name, value), NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                        ? n : throw new PipelineException($"--{name} expects a number of elements, not '{value}'");
                    break;
                case "timing" or "mlir-timing": cl.Timing = Flag(name, value); break;
                case "pass-statistics" or "mlir-pass-statistics": cl.PassStatistics = Flag(name, value); break;
                case "debug": cl.Debug = Flag(name, value); break;
                case "verify-each": cl.VerifyEach = Flag(name, value); break;
                case "list-passes": cl.ListPasses = Flag(name, value); break;
                case "summarize": cl.Summarize = Flag(name, value); break;
                case "view-op-graph":
                    cl.ViewOpGraph = true;
                    cl.ViewOpGraphDiff = value is null ? null : value.StartsWith("diff=", StringComparison.Ordinal) && value.Length > 5 ? value[5..].Trim()
                        : throw new PipelineException($"--view-op-graph takes diff=MODEL (the model to colour the graph against), not '{value}'");
                    break;
                case "verify-against": cl.VerifyAgainst = Required(name, value); break;
                case "verify-inputs": cl.VerifyInputs = Required(name, value); break;
                case "quant-report": cl.QuantReport = Required(name, value); break;
                case "prune-report": cl.PruneReport = Required(name, value); break;
                case "calibration-table": cl.CalibrationTable = Required(name, value); break;
                case "tf-inputs":
                    cl.TfInputs.AddRange(Required(name, value).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
                    break;
                case "tf-checkpoint": cl.TfCheckpoint = Required(name, value); break;
                case "caffe-weights": cl.CaffeWeights = Required(name, value); break;
                case "tf-transforms": cl.Passes.AddRange(Mopt.Passes.Tf.GttTransforms.Build(Required(name, value))); break;
                case "tf-outputs":
                    cl.TfOutputs.AddRange(Required(name, value).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
                    break;
                case "verify-tolerance":
                    cl.VerifyTolerance = double.TryParse(Required(name, value), NumberStyles.Float, CultureInfo.InvariantCulture, out var tol) && tol >= 0
                        ? tol : throw new PipelineException($"--verify-tolerance expects a non-negative number, not '{value}'");
                    break;
                case "verify-seed":
                    cl.VerifySeed = int.TryParse(Required(name, value), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed)
                        ? seed : throw new PipelineException($"--verify-seed expects an integer, not '{value}'");
                    break;
                default:
                    if (Accepted.Contains(name)) break;
                    if (PassRegistry.Find(name) is null)
                        throw new PipelineException($"unknown option '{arg}' (see --help; passes: --list-passes)");
                    cl.Passes.Add(PassRegistry.Create(name, value));
                    break;
            }
        }
        if (cl.ViewOpGraph && cl.Output is { } graphOut && !Mopt.Backend.Graphviz.OpGraphWriter.CanWrite(graphOut))
            throw new PipelineException($"--view-op-graph writes {Mopt.Backend.Graphviz.OpGraphWriter.Extensions}, not '{graphOut}'");
        if (cl.ViewOpGraph && cl.Summarize) throw new PipelineException("--view-op-graph and --summarize both replace the IR output: choose one");
        if (cl.QuantReport is { } report)
        {
            var quantizers = cl.Passes.OfType<Mopt.Passes.Quantization.QuantizeInt8>().ToList();
            if (quantizers.Count == 0) throw new PipelineException("--quant-report needs a --quantize-int8 pass to report on");
            foreach (var q in quantizers) q.SetReport(report);
        }
        if (cl.PruneReport is { } pruneReport)
        {
            var pruners = cl.Passes.OfType<Mopt.Passes.Pruning.PruneChannels>().ToList();
            if (pruners.Count == 0) throw new PipelineException("--prune-report needs a --prune-channels pass to report on");
            foreach (var p in pruners) p.SetReport(pruneReport);
        }
        if (cl.CalibrationTable is { } table)
        {
            var quantizers = cl.Passes.OfType<Mopt.Passes.Quantization.QuantizeInt8>().ToList();
            if (quantizers.Count != 1) throw new PipelineException($"--calibration-table needs exactly one --quantize-int8 pass, not {quantizers.Count}");
            quantizers[0].SetTable(table);
        }
        return cl;
    }

    /// <summary>An on/off flag: bare or =true/=1 is on, =false/=0 is off, anything else is an error.</summary>
    private static bool Flag(string name, string? value) => value switch
    {
        null or "true" or "1" => true,
        "false" or "0" => false,
        _ => throw new PipelineException($"--{name} takes true or false, not '{value}'"),
    };

    private static string Required(string name, string? value) =>
        string.IsNullOrEmpty(value) ? throw new PipelineException($"--{name} needs a value (--{name}=...)") : value;

    private static IEnumerable<string> PassNames(string flag, string? value)
    {
        foreach (var n in Required(flag, value).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            yield return PassRegistry.Find(n) is null ? throw new PipelineException($"--{flag}: unknown pass '{n}'") : n;
    }

    /// <summary>What <c>--version</c> prints: <c>mopt-opt 0.10.0 (commit 09e8e10...)</c>: the toolchain's version and, when
    /// built from git, the commit (the SDK's source-revision suffix of the informational version).</summary>
    public static string VersionText
    {
        get
        {
            string informational = typeof(CommandLine).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
                ?? "(unknown version)";
            int plus = informational.IndexOf('+', StringComparison.Ordinal);
            return plus < 0 ? "mopt-opt " + informational
                : $"mopt-opt {informational[..plus]} (commit {informational[(plus + 1)..]})";
        }
    }

    public const string Usage = """
        OVERVIEW: mopt-opt: read a model, run passes on its IR, write the result

        USAGE: mopt-opt [input] [passes and options] [-o output]

          input                       the model to read, by its extension: .mir or .mlir (the IR as text),
                                      .onnx (an ONNX model), .pb or .meta (TensorFlow), .prototxt or .caffemodel
                                      (Caffe), a Paddle model folder, __model__ or .pdmodel, .nb (Paddle-Lite), a
                                      Paddle 3 PIR .json (with its .pdiparams); '-' or nothing reads .mir text from
                                      standard input
          -o FILE                     write here, in the format of its extension: .mir or .mlir (text), .onnx,
                                      .pb (a tf.* module), .prototxt or .caffemodel (a caffe.* module), .pdmodel
                                      or DIR/ (Paddle), .nb (Paddle-Lite); default: the IR as text on standard output
          --PASS, --PASS='k=v k2=v2'  run a pass (see --list-passes); passes run in the order given
          --pass-pipeline='a,b{k=v}'  run a list of passes (mlir-opt's builtin.module(...) form also works)
          --pipeline=NAME             run a named list of passes (see --list-pipelines), e.g. --pipeline=deploy;
                                      --pipeline='deploy{inputs=x outputs=y}' strips the graph to those first

        IR dumps:
          --print-ir-before-all, --print-ir-after-all
          --print-ir-before=PASS[,PASS], --print-ir-after=PASS[,PASS]
                                      print the IR to standard error around passes
          --ir-dump-dir=DIR           write the IR before the first pass and after each pass, one numbered file each
          --elide-constants-larger-than=N
                                      print constants of more than N elements as dense_resource<__elided__>
                                      (for reading; such a dump cannot be read back as a model)

        Caffe input (.prototxt, .caffemodel):
          --caffe-weights=FILE        the .caffemodel whose blobs a .prototxt net gets, matched by layer name
                                      (default: the .caffemodel of the prototxt's stem, when there is one)

        TensorFlow input (.pb, .meta):
          --tf-outputs=A,B:1          the graph's outputs as tensor names (default: the nodes no one consumes)
          --tf-inputs=A,B             cut the graph at these nodes: each becomes an input of its T/dtype, and what
                                      only feeds them is left out (transform_graph's --inputs)
          --tf-checkpoint=PREFIX      freeze a MetaGraphDef (model.ckpt.meta, or a SavedModel's saved_model.pb) with
                                      this checkpoint (model.ckpt, or a folder: its latest, or a SavedModel's
                                      variables/): variables become constants, saver and training nodes are
                                      dropped (freeze_graph); needs --tf-outputs
          --convert-tf-to-onnx        lower the graph's tf.* ops to ONNX, NHWC ops as NCHW with the transposes left at the
                                      graph's edges; done anyway when -o names a .onnx file
          --convert-caffe-to-onnx     lower the net's caffe.* layers to ONNX with Caffe's semantics; done anyway when -o
                                      names a .onnx file (docs/formats/caffe.md)
          --convert-to-onnx           lower whatever tf.* and caffe.* ops the module holds; --pipeline=deploy starts with it
          --caffe-merge-bn            fold BatchNorm (+ Scale) into the convolution before it, in the caffe.* net; with
                                      -o net.prototxt, net.caffemodel is written beside it
          --tf-transforms='T1(k=v) T2'
                                      run the Graph Transform Tool's transforms, in its syntax: strip_unused_nodes,
                                      remove_nodes, fold_constants, fold_batch_norms, fold_old_batch_norms,
                                      quantize_weights, round_weights, merge_duplicate_nodes, sort_by_execution_order,
                                      remove_device, obfuscate_names (each a tf-* pass; see docs/formats/tensorflow.md)
          --pipeline='tf-deploy{shape=1,299,299,3}'
                                      transform_graph's deployment list (also tf-fix-missing-kernels, tf-quantize-weights)

        Verification (ONNX Runtime):
          --verify-against=MODEL      run MODEL (a .pb as its ONNX lowering) and the result on the same inputs; print max abs/rel diff and top-1
                                      agreement per output; exit 1 (output still written) above the tolerance
          --verify-tolerance=X        the largest allowed relative difference (default 1e-4)
          --verify-inputs=DIR         inputs as .npy files named after the inputs (or input_0.npy, ...);
                                      default: seeded random inputs
          --verify-seed=N             the seed of the random inputs (default 0)

        Reports:
          --timing                    wall time of parsing, each pass, verification and output
          --pass-statistics           what each pass did ("3 Identity removed")
          --debug                     each pass's decisions, including rewrites it skipped and why
          --verify-each=false         do not verify the IR after every pass
          --quant-report=FILE.json    what --quantize-int8 chose (ranges, scales, zero points) and each layer's
                                      error, as JSON, and a table of the worst layers on standard error
          --prune-report=FILE.json    what --prune-channels removed (channels per layer, parameters and multiply-adds
                                      before and after) as JSON
          --prune-sensitivity='data=DIR labels=FILE ratios=0.1,0.2 report=sens.json chart=sens.svg'
                                      prune each Conv alone at each ratio and measure top-1 (or agreement with
                                      the unpruned model) in ONNX Runtime: a table (.json or .csv, resumed when it
                                      exists) and a chart (.svg or .png); the model is unchanged
          --calibration-table=FILE    the ranges --quantize-int8 calibrated, as TensorRT's calibration cache
                                      (trtexec --calib=FILE), or ncnn's int8 scale table when FILE ends in .table
          --view-op-graph             write the graph after the passes as Graphviz DOT instead of the IR: on standard
                                      output, or -o graph.dot; -o graph.svg (or .png) renders it with Graphviz's dot
                                      (docs/view-op-graph.md)
          --view-op-graph='diff=MODEL'
                                      the same, coloured against MODEL (any format mopt reads, e.g. the input): what
                                      the passes removed (dashed red), added (green) and changed (orange), by op name
          --summarize                 inputs, outputs, op histogram, parameters by element type (after the passes; no IR printed unless -o)
          --list-passes               the passes, with their options
          --list-pipelines            the named pipelines and the passes they run
          --help                      this text
          --version                   mopt-opt's version

        Errors in the input are reported as file:line:col: error: message, with exit status 1;
        no output file is written unless the whole run succeeds.
        """;
}
