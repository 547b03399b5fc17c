using System.Globalization;
using Mopt.Bench;
using Mopt.Bench.LargeModel;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
try
{
    var o = LargeModelOptions.Parse(args);
    return o.Huge ? HugeModelBench.Run(o) : LargeModelBench.Run(o);
}
catch (BenchException e)
{
    Console.Error.WriteLine($"large-model: error: {e.Message}");
    return 1;
}
