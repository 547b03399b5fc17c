using System.Diagnostics;
using Mopt.Backend;
using Mopt.Backend.Runtime;
using Mopt.Frontend;
using Mopt.Frontend.Caffe;
using Mopt.Frontend.Tf;
using Mopt.Ir;
using Mopt.Ir.Printing;
using Mopt.Passes;
using Mopt.Tools.Opt;

return OptTool.Run(args, Console.Out, Console.Error);

namespace Mopt.Tools.Opt
{
    public static class OptTool
    {
        public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
        {
            bool debug = args.Contains("--debug") || args.Contains("--debug=true");
            try
            {
                var cl = CommandLine.Parse(args);
                if (cl.Help) { stdout.WriteLine(CommandLine.Usage); return 0; }
                if (cl.Version) { stdout.WriteLine(CommandLine.VersionText); return 0; }
                if (cl.ListPasses) { ListPasses(stdout); return 0; }
                if (cl.ListPipelines) { ListPipelines(stdout); return 0; }
                return Execute(cl, stdout, stderr);
            }
            catch (MirException e)
            {
                stderr.WriteLine(e.Format());
                return 1;
            }
            catch (PipelineException e)
            {
                stderr.WriteLine($"mopt-opt: error: {e.Message}");
                return 1;
            }
            catch (Exception e) when (!debug)
            {
                // A bug in mopt, not bad input: still one line and exit 1 (run with --debug for the trace).
                stderr.WriteLine($"mopt-opt: internal error: {e.GetType().Name}: {e.Message} (run with --debug for details)");
                return 1;
            }
        }

