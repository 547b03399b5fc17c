using Mopt.Backend;
using Mopt.Backend.Graphviz;
using Mopt.Frontend;
using Mopt.Ir;
using Mopt.Ir.Parsing;
using Mopt.Ir.Printing;
using Mopt.Passes;

namespace Mopt.Api;

/// <summary>
/// A model in mopt's IR: loaded from any format mopt reads, changed in place by passes and pipelines, inspected,
/// verified against another model in ONNX Runtime, and saved in any format mopt writes. What mopt-opt does, from C#.
/// Errors in the input are <see cref="MirException"/> (<c>file:line:col: error: ...</c> from <see cref="MirException.Format"/>,
/// or the node's name in a binary model); a bad pass name, option or pipeline is a <see cref="PipelineException"/>.
/// Weights may stay the pages of the file they were read from (a caffemodel, an ONNX file): disposing the model unmaps
/// them at once (the garbage collector does it later otherwise); the model cannot be used afterwards.
/// </summary>
public sealed class Model : IDisposable
{
    private readonly IModelReader? _reader;

    private Model(MirModule module, string? path, IModelReader? reader)
    {
        Module = module;
        Path = path;
        _reader = reader;
    }

    /// <summary>The IR itself (Mopt.Ir), for what this API does not cover.</summary>
    public MirModule Module { get; }

    /// <summary>The file it was loaded from; null when made from text or a module.</summary>
    public string? Path { get; }

    /// <summary>
    /// Reads <paramref name="path"/> with the reader its extension (or folder layout) picks, as mopt-opt does: .mir/.mlir,
    /// .onnx, .pb/.meta (TensorFlow), .prototxt/.caffemodel (Caffe), a Paddle folder, __model__, .pdmodel or PIR .json,
    /// .nb (Paddle-Lite); then checks operand counts and attributes against the op definitions.
    /// </summary>
    public static Model Load(string path, LoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var reader = (options ?? new LoadOptions()).ReaderFor(path);
        return new Model(Checked(reader.Read(path)), path, reader);
    }

    /// <summary>A model from .mir text; <paramref name="name"/> is the file name its error messages give.</summary>
    public static Model Parse(string mirText, string name = "<string>")
    {
        ArgumentNullException.ThrowIfNull(mirText);
        ArgumentNullException.ThrowIfNull(name);
        return new Model(Checked(MirReader.ParseText(mirText, name)), null, null);
    }

    /// <summary>A model around a module built or read elsewhere (not copied: the model changes it).</summary>
    public static Model FromModule(MirModule module)
    {
        ArgumentNullException.ThrowIfNull(module);
        return new Model(module, null, null);
    }

    private static MirModule Checked(MirModule module)
    {
        DefinitionVerifier.Verify(module, Mopt.Dialects.StandardDialects.Registry); // operand counts and attribute kinds its op definitions declare
        return module;
    }

    /// <summary>
    /// Unmaps the files the model's weights are still read from, unless a clone still holds them (each model holds its
    /// own reference). Using the model's weights afterwards is an <see cref="ObjectDisposedException"/>.
    /// </summary>
    public void Dispose() => Module.Resources.ReleaseFiles();

    /// <summary>An independent copy (weights shared: they are immutable bytes), for trying a pipeline and keeping the original.</summary>
    public Model Clone() => new(Module.Clone(new Dictionary<Value, Value>()), Path, _reader);

    /// <summary>Runs one pass by name with options as <c>k=v k2=v2</c>: <c>Run("fold-bn")</c>, <c>Run("quantize-int8", "calibration=random:8")</c>.</summary>
    public PipelineResult Run(string pass, string? options = null)
    {
        ArgumentNullException.ThrowIfNull(pass);
        return Run(Pipeline.ForPass(pass, options));
    }

    /// <summary>Runs a pipeline in <c>--pass-pipeline</c> syntax: <c>RunPipeline("canonicalize,fold-bn,cse")</c>.</summary>
    public PipelineResult RunPipeline(string passPipeline)
    {
        ArgumentNullException.ThrowIfNull(passPipeline);
        return Run(Pipeline.Parse(passPipeline));
    }

    /// <summary>Runs a named pipeline (<c>--pipeline=NAME</c>): <c>RunNamedPipeline("deploy")</c>, <c>RunNamedPipeline("deploy{outputs=y}")</c>.</summary>
    public PipelineResult RunNamedPipeline(string name) => Run(Pipeline.Named(name));

    /// <summary>Runs <paramref name="pipeline"/> on this model, changing it in place.</summary>
    public PipelineResult Run(Pipeline pipeline, PipelineOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        options ??= new PipelineOptions();
        var pm = new PassManager
        {
            VerifyEach = options.VerifyEach, Debug = options.Debug,
            Notes = options.Notes, NotesIsTerminal = options.NotesIsTerminal,
            DeferFiles = options.DeferFiles, CollectStatistics = options.CollectStatistics,
            // ONNX Runtime calibrates quantize-int8 and evaluates what fold-constants cannot
            Services = options.Services ?? OrtPassServices.Create(),
            BeforePass = options.BeforePass, AfterPass = options.AfterPass,
        };
        pm.Passes.AddRange(pipeline.Build());
        if (options.WritesTo is { } output) OutputLowerings.AddTo(pm.Passes, Module, output);
        var runs = pm.Run(Module);
        return new PipelineResult(pm, runs);
    }

