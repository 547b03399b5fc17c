using System.Text;
using Mopt.Ir;

namespace Mopt.Tests;

/// <summary>
/// WholeFile.ReadText reads a text file as File.ReadAllText does (the .prototxt reader's error positions count its
/// characters): the same string for plain UTF-8, a UTF-8 byte-order mark, bytes that are not UTF-8, other encodings
/// named by their mark, and an empty file; the same exceptions for a missing file or folder. WholeFile.LendText lends
/// the same text from a pooled buffer.
/// </summary>
public sealed class WholeFileTests
{
    public static TheoryData<byte[]> Texts()
    {
        byte[] Join(params byte[][] parts) => parts.SelectMany(p => p).ToArray();
        var utf8 = Encoding.UTF8;
        return new TheoryData<byte[]>
        {
            utf8.GetBytes("layer { name: \"conv\" }\n"),
            Array.Empty<byte>(),
            Join([0xEF, 0xBB, 0xBF], utf8.GetBytes("name: \"é\"")),
            new byte[] { 0xEF, 0xBB },                                                           // a cut-off mark
            Join(utf8.GetBytes("name: \""), [0xC3, 0x28, 0xFF, 0xED, 0xA0, 0x80, (byte)'"', 0xF0, 0x9F]), // not UTF-8
            utf8.GetBytes("a: \"\U0001F600\""),                                               // a surrogate pair
            Join(Encoding.Unicode.GetPreamble(), Encoding.Unicode.GetBytes("name: \"x\"")),
            Join(Encoding.BigEndianUnicode.GetPreamble(), Encoding.BigEndianUnicode.GetBytes("name: \"x\"")),
            Join(Encoding.UTF32.GetPreamble(), Encoding.UTF32.GetBytes("name: \"x\"")),
        };
    }

    [Theory]
    [MemberData(nameof(Texts))]
    public void ReadText_gives_what_ReadAllText_gives(byte[] bytes)
    {
        using var dir = new TempDir();
        var path = dir.File("t.prototxt");
        File.WriteAllBytes(path, bytes);
        Assert.Equal(File.ReadAllText(path), WholeFile.ReadText(path));
        using var lent = WholeFile.LendText(path);
        Assert.Equal(File.ReadAllText(path), lent.Text.ToString());
    }

    [Fact]
    public void ReadText_of_a_large_file_gives_what_ReadAllText_gives()
    {
        using var dir = new TempDir();
        var path = dir.Write("big.prototxt", string.Concat(Enumerable.Repeat("layer { name: \"ß€\" type: \"ReLU\" }\n", 20000)));
        Assert.Equal(File.ReadAllText(path), WholeFile.ReadText(path));
        using var lent = WholeFile.LendText(path);
        Assert.Equal(File.ReadAllText(path), lent.Text.ToString());
    }

    [Fact]
    public void ReadText_throws_as_ReadAllText_does_for_a_missing_file_or_folder()
    {
        using var dir = new TempDir();
        Assert.Throws<FileNotFoundException>(() => WholeFile.ReadText(dir.File("none.prototxt")));
        Assert.Throws<DirectoryNotFoundException>(() => WholeFile.ReadText(Path.Combine(dir.Path, "no", "x.prototxt")));
        Assert.Throws<FileNotFoundException>(() => WholeFile.LendText(dir.File("none.prototxt")));
        Assert.Equal(Record.Exception(() => File.ReadAllText(dir.Path))?.GetType(), Record.Exception(() => WholeFile.ReadText(dir.Path))?.GetType());
    }

    /// <summary>Folders on two file systems where they can differ (/tmp, and the repository's own: tmpfs refuses an lseek to a folder's end, ext4 gives one).</summary>
    public static TheoryData<string> Folders() => new() { Path.GetTempPath(), AppContext.BaseDirectory };

    [Theory]
    [MemberData(nameof(Folders))]
    public void Read_ReadOrMap_and_Parse_throw_as_ReadAllBytes_does_for_a_folder(string folder)
    {
        var expected = Record.Exception(() => File.ReadAllBytes(folder))?.GetType();
        Assert.NotNull(expected);
        Assert.Equal(expected, Record.Exception(() => WholeFile.Read(folder))?.GetType());
        Assert.Equal(expected, Record.Exception(() => WholeFile.ReadOrMap(folder))?.GetType());
        Assert.Equal(expected, Record.Exception(() => WholeFile.Parse(folder, static bytes => bytes.Length))?.GetType());
    }

    [Fact]
    public void Read_ReadOrMap_and_Parse_read_what_ReadAllBytes_reads_and_throw_as_it_does_for_a_new_folder_or_a_missing_file()
    {
        using var dir = new TempDir();
        foreach (var length in new[] { 0, 1, 4095, 4096, 300_000 })
        {
            var bytes = RandomBytes.Of(length, length);
            var path = dir.File($"f{length}.bin");
            File.WriteAllBytes(path, bytes);
            Assert.Equal(bytes, WholeFile.Read(path));
            Assert.Equal(bytes, WholeFile.ReadOrMap(path).ToArray());
            Assert.Equal(bytes, WholeFile.Parse(path, static b => b.ToArray()));
        }
        // a new, small folder as well (ext4 answers an lseek to any folder's end with the largest offset; where one answers its size, its pread fails: EISDIR)
        var folder = Directory.CreateDirectory(dir.File("sub")).FullName;
        var refused = Record.Exception(() => File.ReadAllBytes(folder))?.GetType();
        Assert.NotNull(refused);
        Assert.Equal(refused, Record.Exception(() => WholeFile.Read(folder))?.GetType());
        Assert.Equal(refused, Record.Exception(() => WholeFile.ReadOrMap(folder))?.GetType());
        var missing = dir.File("none.caffemodel");
        Assert.Throws<FileNotFoundException>(() => WholeFile.Read(missing));
        Assert.Throws<FileNotFoundException>(() => WholeFile.ReadOrMap(missing));
        Assert.Throws<FileNotFoundException>(() => WholeFile.Parse(missing, static b => b.Length));
    }
}
