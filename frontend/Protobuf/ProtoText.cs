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
        var message = MessageFiller.NewMessage(descriptor);
        Merge(message, text, fileName);
        return message;
    }

    /// <summary>
    /// Adds the fields of <paramref name="text"/> to <paramref name="message"/>: a repeated field gets more elements, a
    /// singular one is replaced (a message field is merged into).
    /// </summary>
    public static void Merge(IMessage message, string text, string fileName = "<string>")
    {
        var source = new TextSource(fileName, text);
        // One pass over the text fills the message; only bad text meets the generated parser, which reports a syntax
        // error anywhere in the text before any error of meaning, as reading the whole parse tree first would.
        try { new MessageFiller(source).Fill(message); }
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
    }

    /// <summary>Runs grammar/ProtoText.g4's parser over the text: its first syntax error, if any, thrown at its place.</summary>
    private static void CheckSyntax(TextSource source)
    {
        var lexer = new ProtoTextLexer(CharStreams.fromString(source.Text));
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
}
