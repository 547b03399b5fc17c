using System.Diagnostics;
using System.Reflection;

namespace Mopt.Tests.Protobuf;

/// <summary>
/// protoc from the Grpc.Tools package: protobuf's own C++ text format reader (--encode) and printer (--decode), the
/// referee the text format tests compare with.
/// </summary>
public static class Protoc
{
    public static string Path => typeof(Protoc).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "Protoc").Value!;

    public static string OnnxSchema => System.IO.Path.Combine(TestPaths.RepoRoot(), "frontend", "Schemas", "Onnx", "onnx.proto");
    public static string TfSchema => System.IO.Path.Combine(TestPaths.RepoRoot(), "frontend", "Schemas", "Tf", "graph.proto");

    /// <summary>The binary form of <paramref name="text"/> as protoc reads it (message type <paramref name="type"/>).</summary>
    public static byte[] Encode(string schema, string type, string text) =>
        Run($"--encode={type}", schema, System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>The text protoc prints for the binary <paramref name="bytes"/>.</summary>
    public static string Decode(string schema, string type, byte[] bytes) =>
        System.Text.Encoding.UTF8.GetString(Run($"--decode={type}", schema, bytes));

    private static byte[] Run(string mode, string schema, byte[] input)
    {
        var info = new ProcessStartInfo(Path)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var arg in new[] { mode, "-I", System.IO.Path.GetDirectoryName(schema)!, schema }) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var output = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(output);
        process.StandardInput.BaseStream.Write(input);
        process.StandardInput.Close();
        copy.Wait();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"protoc {mode} failed: {stderr.Result}");
        return output.ToArray();
    }
}
