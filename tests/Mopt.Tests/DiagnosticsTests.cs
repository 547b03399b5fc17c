using System.Text.RegularExpressions;

namespace Mopt.Tests;

/// <summary>
/// Bad input through mopt-opt: exit 1, <c>file:line:col: error: message</c>, the offending line with a caret,
/// no stack trace, and no output file (nor a temporary one) left behind.
/// </summary>
public sealed class DiagnosticsTests
{
    private const string Good = """
        module {
          func.func @main(%a: tensor<2xf32>) -> tensor<2xf32> {
            %w = "onnx.Constant"() {value = dense_resource<w> : tensor<2xf32>} : () -> tensor<2xf32>
            %0 = "onnx.Add"(%a, %w) : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32> loc("add")
            return %0 : tensor<2xf32>
          }
        }

        {-#
          dialect_resources: {
            builtin: {
              w: "0x040000000000803F00000040"
            }
          }
        #-}

        """;

    /// <summary>Each kind of bad input: the text, the expected line and column, and a piece of the message.</summary>
    public static TheoryData<string, string, int, int, string> BadInputs() => new()
    {
        { "truncated", Good[..Good.IndexOf("f32>, tensor<2xf32>) ->", StringComparison.Ordinal)], 4, 41, "unexpected end of file" },
        { "unbalanced-paren", Good.Replace("(%a, %w)", "(%a, %w"), 4, 28, "unexpected ':', expected ')'" },
        { "unbalanced-brace", Good.Replace("  }\n}\n", "  }\n"), 8, 1, "unexpected '{-#'" },
        { "extra-bracket", Good.Replace("tensor<2xf32>} :", "tensor<2xf32>}} :"), 3, 71, "unexpected '}'" },
        { "bad-hex", Good.Replace("0000803F0000", "0000803G0000"), 12, 28, "blob 'w' has bad hex: 'G' is not a hex digit" },
        { "odd-hex", Good.Replace("00000040\"", "0000004\""), 12, 35, "odd number of digits" },
        { "blob-size", Good.Replace("0000803F00000040", "0000803F0000004000"), 3, 37, "blob 'w' holds 9 bytes but tensor<2xf32> needs 8" },
        { "undefined-value", Good.Replace("(%a, %w)", "(%a, %q)"), 4, 25, "use of undefined value '%q'" },
        { "use-before-def", Good.Replace("(%a, %w)", "(%a, %0)"), 4, 25, "value '%0' is used before its definition at line 4" },
        { "defined-twice", Good.Replace("%0 = \"onnx.Add\"", "%w = \"onnx.Add\"").Replace("return %0", "return %w"), 4, 5, "value '%w' is defined twice (first at line 3)" },
        { "type-mismatch", Good.Replace("(tensor<2xf32>, tensor<2xf32>) ->", "(tensor<3xf32>, tensor<2xf32>) ->"), 4, 21, "'%a' is defined as tensor<2xf32> but used here as tensor<3xf32>" },
        { "unknown-element-type", Good.Replace("-> tensor<2xf32> loc(\"add\")", "-> tensor<2xf33> loc(\"add\")"), 4, 74, "unknown element type 'f33'" },
        { "missing-trailer-key", Good.Replace("dense_resource<w>", "dense_resource<missing>"), 3, 37, "dense_resource key 'missing' has no entry in the dialect_resources trailer" },
        { "no-trailer", Good[..Good.IndexOf("{-#", StringComparison.Ordinal)], 3, 37, "dense_resource key 'w' has no entry" },
        { "unterminated-string", Good.Replace("loc(\"add\")", "loc(\"add)"), 4, 83, "unterminated string" },
        { "bad-character", Good.Replace("%0 = \"onnx.Add\"", "%0 = ~\"onnx.Add\""), 4, 10, "unexpected character '~'" },
        { "dense-too-long", Good.Replace("dense_resource<w>", "dense<[1.0, 2.0, 3.0]>"), 3, 43, "dense literal has 3 elements in dimension 0, the type says 2" },
        { "integer-too-big", Good.Replace("(%a, %w) :", "(%a, %w) {axis = 300 : i8} :"), 4, 37, "300 does not fit in i8" },
        { "elided-dump", Good.Replace("dense_resource<w>", "dense_resource<__elided__>"), 3, 37, "this dump elided its large constants" },
        { "result-count", Good.Replace("%0 = \"onnx.Add\"", "%0:2 = \"onnx.Add\""), 4, 5, "'onnx.Add' names more results than its type lists (1)" },
        { "undefined-loc-alias", Good.Replace("loc(\"add\")", "loc(#loc7)"), 4, 83, "undefined location alias '#loc7'" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void BadInputIsReportedWithPositionAndCaret(string kind, string text, int line, int column, string message)
    {
        using var inputDir = new TempDir();
        using var outputDir = new TempDir();
        var input = inputDir.Write(kind + ".mir", text);
        var output = Path.Combine(outputDir.Path, "out.mir");

        var (exit, stdout, stderr) = Mir.Opt(input, "--canonicalize", "-o", output);

        Assert.Equal(1, exit);
        Assert.Equal("", stdout);
        var lines = stderr.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
        Assert.Matches($"^{Regex.Escape(input)}:\\d+:\\d+: error: ", lines[0]);
        var head = Regex.Match(lines[0], $"^{Regex.Escape(input)}:(\\d+):(\\d+): error: (.*)$");
        Assert.True(head.Success, lines[0]);
        Assert.Equal(line, int.Parse(head.Groups[1].Value));
        if (column > 0) Assert.Equal(column, int.Parse(head.Groups[2].Value));
        Assert.Contains(message, head.Groups[3].Value);

        // The offending line, then a caret under the column.
        Assert.True(lines.Length >= 3, $"no source line and caret under the message:\n{stderr}");
        var sourceLines = text.ReplaceLineEndings("\n").Split('\n');
        Assert.Equal(sourceLines[line - 1], lines[1]);
        Assert.Matches(@"^[ \t]*\^$", lines[2]);
        Assert.Equal(int.Parse(head.Groups[2].Value), lines[2].Length);

        Assert.DoesNotContain("   at ", stderr);
        Assert.DoesNotContain("Exception", stderr);
        Assert.False(File.Exists(output), "an output file was written for bad input");
        Assert.Empty(Directory.GetFileSystemEntries(outputDir.Path));
    }

    [Fact]
    public void GoodInputWritesTheOutputAndNothingElse()
    {
        using var inputDir = new TempDir();
        using var outputDir = new TempDir();
        var input = inputDir.Write("good.mir", Good);
        var output = Path.Combine(outputDir.Path, "out.mir");
        var (exit, stdout, stderr) = Mir.Opt(input, "--canonicalize", "-o", output);
        Assert.True(exit == 0, stderr);
        Assert.Equal("", stderr);
        Assert.Equal(["out.mir"], Directory.GetFileSystemEntries(outputDir.Path).Select(Path.GetFileName));
        Assert.Equal(Mir.Print(Mir.Parse(Good)), File.ReadAllText(output));
    }

    [Fact]
    public void FailingRunLeavesAnExistingOutputFileAlone()
    {
        using var dir = new TempDir();
        var output = dir.Write("out.mir", "previous contents");
        var input = dir.Write("bad.mir", Good.Replace("(%a, %w)", "(%a, %q)"));
        var (exit, _, _) = Mir.Opt(input, "-o", output);
        Assert.Equal(1, exit);
        Assert.Equal("previous contents", File.ReadAllText(output));
        Assert.Equal(2, Directory.GetFiles(dir.Path).Length);
    }

    [Fact]
    public void MissingInputFile()
    {
        using var dir = new TempDir();
        var input = dir.File("nope.mir");
        var (exit, _, stderr) = Mir.Opt(input, "-o", dir.File("out.mir"));
        Assert.Equal(1, exit);
        Assert.StartsWith($"error: cannot read '{input}'", stderr);
        Assert.DoesNotContain("   at ", stderr);
        Assert.Empty(Directory.GetFileSystemEntries(dir.Path));
    }

    [Fact]
    public void OutputFolderThatDoesNotExist()
    {
        using var dir = new TempDir();
        var input = dir.Write("good.mir", Good);
        var output = Path.Combine(dir.Path, "missing", "out.mir");
        var (exit, _, stderr) = Mir.Opt(input, "-o", output);
        Assert.Equal(1, exit);
        Assert.StartsWith($"error: cannot write '{output}'", stderr);
    }

    [Fact]
    public void OutputThatIsAFolderIsAnErrorAndLeavesNoTemporary()
    {
        using var dir = new TempDir();
        var input = dir.Write("good.mir", Good);
        var output = Path.Combine(dir.Path, "taken");
        Directory.CreateDirectory(output);
        var (exit, _, stderr) = Mir.Opt(input, "-o", output + ".mir");
        Assert.Equal(0, exit);
        Directory.CreateDirectory(output + ".onnx");
        (exit, _, stderr) = Mir.Opt(input, "-o", output + ".onnx");
        Assert.Equal(1, exit);
        Assert.StartsWith($"error: cannot write '{output}.onnx'", stderr);
        Assert.DoesNotContain("   at ", stderr);
        Assert.Equal(["good.mir", "taken", "taken.mir", "taken.onnx"], Directory.GetFileSystemEntries(dir.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Empty(Directory.GetFileSystemEntries(output + ".onnx"));
    }

    [Fact]
    public void TruncatedAtALineEndStillShowsALineAndCaret()
    {
        using var dir = new TempDir();
        var text = string.Join('\n', Good.Split('\n').Take(4)) + "\n";
        var input = dir.Write("cut.mir", text);
        var (exit, _, stderr) = Mir.Opt(input, "-o", dir.File("out.mir"));
        Assert.Equal(1, exit);
        var lines = stderr.TrimEnd('\n').Split('\n');
        Assert.Contains("unexpected end of file", lines[0]);
        Assert.True(lines.Length >= 3, stderr);
        Assert.Matches(@"^[ \t]*\^$", lines[2]);
    }

    [Fact]
    public void VerifierErrorInInputShowsLineAndCaret()
    {
        using var dir = new TempDir();
        var input = dir.Write("v.mir", Good.Replace("-> tensor<2xf32> {", "-> tensor<3xf32> {"));
        var (exit, _, stderr) = Mir.Opt(input, "-o", dir.File("out.mir"));
        Assert.Equal(1, exit);
        var lines = stderr.TrimEnd('\n').Split('\n');
        Assert.Matches($"^{Regex.Escape(input)}:5:5: error: 'func.return': returns tensor<2xf32> as result #0 but @main declares tensor<3xf32>$", lines[0]);
        Assert.True(lines.Length >= 3, stderr);
        Assert.Equal("    return %0 : tensor<2xf32>", lines[1]);
        Assert.Equal("    ^", lines[2]);
    }

    [Fact]
    public void VerifierErrorInInputIsStillAPositionedError()
    {
        using var dir = new TempDir();
        var input = dir.Write("v.mir", Good.Replace("-> tensor<2xf32> {", "-> tensor<3xf32> {"));
        var (exit, _, stderr) = Mir.Opt(input, "-o", dir.File("out.mir"));
        Assert.Equal(1, exit);
        Assert.Matches($"^{Regex.Escape(input)}:5:5: error: .*returns tensor<2xf32> as result #0 but @main declares tensor<3xf32>", stderr);
        Assert.DoesNotContain("   at ", stderr);
        Assert.Single(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void UndefinedValueOutsideAFunctionIsNamed()
    {
        using var dir = new TempDir();
        var input = dir.Write("x.mir", "module {\n  %0 = \"t.b\"(%nope) : (i32) -> i32\n}\n");
        var (exit, _, stderr) = Mir.Opt(input, "-o", dir.File("out.mir"));
        Assert.Equal(1, exit);
        var lines = stderr.TrimEnd('\n').Split('\n');
        Assert.Equal($"{input}:2:14: error: use of undefined value '%nope'", lines[0]);
        Assert.Equal("             ^", lines[2]);
    }
}