    /// <summary>The inputs (the main function's arguments), with names and types.</summary>
    public IReadOnlyList<TensorInfo> Inputs => TensorInfo.Inputs(Module);

    /// <summary>The outputs, with names and types.</summary>
    public IReadOnlyList<TensorInfo> Outputs => TensorInfo.Outputs(Module);

    /// <summary>How many of each op the model has (<c>onnx.Conv</c>: 12), most frequent first; constants included, the return not.</summary>
    public IReadOnlyList<OpCount> OpHistogram() =>
        ModelSummary.Histogram(Module.AllOperations().Where(o => o.Name != FuncOp.ReturnOpName));

    /// <summary>What <c>mopt-opt --summarize</c> prints, as values and as <see cref="ModelSummary.Text"/>.</summary>
    public ModelSummary Summarize() => ModelSummary.Of(Module, Path);

    /// <summary>
    /// Runs the model at <paramref name="originalPath"/> and this one in ONNX Runtime on the same inputs and compares
    /// their outputs (<c>--verify-against</c>); a TensorFlow or Caffe model runs as its ONNX lowering. The file this
    /// model was loaded from is read with the same <see cref="LoadOptions"/>.
    /// </summary>
    public VerificationResult VerifyAgainst(string originalPath, VerifyOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(originalPath);
        options ??= new VerifyOptions();
        var reader = options.OriginalLoadOptions is { } load ? load.ReaderFor(originalPath) : IsLoadedFrom(originalPath) ? _reader : null;
        return Verification.Run(Module, originalPath, reader, options);
    }

    /// <summary>Whether this model was loaded from the file at <paramref name="path"/> (however the path is spelled).</summary>
    public bool IsLoadedFrom(string path) =>
        Path is { } input && input != "-" && System.IO.Path.GetFullPath(path) == System.IO.Path.GetFullPath(input);

    /// <summary>Compares this model with <paramref name="original"/> (a model in memory, e.g. a clone taken before a pipeline).</summary>
    public VerificationResult VerifyAgainst(Model original, VerifyOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(original);
        return Verification.Run(Module, original.Module, original.Path ?? "the original model", options ?? new VerifyOptions());
    }

    /// <summary>
    /// Writes the model to <paramref name="path"/> in the format of its extension (.mir, .onnx, .pb, .prototxt/.caffemodel,
    /// .pdmodel or DIR/, .nb), complete or not at all. A module the format cannot hold yet (tf.* as .onnx, anything but
    /// paddle.* as Paddle) is converted first, on a copy: this model is unchanged.
    /// </summary>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var writer = ModelWriters.For(path, PrintOptions.Default);
        var module = Module;
        var lowerings = OutputLowerings.For(module, path);
        if (lowerings.Count > 0)
        {
            module = module.Clone(new Dictionary<Value, Value>());
            var pm = new PassManager { Services = OrtPassServices.Create() };
            pm.Passes.AddRange(lowerings);
            pm.Run(module);
        }
        try { writer.WriteFiles(module, path); }
        finally
        {
            if (module != Module) module.Resources.ReleaseFiles(); // the lowered copy's hold on mapped weight files
        }
    }

    /// <summary>The IR as .mir text (MLIR's generic form); constants of more than <paramref name="elideConstantsLargerThan"/> elements elided.</summary>
    public string ToMir(long? elideConstantsLargerThan = null) =>
        MirPrinter.PrintToString(Module, new PrintOptions { ElideConstantsLargerThan = elideConstantsLargerThan });

    /// <summary>Writes the IR as .mir text to <paramref name="output"/>.</summary>
    public void Print(Stream output, long? elideConstantsLargerThan = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        MirPrinter.Print(Module, output, new PrintOptions { ElideConstantsLargerThan = elideConstantsLargerThan });
    }

    /// <summary>
    /// The graph as Graphviz DOT, what <c>--view-op-graph</c> writes (docs/view-op-graph.md); with <paramref name="before"/>,
    /// what <c>--view-op-graph='diff=OTHER'</c> writes: ops removed, added and changed against it coloured.
    /// </summary>
    public string ToDot(Model? before = null) =>
        OpGraphDot.Write(Module, before?.Module, new OpGraphOptions { DiffAgainst = before is null ? null : before.Path is { } p ? System.IO.Path.GetFileName(p.TrimEnd('/')) : "before" });

    /// <summary>
    /// Writes <see cref="ToDot"/> to <paramref name="path"/>: <c>.dot</c>/<c>.gv</c> as text, <c>.svg</c>/<c>.png</c> rendered
    /// by Graphviz's <c>dot</c>; complete or not at all. Without <c>dot</c> on PATH (or when it fails) a
    /// <see cref="PipelineException"/> says so and nothing is written.
    /// </summary>
    public void SaveGraph(string path, Model? before = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!OpGraphWriter.CanWrite(path)) throw new PipelineException($"'{path}': the op graph is written as {OpGraphWriter.Extensions}");
        try { OpGraphWriter.Write(ToDot(before), path); }
        catch (GraphvizException e) { throw new PipelineException(e.Message); }
    }

    public override string ToString() => $"Model({Path ?? Module.Name ?? "unnamed"})";
}
