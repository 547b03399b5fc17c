using System.Diagnostics;
using Google.Protobuf;
using Mopt.Backend.Onnx;
using Mopt.Frontend.Onnx;
using Mopt.Ir;
using Mopt.Onnx.Proto;

namespace Mopt.Bench.OnnxRoundTrip;

/// <summary>
/// <c>--phases FILE</c>: where mopt-opt's <c>FILE.onnx -o out.onnx</c> spends its time and allocations, phase by phase,
/// in this process (same runtime settings as mopt-opt). The first round includes JIT compilation; later rounds show
/// the steady state, so the difference between them is what start-up and JIT cost mopt-opt, which runs each phase once.
/// </summary>
public static class Phases
{
    public static void Run(string input, int rounds, string outDir)
    {
        Console.WriteLine($"phases of mopt's ONNX -> IR -> ONNX of {input} ({new FileInfo(input).Length / 1e6:F1} MB), in process; " +
                          $"round 1 includes JIT. Server GC {System.Runtime.GCSettings.IsServerGC}, latency {System.Runtime.GCSettings.LatencyMode}");
        Console.WriteLine($"  {"phase",-56} {"wall s",7} {"user s",6} {"sys s",6} {"alloc MB",10} {"heap MB",10} {"RSS MiB",8}   (after the phase; cpu: all threads)");
        string output = Path.Combine(outDir, "phases.out.onnx");
        for (int round = 1; round <= rounds; round++)
        {
            Console.WriteLine($"round {round}:");
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, true, true);

            byte[]? bytes = null;
            ModelProto? proto = null;
            MirModule? module = null;
            ModelProto? exported = null;
            Time("File.ReadAllBytes", () => bytes = File.ReadAllBytes(input));
            Time("OnnxImporter.Parse (protobuf ModelProto)", () => proto = OnnxImporter.Parse(bytes!, input));
            Time("OnnxImporter.Import (ModelProto -> IR, with Verifier)", () => module = OnnxImporter.Import(proto!, Path.GetDirectoryName(Path.GetFullPath(input)), input));
            Time("Verifier.Verify alone", () => Verifier.Verify(module!));
            Time("OnnxExporter.ToModel (IR -> ModelProto)", () => exported = OnnxExporter.ToModel(module!));
            Console.WriteLine($"    ({exported!.CalculateSize() / 1e6:F1} MB serialized)");
            Time("ModelProto.WriteTo(Stream.Null) (serialize)", () =>
            {
                var coded = new CodedOutputStream(Stream.Null, leaveOpen: true);
                exported!.WriteTo(coded);
                coded.Flush();
            });
            Time("OnnxExporter.WriteFile (ToModel + serialize + write + rename)", () => OnnxExporter.WriteFile(module!, output));
            bytes = null; proto = null; module = null; exported = null;
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, true, true);
            File.Delete(output);
            Time("what mopt-opt does: ImportFile + WriteFile", () => OnnxExporter.WriteFile(OnnxImporter.ImportFile(input), output));
            File.Delete(output);
        }
        Console.WriteLine($"peak working set of this process: {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F1} MiB");
    }

    private static void Time(string what, Action action) => BenchOptions.TimePhase(what, action, 56);
}
