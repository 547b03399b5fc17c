using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using Mopt.Bench;
using Mopt.Bench.Paddle;
using Mopt.Ir;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
try
{
    return PaddleBench.Run(PaddleBenchOptions.Parse(args));
}
catch (Exception e) when (e is BenchException or MirException or OnnxRuntimeException)
{
    Console.Error.WriteLine($"paddle: error: {e.Message}");
    return 1;
}
