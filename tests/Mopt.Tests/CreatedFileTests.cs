using Mopt.Ir;

namespace Mopt.Tests;

/// <summary>
/// CreatedFile, AtomicFile's temporary: writes at offsets and gathered writes land where they should (over an existing
/// file it empties first), and what it cannot create throws as File.OpenHandle does.
/// </summary>
public sealed class CreatedFileTests
{
    [Fact]
    public void Writes_and_gathered_writes_land_at_their_offsets_in_an_emptied_file()
    {
        using var dir = new TempDir();
        var path = dir.File("t.bin");
        File.WriteAllBytes(path, RandomBytes.Of(1_000_000, 9)); // longer than what is written: emptied first
        byte[] a = RandomBytes.Of(10, 1), b = RandomBytes.Of(70_000, 2), c = RandomBytes.Of(0, 3), d = RandomBytes.Of(300_000, 4);
        using (var file = CreatedFile.Create(path))
        {
            file.Write(a, 0);
            file.Write(b, c, a.Length);
            file.Write(d, b, a.Length + b.Length);
        }
        Assert.Equal(a.Concat(b).Concat(d).Concat(b).ToArray(), File.ReadAllBytes(path));
    }

    [Fact]
    public void A_file_in_a_missing_folder_or_a_folder_throws_as_OpenHandle_does()
    {
        using var dir = new TempDir();
        foreach (var path in new[] { Path.Combine(dir.Path, "no", "t.bin"), dir.Path })
        {
            var expected = Record.Exception(() => File.OpenHandle(path, FileMode.Create, FileAccess.Write).Dispose())?.GetType();
            Assert.NotNull(expected);
            Assert.Equal(expected, Record.Exception(() => CreatedFile.Create(path).Dispose())?.GetType());
        }
    }
}
