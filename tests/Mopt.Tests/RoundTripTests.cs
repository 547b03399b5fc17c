using Mopt.Ir.Parsing;
using Mopt.Ir.Printing;

namespace Mopt.Tests;

public sealed class RoundTripTests
{
    [Fact]
    public void ExampleModulePrintsIdenticallyAfterReparse()
    {
        var path = Path.Combine(TestPaths.RepoRoot(), "examples", "small_cnn.mir");
        var first = MirPrinter.PrintToString(MirReader.ParseFile(path));
        var second = MirPrinter.PrintToString(MirReader.ParseText(first, "reprinted.mir"));
        Assert.Equal(first, second);
        Assert.Contains("dialect_resources", first);
    }
}