        private static int Execute(CommandLine cl, TextWriter stdout, TextWriter stderr)
        {
            var timings = new List<(string Name, TimeSpan Time)>();
            var total = Stopwatch.StartNew();
            var clock = Stopwatch.StartNew();

            var reader = ModelReaders.For(cl.Input);
            if (cl.TfCheckpoint is not null && reader is not TfMetaGraphReader)
                throw new PipelineException($"--tf-checkpoint freezes a MetaGraphDef (.meta or saved_model.pb), not '{cl.Input}'");
            if (cl.TfOutputs.Count > 0 || cl.TfInputs.Count > 0 || cl.TfCheckpoint is not null)
            {
                var tfOptions = new TfImportOptions { Outputs = cl.TfOutputs, Inputs = cl.TfInputs, Checkpoint = cl.TfCheckpoint };
                reader = reader switch
                {
                    TfModelReader => new TfModelReader(tfOptions),
                    TfMetaGraphReader => new TfMetaGraphReader(tfOptions),
                    _ => throw new PipelineException($"--tf-outputs and --tf-inputs apply to a TensorFlow .pb input (or .meta), not '{cl.Input}'"),
                };
            }
            if (cl.CaffeWeights is { } caffeWeights)
                reader = reader is CaffePrototxtReader ? new CaffePrototxtReader(caffeWeights)
                    : throw new PipelineException($"--caffe-weights gives the blobs of a Caffe .prototxt input, not of '{cl.Input}'");
            var module = reader.Read(cl.Input);
            // --view-op-graph='diff=OTHER' reads OTHER before the passes run (a bad file fails early); the input itself as it was read
            var graphBefore = cl.ViewOpGraphDiff is { } other ? OpGraphOutput.ReadOther(other, cl.Input, reader) : null;
            DefinitionVerifier.Verify(module, Mopt.Dialects.StandardDialects.Registry); // operand counts and attribute kinds its op definitions declare
            timings.Add(("parse and verify input", clock.Elapsed));

            var dumpOptions = new PrintOptions { ElideConstantsLargerThan = cl.ElideLargerThan };
            int dumpIndex = 0;
            if (cl.IrDumpDir is { } dir)
            {
                Directory.CreateDirectory(dir);
                WriteDump(dir, dumpIndex++, "input", module, dumpOptions);
            }

            var pm = new PassManager
            {
                VerifyEach = cl.VerifyEach, Debug = cl.Debug ? stderr : null,
                Notes = stderr, NotesIsTerminal = ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected,
                DeferFiles = true, // reports are written after the model, so a failed run leaves no file behind
                CollectStatistics = cl.PassStatistics || cl.Timing,
                // ONNX Runtime calibrates quantize-int8 and evaluates what fold-constants cannot
                Services = OrtPassServices.Create(),
            };
            pm.Passes.AddRange(cl.Passes);
            bool writesOnnx = cl.Output is { } onnxOut && Path.GetExtension(onnxOut).Equals(".onnx", StringComparison.OrdinalIgnoreCase);
            bool writesPaddle = cl.Output is { } paddleOut && (new Mopt.Backend.Paddle.PaddleModelWriter().CanWrite(paddleOut) || new Mopt.Backend.PaddleLite.LiteModelWriter().CanWrite(paddleOut));
            // fold-bn folds onnx.BatchNormalization: a model written as ONNX or Paddle is lowered just before it instead of at the end (`in.pdmodel --fold-bn -o out.pdmodel`).
            int foldBn = pm.Passes.FindIndex(p => p is FoldBatchNorm);
            if ((writesOnnx || writesPaddle) && foldBn >= 0 && Mopt.Passes.Conversion.OnnxLowerings.Needed(module, pm.Passes.Take(foldBn)).Any())
                pm.Passes.Insert(foldBn, new Mopt.Passes.Conversion.ConvertAllToOnnx());
            // A TensorFlow or Caffe net written as ONNX is lowered first, as if --convert-tf-to-onnx (or -caffe-) ended the pipeline.
            if (writesOnnx)
                pm.Passes.AddRange(Mopt.Passes.Conversion.OnnxLowerings.Needed(module, pm.Passes.ToList()));
            // Anything else written as Paddle (or Paddle-Lite's .nb): TensorFlow and Caffe to ONNX first, then ONNX to Paddle (a paddle.* module is left as it is).
            if (writesPaddle)
                pm.Passes.AddRange(Mopt.Passes.Conversion.PaddleLowerings.Needed(module, pm.Passes.ToList()));
            pm.BeforePass = (pass, m) =>
            {
                if (cl.PrintBeforeAll || cl.PrintBefore.Contains(pass.Name)) PrintDump(stderr, $"IR Dump Before {pass.Describe()}", m, dumpOptions);
            };
            pm.AfterPass = (pass, m) =>
            {
                if (cl.PrintAfterAll || cl.PrintAfter.Contains(pass.Name)) PrintDump(stderr, $"IR Dump After {pass.Describe()}", m, dumpOptions);
                if (cl.IrDumpDir is { } d) WriteDump(d, dumpIndex++, pass.Name, m, dumpOptions);
            };
            var runs = pm.Run(module);

            clock.Restart();
            var outputOptions = new PrintOptions { ElideConstantsLargerThan = cl.Output is null ? cl.ElideLargerThan : null };
            if (cl.ViewOpGraph)
            {
                OpGraphOutput.Write(module, graphBefore, cl.ViewOpGraphDiff, cl.Output, stdout);
            }
            else if (cl.Output is { } output)
            {
                var writer = ModelWriters.For(output, outputOptions);
                writer.WriteFiles(module, output);
            }
            else if (cl.Summarize)
            {
                stdout.Write(ModelSummary.Describe(module, cl.Input));
            }
            else
            {
                using var stream = Console.OpenStandardOutput();
                stdout.Flush();
                MirPrinter.Print(module, stream, outputOptions);
            }
            pm.WritePendingFiles();
            var outputTime = clock.Elapsed;

            if (cl.Timing) Reports.Timing(stderr, timings, runs, outputTime, total.Elapsed);
            if (cl.PassStatistics || cl.Timing) Reports.Statistics(stderr, runs);
            if (cl.VerifyAgainst is { } original)
            {
                // The input itself as the original is read as it was (with --caffe-weights, --tf-outputs, ...).
                bool sameFile = cl.Input is { } input && input != "-" && Path.GetFullPath(original) == Path.GetFullPath(input);
                var settings = new Verification.Settings(original, cl.VerifyTolerance, cl.VerifyInputs, cl.VerifySeed, sameFile ? reader : null);
                if (!Verification.Run(module, settings, stderr)) return 1;
            }
            return 0;
        }

        private static void PrintDump(TextWriter stderr, string title, MirModule module, PrintOptions options)
        {
            stderr.WriteLine($"// -----// {title} //----- //");
            stderr.Write(MirPrinter.PrintToString(module, options));
            stderr.Flush();
        }

        private static void WriteDump(string dir, int index, string name, MirModule module, PrintOptions options) =>
            AtomicFile.Write(Path.Combine(dir, $"{index:D2}_{name}.mir"), s => MirPrinter.Print(module, s, options));

        private static void ListPipelines(TextWriter stdout)
        {
            stdout.WriteLine("Named pipelines (--pipeline=NAME, or --pipeline='NAME{inputs=a,b outputs=y}'):");
            foreach (var p in PipelineRegistry.All)
            {
                stdout.WriteLine($"  {p.Name}");
                stdout.WriteLine($"      {p.Summary}");
                stdout.WriteLine($"      passes: {string.Join(", ", p.Passes.Select(n => n == "strip-unused?" ? "[strip-unused]" : n.TrimEnd('*')))}");
            }
        }

        private static void ListPasses(TextWriter stdout)
        {
            stdout.WriteLine("Available passes:");
            foreach (var entry in PassRegistry.All)
            {
                stdout.WriteLine($"  --{entry.Name,-28} {entry.Summary}");
                foreach (var option in entry.Create().Options)
                    stdout.WriteLine($"      {option.Name + "=<" + option.TypeName + ">",-25} {option.Description} (default: {(option.ValueText.Length == 0 ? "none" : option.ValueText)})");
            }
        }
    }
}
