using System.Globalization;

namespace Mopt.Passes;

/// <summary>A typed pass option: <c>bits=8</c>, <c>per-channel=true</c>, <c>exclude=Conv_.*</c>.</summary>
public abstract class PassOption
{
    protected PassOption(string name, string description) { Name = name; Description = description; }

    public string Name { get; }
    public string Description { get; }
    public bool IsSet { get; protected set; }
    public abstract string TypeName { get; }
    public abstract string ValueText { get; }

    /// <summary>Sets the value from text; throws <see cref="FormatException"/> with a user-facing message.</summary>
    public abstract void Parse(string text);
}

public sealed class PassOption<T> : PassOption
{
    private readonly Func<string, T> _parse;
    private readonly Func<T, bool>? _valid;
    private readonly string? _allowed;

    /// <param name="allowed">What <paramref name="valid"/> accepts, in words (<c>"4 or 8"</c>), for the error a value it refuses gets.</param>
    public PassOption(string name, string description, T defaultValue, Func<string, T>? parse = null, Func<T, bool>? valid = null, string? allowed = null)
        : base(name, description)
    {
        Value = defaultValue;
        _parse = parse ?? DefaultParser();
        _valid = valid;
        _allowed = allowed;
    }

    public T Value { get; private set; }
    public override string TypeName => Type.GetTypeCode(typeof(T)) switch
    {
        TypeCode.Boolean => "bool",
        TypeCode.String => "string",
        TypeCode.Int32 or TypeCode.Int64 => "integer",
        TypeCode.Double => "number",
        _ => typeof(T).Name.ToLowerInvariant(),
    };
    public override string ValueText => Value switch
    {
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        null => "",
        var v => v.ToString() ?? "",
    };

    public override void Parse(string text)
    {
        T value;
        try { value = _parse(text); }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
        {
            throw new FormatException(_allowed is not null
                ? $"option '{Name}' accepts {_allowed}, not '{text}'"
                : $"option '{Name}' expects {(TypeName == "integer" ? "an" : "a")} {TypeName}, not '{text}'");
        }
        if (_valid is not null && !_valid(value))
            throw new FormatException(_allowed is not null ? $"option '{Name}' accepts {_allowed}, not '{text}'" : $"option '{Name}' does not accept '{text}' ({Name}: {Description})");
        Value = value;
        IsSet = true;
    }

    private static Func<string, T> DefaultParser()
    {
        if (typeof(T) == typeof(string)) return s => (T)(object)s;
        if (typeof(T) == typeof(bool)) return s => (T)(object)(s switch
        {
            "true" or "1" or "" => true,
            "false" or "0" => false,
            _ => throw new FormatException(),
        });
        // Plain numbers only: no thousands separators (1,5 is an error, not 15).
        if (typeof(T) == typeof(int)) return s => (T)(object)int.Parse(s, NumberStyles.Integer, CultureInfo.InvariantCulture);
        if (typeof(T) == typeof(long)) return s => (T)(object)long.Parse(s, NumberStyles.Integer, CultureInfo.InvariantCulture);
        if (typeof(T) == typeof(double)) return s => (T)(object)double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);
        throw new ArgumentException($"no default parser for {typeof(T).Name}");
    }
}
