namespace Mopt.Api;

/// <summary>The constants of one element type (<c>f32</c>, <c>i8</c>): how many elements and how many bytes.</summary>
public sealed record ParameterCount(string ElementType, long Count, long Bytes);
