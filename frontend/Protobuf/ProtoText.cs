using Antlr4.Runtime;
using Antlr4.Runtime.Atn;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Mopt.Grammar;

namespace Mopt.Protobuf;

/// <summary>
/// Protocol Buffers' text format (Caffe's .prototxt, TensorFlow's .pbtxt) for any Google.Protobuf message: read through
/// the message's descriptor, written as protobuf's own TextFormat prints it. Reading what <see cref="Format"/> wrote gives
/// an equal message. Bad text throws <see cref="ProtoTextException"/> (file:line:col).
/// </summary>
public static class ProtoText
{
    /// <summary>A new <typeparamref name="T"/> filled from <paramref name="text"/>; <paramref name="fileName"/> names it in errors.</summary>
    public static T Parse<T>(string text, string fileName = "<string>") where T : IMessage<T>, new()
    {
        var message = new T();
        Merge(message, text, fileName);
        return message;
    }

    /// <summary>A new message of <paramref name="descriptor"/>'s type filled from <paramref name="text"/>.</summary>
    public static IMessage Parse(MessageDescriptor descriptor, string text, string fileName = "<string>")
    {
        var parser = descriptor.Parser ?? throw new ArgumentException($"'{descriptor.FullName}' has no parser (a map entry is not a message of its own)");
        var message = parser.ParseFrom(ReadOnlySpan<byte>.Empty);
        Merge(message, text, fileName);
        return message;
    }

    /// <summary>
    /// Adds the fields of <paramref name="text"/> to <paramref name="message"/>: a repeated field gets more elements, a
    /// singular one is replaced (a message field is merged into).
    /// </summary>
    public static void Merge(IMessage message, string text, string fileName = "<string>") =>
        Lend(message.Descriptor, text.AsMemory(), fileName, message, static (message, wire, depth) =>
        {
            // The generated parser, from the text's wire bytes: the merge rules above are the binary format's own. Each
            // level of the text is at most two of the bytes' (a map entry and its value).
            if (2 * depth < DefaultRecursionLimit) message.MergeFrom(wire.Span);
            else
            {
                using var input = CodedInputStream.CreateWithLimits(new MemoryStream(wire.ToArray(), writable: false), int.MaxValue, 2 * depth + 1);
                message.MergeFrom(input);
            }
            return true;
        });

    /// <summary>
    /// The wire bytes (protobuf's binary encoding) of the <paramref name="descriptor"/> message that <paramref name="text"/>
    /// holds, with the errors of <see cref="Parse{T}"/>: what a reader of the binary format takes as it is. The fields are
    /// in the text's order, a list's items each with its tag (unpacked): parsed, it is the message <see cref="Parse{T}"/>
    /// makes, though its bytes may differ from what that message would be written as.
    /// </summary>
    public static byte[] ToWire(MessageDescriptor descriptor, string text, string fileName = "<string>") =>
        Lend(descriptor, text.AsMemory(), fileName, 0, static (_, wire, _) => wire.ToArray());

    /// <summary>
    /// <paramref name="use"/> of the wire bytes of <see cref="ToWire"/>, lent for the call from a pooled buffer (no
    /// array per text): what keeps any of them must copy it.
    /// </summary>
    public static TResult WithWire<TState, TResult>(MessageDescriptor descriptor, string text, string fileName, TState state,
        Func<TState, ReadOnlyMemory<byte>, TResult> use) =>
        WithWire(descriptor, text.AsMemory(), fileName, state, use);

    /// <summary>
    /// <see cref="WithWire{TState, TResult}(MessageDescriptor, string, string, TState, Func{TState, ReadOnlyMemory{byte}, TResult})"/>
    /// of text that is only lent for the call (a file's text in a pooled buffer: no string per file read).
    /// </summary>
    public static TResult WithWire<TState, TResult>(MessageDescriptor descriptor, ReadOnlyMemory<char> text, string fileName, TState state,
        Func<TState, ReadOnlyMemory<byte>, TResult> use) =>
        Lend(descriptor, text, fileName, (state, use), static (s, wire, _) => s.use(s.state, wire));

