using Mopt.Passes;

namespace Mopt.Api;

/// <summary>
/// A list of passes to run on a model, from a pass name with options, a <c>--pass-pipeline</c> string, a named pipeline
/// (<c>--pipeline=NAME</c>) or Graph Transform Tool transforms. Each run gets fresh passes (a pass keeps state, such as
/// a report to write), so one pipeline can run on many models. A bad name or option fails when the pipeline is made.
/// </summary>
public sealed class Pipeline
{
    private readonly Func<List<Pass>> _build;
    private List<Pass>? _firstBuild; // the passes built to check the pipeline, handed to its first run instead of building them again

    // Put together when first asked (mopt-opt makes a pipeline per run and asks it for its description only in an error).
    private readonly Func<string> _describe;
    private string? _description;

    private Pipeline(Func<List<Pass>> build, string description) : this(build, () => description) { }

    private Pipeline(Func<List<Pass>> build, Func<string> describe)
    {
        _build = build;
        _describe = describe;
        _firstBuild = build(); // built once now, so that a bad string fails here
        var names = new string[_firstBuild.Count];
        for (int i = 0; i < names.Length; i++) names[i] = _firstBuild[i].Name;
        PassNames = names;
    }

    /// <summary>What it was made from (<c>fold-bn</c>, <c>pipeline deploy</c>, ...), for messages.</summary>
    public string Description => _description ??= _describe();

    /// <summary>The passes it runs, in order.</summary>
    public IReadOnlyList<string> PassNames { get; }

    /// <summary>One pass by name, with options as <c>k=v k2=v2</c> (mopt-opt's <c>--NAME='k=v'</c>).</summary>
    public static Pipeline ForPass(string name, string? options = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (PassRegistry.Find(name) is null) throw UnknownPass(name);
        return new(() => [PassRegistry.Create(name, options)], options is null ? name : $"{name}{{{options}}}");
    }

    /// <summary>A pass pipeline in <c>--pass-pipeline</c> syntax: <c>canonicalize,fold-bn,quantize-int8{method=entropy}</c>.</summary>
    public static Pipeline Parse(string passPipeline)
    {
        ArgumentNullException.ThrowIfNull(passPipeline);
        return new(() => Checked(() => PipelineParser.Parse(passPipeline)), passPipeline);
    }

    /// <summary>A named pipeline (<c>--pipeline=NAME</c>): <c>deploy</c>, or <c>deploy{inputs=x outputs=y}</c>.</summary>
    public static Pipeline Named(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return new(() => Checked(() => PipelineRegistry.Build(name)), $"pipeline {name}");
    }

    /// <summary>The Graph Transform Tool's transforms in its syntax (<c>--tf-transforms</c>): <c>fold_constants(ignore_errors=true) fold_batch_norms</c>.</summary>
    public static Pipeline GraphTransforms(string transforms)
    {
        ArgumentNullException.ThrowIfNull(transforms);
        return new(() => Mopt.Passes.Tf.GttTransforms.Build(transforms), transforms);
    }

    /// <summary>These pass objects, as they are (mopt-opt's passes, parsed from its command line); they run as given each time.</summary>
    public static Pipeline Of(IEnumerable<Pass> passes)
    {
        ArgumentNullException.ThrowIfNull(passes);
        var list = passes.ToList();
        if (list.Any(p => p is null)) throw new ArgumentNullException(nameof(passes), "a pass in the list is null");
        return new(() => [.. list], () => string.Join(",", list.Select(p => p.Name)));
    }

    /// <summary>This pipeline, then <paramref name="next"/>.</summary>
    public Pipeline Then(Pipeline next)
    {
        ArgumentNullException.ThrowIfNull(next);
        var first = this;
        return new(() => [.. first.Build(), .. next.Build()], $"{Description}, {next.Description}");
    }

    internal List<Pass> Build() => Interlocked.Exchange(ref _firstBuild, null) ?? _build();

    /// <summary>An unknown pass, with the passes mopt has (PassRegistry's own message points at --list-passes, which a library user lacks).</summary>
    internal static PipelineException UnknownPass(string name)
    {
        var hint = PipelineRegistry.Find(name.Split('{')[0]) is not null ? $" ('{name}' is a named pipeline: Pipeline.Named, or Model.RunNamedPipeline)" : "";
        return new PipelineException($"unknown pass '{name}'{hint}; the passes are: {string.Join(", ", PassRegistry.All.Select(e => e.Name))}") { UnknownPass = name };
    }

    private static List<Pass> Checked(Func<List<Pass>> build)
    {
        try { return build(); }
        catch (PipelineException e) when (e.UnknownPass is { } name) { throw UnknownPass(name); }
    }
}
