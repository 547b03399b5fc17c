using System.Buffers.Binary;
using Mopt.Frontend.Paddle;
using Mopt.Frontend.PaddleLite;
using Mopt.Ir;
using Xunit.Abstractions;

namespace Mopt.Tests.PaddleLite;

/// <summary>
/// The real .nb files of Paddle-Lite-Demo (what Paddle-Lite's opt wrote): each meta_version 2 file reads end to end
/// (header, verified program, every verified parameter, sorted, sized, framed to the last byte) and imports into
/// paddle.* (with Lite's own ops: calib, fusion_*, ...), and written again as .nb re-imports to the same IR; a
/// meta_version 0 file is refused by name.
/// </summary>
public sealed class LiteExtraModelTests(ITestOutputHelper output)
{
    [LiteExtraModelsFact]
    public void RealNbFilesReadAndImport()
    {
        var files = Directory.GetFiles(LiteExtraModelsFactAttribute.Folder!, "*.nb").Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(files);
        foreach (var path in files)
        {
            var bytes = File.ReadAllBytes(path);
            int meta = BinaryPrimitives.ReadUInt16LittleEndian(bytes);
            if (meta == 0)
            {
                var e = Assert.Throws<MirException>(() => LiteModelFile.Read(path));
                Assert.Contains("meta_version 0", e.Message);
                output.WriteLine($"{Path.GetFileName(path)}: meta_version 0, refused: {e.Message}");
                continue;
            }
            var model = LiteModelFile.Read(path);
            var ops = model.Program.Blocks[0].Ops;
            var module = PaddleImporter.Import(model);
            var imported = module.MainFunction.Body.Operations.Count(o => o.Name.StartsWith("paddle.", StringComparison.Ordinal));
            Assert.Equal(ops.Count(o => o.Type is not ("feed" or "fetch")), imported);
            Assert.All(ops.Where(o => o.Type is not ("feed" or "fetch")), o => Assert.Contains(o.Attrs, a => a.Name == "__@kernel_type_attr@__"));
            var types = ops.GroupBy(o => o.Type).OrderByDescending(g => g.Count()).Select(g => $"{g.Key} {g.Count()}");
            var names = model.Program.Blocks[0].Vars.Select(v => v.Name).ToList();
            bool varsSorted = names.SequenceEqual(names.Order(StringComparer.Ordinal));
            var elements = model.Parameters.Values.GroupBy(p => p.Type.Element.ToString()).Select(g => $"{g.Key} {g.Count()}");
            // written again by mopt (the program as imported, Lite's ops and kernel picks kept): the same IR
            using var dir = new TempDir();
            var (exit, _, stderr) = Mir.Opt(path, "-o", dir.File("again.nb"));
            Assert.True(exit == 0, stderr);
            Assert.Equal(Mir.Opt(path).Stdout, Mir.Opt(dir.File("again.nb")).Stdout);
            output.WriteLine($"{Path.GetFileName(path)}: meta_version {meta}, opt_version {LiteModelFile.OptVersion(bytes)}, program version {model.Program.Version?.Version_}, "
                + $"{ops.Count} ops ({string.Join(", ", types)}), {model.Parameters.Count} parameters ({string.Join(", ", elements)}), "
                + $"{module.MainFunction.Arguments.Count} inputs, {module.MainFunction.Body.Operations[^1].OperandCount} outputs, vars {(varsSorted ? "" : "not ")}sorted by name; written again by mopt in {new FileInfo(dir.File("again.nb")).Length} bytes (was {bytes.Length}), the same IR");
        }
    }
}
