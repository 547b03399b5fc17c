using System.Diagnostics;
using Antlr4.Runtime;
using Antlr4.Runtime.Atn;
using Mopt.Grammar;
using Mopt.Ir;
using Mopt.Ir.Parsing;
using Mopt.Ir.Printing;

namespace Mopt.Bench.ParsePrint;

/// <summary>
/// <c>--phases FILE</c>: where a parse-and-print of FILE spends its time and allocations, phase by phase, in this
/// process (same runtime settings as mopt-opt). The first round includes JIT compilation; later rounds show the
/// steady state, so the difference between them is what start-up and JIT cost mopt-opt, which runs each phase once.
/// </summary>
public static class Phases
{
    public static void Run(string input, int rounds, string outDir)
    {
        Console.WriteLine($"phases of parse and print of {input} ({new FileInfo(input).Length / 1e6:F1} MB), in process; " +
                          $"round 1 includes JIT. Server GC {System.Runtime.GCSettings.IsServerGC}, latency {System.Runtime.GCSettings.LatencyMode}");
        Console.WriteLine($"  {"phase",-52} {"wall s",7} {"user s",6} {"sys s",6} {"alloc MB",10} {"heap MB",10} {"RSS MiB",8}   (after the phase; cpu: all threads)");
        string output = Path.Combine(outDir, "phases.out.mir");
        for (int round = 1; round <= rounds; round++)
        {
            Console.WriteLine($"round {round}:");
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, true, true);

            // 1. Hex strings alone: find each "0x... and decode it, as the lexer's fast path does.
            int hexCount = 0;
            long hexBytes = 0;
            Time("hex scan + decode of the blobs (HexScanner)", () =>
            {
                using var source = SourceText.FromFile(input);
                var quote = "\"0x"u8.ToArray();
                var buffer = new byte[1 << 20];
                long pos = 0;
                while (true)
                {
                    int n = source.Read(pos, buffer);
                    if (n <= 2) break;
                    int i = buffer.AsSpan(0, n).IndexOf(quote);
                    if (i < 0) { pos += n - 2; continue; }
                    var hex = HexScanner.Scan(source, checked((int)(pos + i)));
                    if (hex?.Bytes is { } b) { hexCount++; hexBytes += b.Length; pos = hex.Stop + 1; }
                    else pos += i + 1;
                }
            });
            Console.WriteLine($"    ({hexCount} hex strings, {hexBytes / 1e6:F1} MB decoded)");

            // 2. The lexer over the whole file (its hex fast path included).
            IList<IToken>? tokenList = null;
            CommonTokenStream? tokens = null;
            SourceText? src = null;
            Time("lex (ANTLR lexer + hex fast path)", () =>
            {
                src = SourceText.FromFile(input);
                var lexer = new MirLexer(new MirCharStream(src));
                lexer.RemoveErrorListeners();
                tokens = new CommonTokenStream(lexer);
                tokens.Fill();
                tokenList = tokens.GetTokens();
            });
            Console.WriteLine($"    ({tokenList!.Count} tokens)");

            // 3. The parser over those tokens (SLL, parse tree built), as MirReader does.
            Time("parse tree (ANTLR parser, SLL)", () =>
            {
                var parser = new MirParser(tokens!) { BuildParseTree = true };
                parser.RemoveErrorListeners();
                parser.Interpreter.PredictionMode = PredictionMode.SLL;
                _ = parser.mirFile();
            });
            src!.Dispose();
            tokens = null;
            tokenList = null;
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, true, true);

            // 4. What mopt-opt does: MirReader.ParseFile (lex + parse + tree-to-IR + verify).
            MirModule? module = null;
            Time("MirReader.ParseFile (all of the above + IR + verify)", () => module = MirReader.ParseFile(input));

            // 5. The verifier alone (MirReader ran it once already).
            Time("Verifier.Verify", () => Verifier.Verify(module!));

            // 6. Printing, without and with the file system.
            Time("MirPrinter.Print to Stream.Null", () => MirPrinter.Print(module!, Stream.Null));
            Time("MirPrinter.Print to a file (64 KiB FileStream)", () =>
            {
                using var f = new FileStream(output, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
                MirPrinter.Print(module!, f);
            });
            module = null;
            File.Delete(output);
        }
        Console.WriteLine($"peak working set of this process: {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576.0:F1} MiB");
    }

    private static void Time(string what, Action action) => BenchOptions.TimePhase(what, action, 52);
}
