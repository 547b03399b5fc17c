using System.Diagnostics;
using Mopt.Api;
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

        /// <summary>The run itself, on the library API (tools/Mopt): load, run the passes, save or print, report, verify.</summary>
        private static int Execute(CommandLine cl, TextWriter stdout, TextWriter stderr)
        {
            var timings = new List<(string Name, TimeSpan Time)>();
            var total = Stopwatch.StartNew();
            var clock = Stopwatch.StartNew();

            var loadOptions = new LoadOptions
            {
                CaffeWeights = cl.CaffeWeights, TfInputs = cl.TfInputs, TfOutputs = cl.TfOutputs, TfCheckpoint = cl.TfCheckpoint,
            };
            // disposed when done: the files its weights were mapped from are unmapped now, not when the collector gets to them
            using var model = Model.Load(cl.Input, loadOptions);
            // --view-op-graph='diff=OTHER' reads OTHER before the passes run (a bad file fails early); the input itself is a copy as it was read
            using var graphBefore = cl.ViewOpGraphDiff is not { } other ? null
                : model.IsLoadedFrom(other) ? model.Clone() : Model.Load(other);
            timings.Add(("parse and verify input", clock.Elapsed));

            var dumpOptions = new PrintOptions { ElideConstantsLargerThan = cl.ElideLargerThan };
            int dumpIndex = 0;
            if (cl.IrDumpDir is { } dir)
            {
                Directory.CreateDirectory(dir);
                WriteDump(dir, dumpIndex++, "input", model.Module, dumpOptions);
            }

            var result = model.Run(Pipeline.Of(cl.Passes), new PipelineOptions
            {
                VerifyEach = cl.VerifyEach, Debug = cl.Debug ? stderr : null,
                Notes = stderr, NotesIsTerminal = ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected,
                DeferFiles = true, // reports are written after the model, so a failed run leaves no file behind
                CollectStatistics = cl.PassStatistics || cl.Timing,
                WritesTo = cl.Output, // the lowerings the output's format needs run as part of the pipeline (dumped, timed)
                BeforePass = (pass, m) =>
                {
                    if (cl.PrintBeforeAll || cl.PrintBefore.Contains(pass.Name)) PrintDump(stderr, $"IR Dump Before {pass.Describe()}", m, dumpOptions);
                },
                AfterPass = (pass, m) =>
                {
                    if (cl.PrintAfterAll || cl.PrintAfter.Contains(pass.Name)) PrintDump(stderr, $"IR Dump After {pass.Describe()}", m, dumpOptions);
                    if (cl.IrDumpDir is { } d) WriteDump(d, dumpIndex++, pass.Name, m, dumpOptions);
                },
            });

            clock.Restart();
            if (cl.ViewOpGraph)
            {
                if (cl.Output is { } graphFile) model.SaveGraph(graphFile, graphBefore);
                else { stdout.Write(model.ToDot(graphBefore)); stdout.Flush(); }
            }
            else if (cl.Output is { } output)
            {
                model.Save(output);
            }
            else if (cl.Summarize)
            {
                stdout.Write(model.Summarize().Text);
            }
            else
            {
                using var stream = Console.OpenStandardOutput();
                stdout.Flush();
                model.Print(stream, cl.ElideLargerThan);
            }
            result.WritePendingFiles();
            var outputTime = clock.Elapsed;

            var runs = result.Runs.ToList();
            if (cl.Timing) Reports.Timing(stderr, timings, runs, outputTime, total.Elapsed);
            if (cl.PassStatistics || cl.Timing) Reports.Statistics(stderr, runs);
            if (cl.VerifyAgainst is { } original)
            {
                // The input itself as the original is read as it was (with --caffe-weights, --tf-outputs, ...).
                var verification = model.VerifyAgainst(original, new VerifyOptions { Tolerance = cl.VerifyTolerance, InputsDir = cl.VerifyInputs, Seed = cl.VerifySeed });
                stderr.Write(verification.Report);
                if (!verification.Passed) return 1;
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
