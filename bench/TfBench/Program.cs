using System.Globalization;
using Mopt.Bench;
using Mopt.Bench.Tf;
using Mopt.Ir;
using OpenCvSharp;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
try
{
    return TfBench.Run(TfBenchOptions.Parse(args));
}
catch (Exception e) when (e is BenchException or MirException or OpenCVException)
{
    Console.Error.WriteLine($"tf: error: {e.Message}");
    return 1;
}
