namespace Mopt.Ir;

/// <summary>
/// An in-place change <see cref="PatternRewriter.StartModification"/> began, for
/// <see cref="PatternRewriter.FinalizeModification"/>: the op, the producers of its operands before the change (erased
/// at the end if it left them dead), and the location of an op it absorbs.
/// </summary>
public readonly struct OpModification
{
    internal OpModification(Operation op, List<Operation> producers, Location? absorbedLocation)
    {
        Op = op;
        Producers = producers;
        AbsorbedLocation = absorbedLocation;
    }

    public Operation Op { get; }
    internal List<Operation> Producers { get; }
    internal Location? AbsorbedLocation { get; }
}
