namespace Mopt.Ir;

/// <summary>
/// Runs modules in the reference runtime (ONNX Runtime) on calibration samples. The passes define what they need;
/// the runtime harness in <c>backend/Runtime</c> implements it, and the tool hands it to the passes in
/// <see cref="PassServices.ModelRunner"/>.
/// </summary>
public interface IModelRunner
{
    /// <summary>
    /// Runs every model on each sample of <paramref name="source"/> (each model gets the same inputs) and calls
    /// <paramref name="observe"/> once per sample with, per model, the values of its probes in order.
    /// <paramref name="progress"/> gets (samples done, samples it will run) after each sample. At most
    /// <paramref name="maxSamples"/> samples run (null: all). Returns the number of samples run.
    /// Bad calibration data (a missing or empty folder, an .npy whose shape or dtype does not match the model input)
    /// is a <see cref="MirException"/> that names the file.
    /// </summary>
    int Run(IReadOnlyList<ProbedModel> models, CalibrationSource source,
        Action<int, IReadOnlyList<IReadOnlyList<float[]>>> observe, Action<int, int>? progress = null, int? maxSamples = null);

    /// <summary>
    /// The same runner with each model's session limited to <paramref name="threads"/> threads: a pass that runs
    /// several models at once on its own workers (prune-sensitivity) asks for 1, so the workers do not fight over the cores.
    /// </summary>
    IModelRunner WithThreads(int threads);
}
