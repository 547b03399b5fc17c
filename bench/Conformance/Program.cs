using System.Diagnostics;
using Mopt.Bench.Conformance;

// bench/run.sh conformance: see ConformanceOptions.Usage and bench/README.md.
string root = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../.."));
ConformanceOptions options;
try { options = ConformanceOptions.Parse(args, Path.Combine(root, "bench/out/conformance")); }
catch (ArgumentException e) { Console.Error.WriteLine($"conformance: {e.Message}\n{ConformanceOptions.Usage}"); return 1; }
if (options.Help) { Console.WriteLine(ConformanceOptions.Usage); return 0; }
if (!Directory.Exists(options.DataDir))
{
    Console.Error.WriteLine($"conformance: no test suite at {options.DataDir} (apt-get install libonnx-testdata)");
    return 1;
}

var tests = ConformanceTest.Discover(options.DataDir)
    .Where(t => options.Filter is null || t.Id.Contains(options.Filter, StringComparison.Ordinal)).ToList();
Directory.CreateDirectory(options.OutDir);
string work = Directory.CreateTempSubdirectory("mopt-conformance-").FullName;
var runner = new ConformanceRunner(options, work);
var clock = Stopwatch.StartNew();
try
{
    for (int i = 0; i < tests.Count; i++)
    {
        if (i % 100 == 0) Console.Error.WriteLine($"conformance: {i}/{tests.Count} ({clock.Elapsed.TotalSeconds:F0} s)");
        runner.Run(tests[i]);
    }
}
finally { Directory.Delete(work, recursive: true); }

new ConformanceReport(tests, runner, options).Print(Console.Out, clock.Elapsed);
return 0;
