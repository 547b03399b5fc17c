namespace Mopt.Backend.Graphviz;

/// <summary>How a node compares with the model it is diffed against.</summary>
public enum ChangeKind
{
    /// <summary>Not diffed, or the same in both.</summary>
    None,
    /// <summary>Only in this model.</summary>
    Added,
    /// <summary>In both (same name), with another op type, result type, attribute or input.</summary>
    Changed,
    /// <summary>Only in the other model: drawn as a ghost.</summary>
    Removed,
}
