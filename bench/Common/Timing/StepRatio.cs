namespace Mopt.Bench;

/// <summary>One step's time over another's, wall and CPU (<see cref="TimedStep.PairedRatio"/>).</summary>
public sealed record StepRatio(double Wall, double Cpu)
{
    public string Cell => $"{Wall:F2}x ({Cpu:F2}x)";
}