    /// <summary>Google.Protobuf's default limit on the nesting of messages it parses.</summary>
    private const int DefaultRecursionLimit = 100;

    /// <summary><paramref name="use"/> of the text's bytes and the deepest nesting of its messages.</summary>
    private static TResult Lend<TState, TResult>(MessageDescriptor descriptor, ReadOnlyMemory<char> text, string fileName, TState state,
        Func<TState, ReadOnlyMemory<byte>, int, TResult> use)
    {
        var source = new TextSource(fileName, text);
        var transcoder = new TextTranscoder(source);
        try
        {
            ReadOnlyMemory<byte> wire;
            // One pass over the text writes the bytes; only bad text meets the generated parser, which reports a syntax
            // error anywhere in the text before any error of meaning, as reading the whole parse tree first would.
            try { wire = transcoder.Transcode(descriptor); }
            catch (ProtoTextException)
            {
                CheckSyntax(source);
                throw;
            }
            catch (TextNotInGrammarException e)
            {
                CheckSyntax(source);
                var (line, column, _) = source.Position(e.Index);
                throw new InvalidOperationException($"{fileName}:{line}:{column + 1}: the text format's scanner refused text its grammar accepts");
            }
            return use(state, wire, transcoder.MaxDepth);
        }
        finally { transcoder.Release(); }
    }

    /// <summary>Runs grammar/ProtoText.g4's parser over the text: its first syntax error, if any, thrown at its place.</summary>
    private static void CheckSyntax(TextSource source)
    {
        var lexer = new ProtoTextLexer(CharStreams.fromString(source.Text.ToString()));
        lexer.RemoveErrorListeners();
        var parser = new ProtoTextParser(new CommonTokenStream(lexer));
        parser.RemoveErrorListeners();
        parser.AddErrorListener(new SyntaxErrorListener(source));
        // The grammar is LL(1): SLL prediction is exact for it and faster.
        parser.Interpreter.PredictionMode = PredictionMode.SLL;
        parser.textMessage();
    }

    /// <summary>
    /// The message as protobuf's TextFormat prints it: fields in number order, 2-space indentation, <c>name: value</c> and
    /// <c>name {</c> blocks, enums by name, strings C-escaped, map entries sorted by key; floats in the shortest form that
    /// reads back to the same value.
    /// </summary>
    public static string Format(IMessage message)
    {
        var text = new System.Text.StringBuilder();
        new MessagePrinter(text).Print(message, 0);
        return text.ToString();
    }

    /// <summary>
    /// <see cref="Format(IMessage)"/> of <paramref name="message"/> with <paramref name="elements"/> added to its repeated
    /// message field <paramref name="field"/>, each given as its <see cref="CanonicalWire"/> bytes and printed from them
    /// (a net's layers, without a message object each). <paramref name="field"/> is printed last, so the message may set
    /// no field numbered above it.
    /// </summary>
    public static string Format(IMessage message, FieldDescriptor field, IReadOnlyList<ReadOnlyMemory<byte>> elements)
    {
        if (field.ContainingType != message.Descriptor || !field.IsRepeated || field.FieldType != FieldType.Message || field.IsMap)
            throw new ArgumentException($"'{field.FullName}' is not a repeated message field of {message.Descriptor.FullName}", nameof(field));
        foreach (var other in message.Descriptor.Fields.InFieldNumberOrder())
            if (other.FieldNumber >= field.FieldNumber && (other.IsRepeated ? ((System.Collections.ICollection)other.Accessor.GetValue(message)).Count > 0 : other.Accessor.HasValue(message)))
                throw new ArgumentException($"{message.Descriptor.FullName}.{other.Name} is set: the elements of '{field.Name}' would not be printed last", nameof(message));
        var text = new System.Text.StringBuilder();
        var printer = new MessagePrinter(text);
        printer.Print(message, 0);
        for (int i = 0; i < elements.Count; i++)
        {
            text.Append(field.Name).Append(" {\n");
            printer.PrintCanonical(field.MessageType, elements[i].Span, 2);
            text.Append("}\n");
        }
        return text.ToString();
    }
}
