using System.Diagnostics;
using Mopt.Ir;

namespace Mopt.Passes;

/// <summary>
/// What one pass run did and how long it took; <paramref name="Verified"/> says whether the module was verified after
/// it (not when verify-each is off, nor after a pass that changed nothing).
/// </summary>
public sealed record PassRun(Pass Pass, TimeSpan Elapsed, TimeSpan VerifyElapsed, PassContext Context, bool Verified = false);

/// <summary>Runs passes in order, verifying the IR after each, with hooks to print or dump it around them.</summary>
public sealed class PassManager
{
    public List<Pass> Passes { get; } = new();
    /// <summary>Verify after every pass (on by default, like mlir-opt's -verify-each).</summary>
    public bool VerifyEach { get; set; } = true;
    public TextWriter? Debug { get; set; }
    /// <summary>Where passes' notes go (warnings, progress); nowhere unless set.</summary>
    public TextWriter? Notes { get; set; }
    public bool NotesIsTerminal { get; set; }
    /// <summary>
    /// Keep the files passes write beside the model (reports) in <see cref="PendingFiles"/> until
    /// <see cref="WritePendingFiles"/>, so that a failed run writes nothing (mopt-opt: after the model is written).
    /// </summary>
    public bool DeferFiles { get; set; }
    /// <summary>Whether the passes' statistics are read (mopt-opt: --pass-statistics, --timing, --debug); costly ones are skipped otherwise.</summary>
    public bool CollectStatistics { get; set; } = true;
    public List<PendingFile> PendingFiles { get; } = new();
    /// <summary>The dialects passes consult (op traits and interfaces); mopt's standard ones unless set.</summary>
    public DialectRegistry? Dialects { get; set; }
    /// <summary>What passes may use from outside the compiler (mopt-opt: ONNX Runtime's runner and evaluator); none unless set.</summary>
    public PassServices? Services { get; set; }

    public void WritePendingFiles()
    {
        foreach (var file in PendingFiles) file.WriteNow(Notes ?? TextWriter.Null);
        PendingFiles.Clear();
    }
    public Action<Pass, MirModule>? BeforePass { get; set; }
    public Action<Pass, MirModule>? AfterPass { get; set; }

    public List<PassRun> Run(MirModule module)
    {
        var runs = new List<PassRun>();
        // A pass that changed nothing leaves the module as the last dead-weight sweep and verification left it: it
        // needs neither again (as mlir-opt skips verifying after a pass that preserved everything). The input has had
        // neither here: they are owed to it, and done after the first pass that changes the module, or the last pass
        // (so a pipeline that opens with a pass finding nothing to do, as deploy's caffe-merge-bn on most nets, costs
        // no sweep and verification of its own).
        bool swept = false, verified = false;
        var facts = ModuleFacts.None;
        OpNameCensus? census = null; // what ops the module has, once a pass asked: kept while no pass changes it
        Action<PendingFile>? defer = DeferFiles ? PendingFiles.Add : null; // one delegate for every pass
        for (int p = 0; p < Passes.Count; p++)
        {
            var pass = Passes[p];
            bool last = p == Passes.Count - 1;
            BeforePass?.Invoke(pass, module);
            Debug?.WriteLine($"[{pass.Name}] running {pass.Describe()}");
            var context = new PassContext(Debug, Notes, NotesIsTerminal, defer, CollectStatistics, Dialects, Services, facts) { SweepFollows = true, Census = census };
            long clock = Stopwatch.GetTimestamp(); // no Stopwatch object per pass
            bool changed;
            try
            {
                pass.Run(module, context);
                changed = !context.PreservedAll;
                if (changed ? !swept || !context.WeightsPreserved : !swept && last)
                {
                    // no pass leaves unused weights behind
                    if (DeadWeights.Erase(module, context)) changed = true;
                    swept = true;
                }
            }
            catch (MirException) { throw; }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException or NotSupportedException or InvalidDataException)
            {
                // A pass that cannot go on says why; the module is not written.
                throw new MirException($"pass '{pass.Name}' failed: {e.Message}");
            }
            // Two clock reads per pass, three when it verifies (GetElapsedTime reads the clock again).
            long ran = Stopwatch.GetTimestamp();
            var elapsed = Stopwatch.GetElapsedTime(clock, ran);
            if (changed) verified = false;
            census = changed ? null : context.Census;
            // A fact survives a pass that changed nothing (a dead-weight sweep erases only unused constants and blobs).
            facts = context.PreservedAll ? facts | context.Established : context.Established;
            bool verifiedNow = VerifyEach && !verified && (changed || last);
            if (verifiedNow)
            {
                Verifier.Verify(module, $"the IR is broken after pass '{pass.Name}'");
                verified = true;
            }
            var verifyElapsed = verifiedNow ? Stopwatch.GetElapsedTime(ran) : TimeSpan.Zero;
            Debug?.WriteLine($"[{pass.Name}] {context.Summarize()}");
            runs.Add(new PassRun(pass, elapsed, verifyElapsed, context, verifiedNow));
            AfterPass?.Invoke(pass, module);
        }
        return runs;
    }
}
