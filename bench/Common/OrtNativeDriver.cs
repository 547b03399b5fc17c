using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Mopt.Bench;

/// <summary>
/// A small C program on ONNX Runtime's C API (NAME.c beside the benchmark), compiled once with <c>cc</c> against the
/// header and <c>libonnxruntime.so</c> of the Microsoft.ML.OnnxRuntime package the .NET code uses, so that the C driver
/// and the .NET code run the same library. The benchmark's project passes the package folder as the assembly metadata
/// <c>OnnxRuntimePackage</c> and copies NAME.c to its output.
/// </summary>
public static class OrtNativeDriver
{
    /// <summary>The path of the built driver, or null with the reason in <paramref name="problem"/>.</summary>
    public static string? Build(string name, out string? problem)
    {
        problem = null;
        if (!OperatingSystem.IsLinux() || RuntimeInformation.OSArchitecture != Architecture.X64)
        {
            problem = "the driver is built for linux-x64 only";
            return null;
        }
        string here = AppContext.BaseDirectory;
        string source = Path.Combine(here, name + ".c");
        string exe = Path.Combine(here, name);
        string libDir = Path.Combine(here, "runtimes", "linux-x64", "native");
        string package = (Assembly.GetEntryAssembly() ?? typeof(OrtNativeDriver).Assembly).GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "OnnxRuntimePackage")?.Value ?? "";
        string include = Path.Combine(package, "build", "native", "include");
        if (!File.Exists(source)) { problem = $"no {source}"; return null; }
        if (!File.Exists(Path.Combine(libDir, "libonnxruntime.so"))) { problem = $"no libonnxruntime.so in {libDir}"; return null; }
        if (!File.Exists(Path.Combine(include, "onnxruntime_c_api.h"))) { problem = $"no onnxruntime_c_api.h in '{include}'"; return null; }
        // The library's SONAME is libonnxruntime.so.1, the package ships libonnxruntime.so: a link by that name, found by rpath.
        string soDir = Path.Combine(here, "ort-save-lib");
        string soLink = Path.Combine(soDir, "libonnxruntime.so.1");
        Directory.CreateDirectory(soDir);
        if (!File.Exists(soLink)) File.CreateSymbolicLink(soLink, Path.Combine(libDir, "libonnxruntime.so"));
        if (File.Exists(exe) && File.GetLastWriteTimeUtc(exe) >= File.GetLastWriteTimeUtc(source)) return exe;

        string cc = Environment.GetEnvironmentVariable("CC") is { Length: > 0 } c ? c : "cc";
        var psi = new ProcessStartInfo(cc) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { "-O2", "-std=c11", "-I", include, source, "-o", exe, "-L", libDir, "-lonnxruntime", $"-Wl,-rpath,{soDir}" })
            psi.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEndAsync();
            p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) { problem = $"{cc} failed: {BenchSupport.Trim(err.Result)}"; return null; }
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            problem = $"cannot run {cc}: {e.Message}";
            return null;
        }
        Console.WriteLine($"built {exe} ({cc}, ONNX Runtime C API from {package})");
        return exe;
    }
}
