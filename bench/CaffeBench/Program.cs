using System.Globalization;
using Mopt.Bench;
using Mopt.Bench.Caffe;
using Mopt.Ir;
using OpenCvSharp;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
try
{
    return CaffeBench.Run(CaffeBenchOptions.Parse(args));
}
catch (Exception e) when (e is BenchException or MirException or OpenCVException)
{
    Console.Error.WriteLine($"caffe: error: {e.Message}");
    return 1;
}
