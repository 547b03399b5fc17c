namespace Mopt.Ir;

/// <summary>
/// An operation whose meaning depends on the version of its dialect the module is written in (an ONNX operator
/// before the opset where it took its current meaning). Passes are written for the current meaning: the rewrite
/// driver and constant folding ask this first and leave the operation alone, saying why under <c>--debug</c>.
/// </summary>
public interface IVersionedSemantics
{
    /// <summary>Why <paramref name="op"/>, in <paramref name="module"/>'s version, means something other than the current form says; null when it means the same.</summary>
    string? Differs(Operation op, MirModule module);

    /// <summary>
    /// Whether no operation of this dialect can mean anything but its current form in <paramref name="module"/>'s
    /// version (<see cref="Differs"/> would say null for each): a driver then asks no operation. False when unsure.
    /// </summary>
    bool AllCurrent(MirModule module) => false;
}
