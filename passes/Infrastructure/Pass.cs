using Mopt.Dialects;
using Mopt.Ir;

namespace Mopt.Passes;

/// <summary>
/// A transformation of a module, run by name from the command line (<c>--canonicalize</c>) or a pipeline.
/// A pass is a small class: its name, a one-line summary, typed options, and <see cref="Run"/>.
/// </summary>
public abstract class Pass
{
    /// <summary>The command-line name, e.g. <c>fold-bn</c>.</summary>
    public abstract string Name { get; }
    /// <summary>One line for <c>--list-passes</c> and <c>--help</c>.</summary>
    public abstract string Summary { get; }
    /// <summary>The options this pass takes (<c>--pass='k=v'</c>, <c>pass{k=v}</c>).</summary>
    public virtual IReadOnlyList<PassOption> Options => [];

    public abstract void Run(MirModule module, PassContext context);

    /// <summary>The pass as it would be written in <c>--pass-pipeline</c>, options included.</summary>
    public virtual string Describe()
    {
        var set = Options.Where(o => o.IsSet).Select(o => $"{o.Name}={Quote(o.ValueText)}").ToList();
        return set.Count == 0 ? Name : $"{Name}{{{string.Join(' ', set)}}}";
    }

    private static string Quote(string value) =>
        value.Length == 0 || value.Any(c => char.IsWhiteSpace(c) || c is '{' or '}' or '"') ? $"'{value}'" : value;

    /// <summary>Sets options from <c>k=v k2='a b'</c> text; a user error is a <see cref="PipelineException"/>.</summary>
    public void SetOptions(string text) => SetOptionsFromPairs(PipelineParser.SplitOptions(text));

    /// <summary>Sets the declared options; a pass whose option names are free (input names) overrides this.</summary>
    public virtual void SetOptionsFromPairs(IEnumerable<(string Key, string Value)> pairs)
    {
        foreach (var (key, value) in pairs)
        {
            var option = Named(key)
                ?? throw new PipelineException(Options.Count == 0
                    ? $"pass '{Name}' takes no options, but was given '{key}'"
                    : $"pass '{Name}' has no option '{key}' (it has: {string.Join(", ", Options.Select(o => o.Name))})");
            try { option.Parse(value); }
            catch (FormatException e) { throw new PipelineException($"pass '{Name}': {e.Message}"); }
        }
    }

    private PassOption? Named(string key)
    {
        var options = Options;
        for (int i = 0; i < options.Count; i++)
            if (options[i].Name == key) return options[i];
        return null;
    }
}

/// <summary>A file a pass produces beside the model (a report), written whole or not at all.</summary>
public sealed record PendingFile(string Path, Action<Stream> Write, string What)
{
    public void WriteNow(TextWriter notes)
    {
        AtomicFile.Write(Path, Write);
        notes.WriteLine($"{What} written to {Path}");
    }
}

/// <summary>What a pass did, for <c>--pass-statistics</c>, <c>--timing</c> and <c>--debug</c>.</summary>
public sealed class PassContext
{
    // Made by the first count or skip: most passes of a pipeline count nothing.
    private OrderedDictionary<string, long>? _counters;
    private List<string>? _skips;
    private HashSet<(Operation, string)>? _skipped;

    private readonly Action<PendingFile>? _fileSink;

    public PassContext(TextWriter? debug = null, TextWriter? notes = null, bool notesIsTerminal = false, Action<PendingFile>? fileSink = null,
        bool statisticsWanted = true, DialectRegistry? dialects = null, PassServices? services = null, ModuleFacts factsBefore = ModuleFacts.None)
    {
        FactsBefore = factsBefore;
        Dialects = dialects ?? StandardDialects.Registry;
        Services = services ?? PassServices.None;
        Debug = debug;
        Notes = notes ?? TextWriter.Null;
        NotesIsTerminal = notesIsTerminal;
        _fileSink = fileSink;
        StatisticsWanted = statisticsWanted || debug is not null;
    }

    /// <summary>
    /// Whether the pass said it left the module exactly as it found it (<see cref="MarkAllPreserved"/>). Off unless the
    /// pass says so: a pass that does not is treated as having changed the module.
    /// </summary>
    public bool PreservedAll { get; private set; }

    /// <summary>
    /// Says the pass changed nothing (MLIR's <c>markAllAnalysesPreserved</c>): the pass manager then neither verifies
    /// the module again nor sweeps it for dead weights, since it is the module the last check passed. Call it only
    /// when nothing at all was changed (the greedy driver's passes: when no pattern applied).
    /// </summary>
    public void MarkAllPreserved() => PreservedAll = true;

    /// <summary>Whether the pass said it gave no weight a reader and took none from one (<see cref="MarkWeightsPreserved"/>).</summary>
    public bool WeightsPreserved { get; private set; }

    /// <summary>
    /// Says the pass made no constant or blob and took no reader from one (it only moved operations, say): the module
    /// has no dead weight the last sweep did not remove, so the pass manager does not sweep after it (it still verifies
    /// a module the pass changed).
    /// </summary>
    public void MarkWeightsPreserved() => WeightsPreserved = true;

