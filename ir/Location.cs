namespace Mopt.Ir;

/// <summary>Where an operation came from: the source framework's names live here.</summary>
public abstract record Location
{
    public static readonly Location Unknown = new UnknownLoc();

    public static Location Named(string name) => new NameLoc(name, null);

    /// <summary><c>fused["a", "b"]</c> of both locations, flattening nested fused names and dropping unknowns and repeats.</summary>
    public static Location Fuse(params Location[] locations) => Fuse(locations, null);

    /// <summary>
    /// As MLIR's FusedLoc::get: nested fused locations with the same metadata are flattened, unknowns and repeats
    /// dropped; no location left gives unknown (or <c>fused&lt;meta&gt;[unknown]</c>), one without metadata is itself.
    /// </summary>
    public static Location Fuse(IEnumerable<Location> locations, Attr? metadata)
    {
        // Every rewrite that absorbs an op fuses locations: no array per location and no enumerator per fused one.
        var parts = new List<Location>(locations.TryGetNonEnumeratedCount(out int count) ? count + 1 : 4);
        foreach (var loc in locations)
        {
            if (loc is FusedLoc f && Equals(f.Metadata, metadata))
                for (int i = 0; i < f.Locations.Count; i++) AddPart(parts, f.Locations[i]);
            else AddPart(parts, loc);
        }
        if (parts.Count == 0) return metadata is null ? Unknown : new FusedLoc(ValueList.Of(Unknown), metadata);
        if (parts.Count == 1 && metadata is null) return parts[0];
        return new FusedLoc(parts.ToValueList(), metadata);
    }

    private static void AddPart(List<Location> parts, Location item)
    {
        if (item is not UnknownLoc && !parts.Contains(item)) parts.Add(item);
    }

    /// <summary>The first name this location carries, if any (what an exporter uses as a node name).</summary>
    public string? FirstName => this switch
    {
        NameLoc n => n.Name,
        FusedLoc f => FirstNameOf(f.Locations),
        CallSiteLoc c => c.Callee.FirstName,
        _ => null,
    };

    // Asked of every fused location a writer names a node after and every skip reason: a loop, no iterators.
    private static string? FirstNameOf(ValueList<Location> locations)
    {
        for (int i = 0; i < locations.Count; i++)
            if (locations[i].FirstName is { } name) return name;
        return null;
    }
}

public sealed record UnknownLoc : Location;

/// <summary><c>loc("Conv_0")</c>, or <c>loc("name"(child))</c>.</summary>
public sealed record NameLoc(string Name, Location? Child) : Location;

/// <summary><c>loc("model.prototxt":12:3)</c></summary>
public sealed record FileLineColLoc(string File, int Line, int Column) : Location;

/// <summary><c>loc(fused["a", "b"])</c> or <c>loc(fused&lt;meta&gt;[...])</c></summary>
public sealed record FusedLoc(ValueList<Location> Locations, Attr? Metadata) : Location;

/// <summary><c>loc(callsite("callee" at "caller"))</c></summary>
public sealed record CallSiteLoc(Location Callee, Location Caller) : Location;