    /// <summary>
    /// Whether the pass manager sweeps dead weights after this pass (it does after every pass that changed the module):
    /// then a rewrite driver leaves the blobs it released to that sweep, which finds them in the same walk and counts
    /// them in this context the same way, instead of walking the module for them first.
    /// </summary>
    public bool SweepFollows { get; init; }

    /// <summary>
    /// The names of the operations <paramref name="module"/> held when the pass began: built on the first question, or
    /// handed over by the pass manager from a pass before (none since changed the module). Ask before changing the module.
    /// </summary>
    public OpNameCensus OpNamesAtStart(MirModule module) => _census ??= new OpNameCensus(module);

    /// <summary>The census of <see cref="OpNamesAtStart"/> when there is one (the pass manager passes it on).</summary>
    public OpNameCensus? Census { get => _census; init => _census = value; }
    private OpNameCensus? _census;

    /// <summary>What held of the module when the pass began (<see cref="ModuleFacts"/>; the pass manager tracks them).</summary>
    public ModuleFacts FactsBefore { get; }

    /// <summary>What the pass says holds of the module once it is done (<see cref="Establish"/>).</summary>
    public ModuleFacts Established { get; private set; }

    /// <summary>Says that <paramref name="fact"/> holds of the module as the pass leaves it (the pass made it so).</summary>
    public void Establish(ModuleFacts fact) => Established |= fact;

    /// <summary>Takes back <paramref name="fact"/> (a later step of the same pass no longer guarantees it).</summary>
    public void Revoke(ModuleFacts fact) => Established &= ~fact;

    /// <summary>The dialects whose op definitions (traits, interfaces) the pass asks; mopt's standard ones unless given.</summary>
    public DialectRegistry Dialects { get; }

    /// <summary>What the pass may use from outside the compiler (a reference runtime); none unless given.</summary>
    public PassServices Services { get; }

    /// <summary>Whether anyone reads the counters: a statistic that costs real work (compressing weights) is skipped otherwise.</summary>
    public bool StatisticsWanted { get; }

    /// <summary>
    /// A file the pass writes beside the model (a report). Its folder must exist now (an error before any work is
    /// wasted); under a pass manager that defers files it is written, atomically, only once the whole run and the model
    /// are written, so a run that fails leaves nothing behind; otherwise right away.
    /// </summary>
    public void WriteFile(string path, Action<Stream> write, string what)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (!Directory.Exists(dir)) throw new MirException($"cannot write the {what} '{path}': folder '{dir}' does not exist");
        var file = new PendingFile(path, write, what);
        if (_fileSink is not null) _fileSink(file);
        else file.WriteNow(Notes);
    }

    /// <summary>Where <c>--debug</c> output goes; null when it is off.</summary>
    public TextWriter? Debug { get; }

    /// <summary>What the user should always see (warnings, what a pass chose, progress): stderr in mopt-opt.</summary>
    public TextWriter Notes { get; }

    /// <summary>Whether <see cref="Notes"/> is a terminal (a progress bar redraws in place) or a file or pipe.</summary>
    public bool NotesIsTerminal { get; }

    /// <summary>A note the user always sees, e.g. <c>Note("quantize-int8: no calibration data, dynamic quantization")</c>.</summary>
    public void Note(string message) => Notes.WriteLine(message);

    public IEnumerable<KeyValuePair<string, long>> Counters => (IEnumerable<KeyValuePair<string, long>>?)_counters ?? [];
    public IReadOnlyList<string> Skips => (IReadOnlyList<string>?)_skips ?? [];

    /// <summary>Counts something the pass did, e.g. <c>Count("folded")</c>.</summary>
    public void Count(string what, long by = 1)
    {
        var counters = _counters ??= new(StringComparer.Ordinal);
        counters[what] = counters.GetValueOrDefault(what) + by;
    }

    /// <summary>Records a rewrite the pass could not prove safe and so did not make, with the reason.</summary>
    public void Skip(Operation op, string reason)
    {
        // A greedy driver may try the same operation in every sweep: report it once.
        if (!(_skipped ??= new()).Add((op, reason))) return;
        Count("skipped");
        var name = op.Location.FirstName ?? op.Name;
        (_skips ??= new()).Add($"{name}: {reason}");
        Debug?.WriteLine($"  skipped {op.Name} {name}: {reason}");
    }

    public void Log(string message) => Debug?.WriteLine("  " + message);

    /// <summary>"20 folded, 1 skipped (Conv_12: weight not constant)"</summary>
    public string Summarize()
    {
        if (_counters is null || _counters.Count == 0) return "nothing changed";
        var parts = _counters.Select(kv => $"{kv.Value} {kv.Key}").ToList();
        var text = string.Join(", ", parts);
        if (_skips is { Count: > 0 })
            text += " (" + string.Join("; ", _skips.Take(5)) + (_skips.Count > 5 ? $"; {_skips.Count - 5} more" : "") + ")";
        return text;
    }
}
