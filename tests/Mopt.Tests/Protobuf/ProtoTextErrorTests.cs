using Google.Protobuf.Reflection;
using Mopt.Onnx.Proto;
using Mopt.Protobuf;
using Mopt.Tf.Proto;

namespace Mopt.Tests.Protobuf;

/// <summary>Each kind of bad text: its message and its exact place (file:line:col), with the line and a caret.</summary>
public sealed class ProtoTextErrorTests
{
    private static MessageDescriptor Type(string name) => name switch
    {
        "onnx.ModelProto" => ModelProto.Descriptor,
        "onnx.GraphProto" => GraphProto.Descriptor,
        "onnx.TensorProto" => Mopt.Onnx.Proto.TensorProto.Descriptor,
        "tensorflow.NodeDef" => NodeDef.Descriptor,
        "tensorflow.AttrValue" => AttrValue.Descriptor,
        "tensorflow.TensorShapeProto" => Mopt.Tf.Proto.TensorShapeProto.Descriptor,
        _ => throw new ArgumentException(name),
    };

    [Theory]
    // a field the message does not have, at the top and nested
    [InlineData("onnx.GraphProto", "nodes { }", "net.prototxt:1:1: error: message 'onnx.GraphProto' has no field 'nodes'")]
    [InlineData("onnx.GraphProto", "node {\n  op_typ: \"Conv\"\n}", "net.prototxt:2:3: error: message 'onnx.NodeProto' has no field 'op_typ'")]
    // a value of the wrong kind
    [InlineData("onnx.GraphProto", "name: 5", "net.prototxt:1:7: error: field 'name' of 'onnx.GraphProto' is a string: it takes a quoted string, not '5'")]
    [InlineData("onnx.GraphProto", "name: Conv", "net.prototxt:1:7: error: field 'name' of 'onnx.GraphProto' is a string: it takes a quoted string, not 'Conv'")]
    [InlineData("onnx.GraphProto", "node: \"x\"", "net.prototxt:1:7: error: field 'node' of 'onnx.GraphProto' is a message (onnx.NodeProto): write 'node { ... }', not \"x\"")]
    [InlineData("onnx.GraphProto", "name { }", "net.prototxt:1:6: error: field 'name' of 'onnx.GraphProto' is a string, not a message: write 'name: value'")]
    [InlineData("onnx.ModelProto", "ir_version: 1.5", "net.prototxt:1:13: error: field 'ir_version' of 'onnx.ModelProto' is an int64: it takes an integer, not '1.5'")]
    [InlineData("onnx.TensorProto", "float_data: \"1\"", "net.prototxt:1:13: error: field 'float_data' of 'onnx.TensorProto' is a float: it takes a number, not \"1\"")]
    [InlineData("tensorflow.TensorShapeProto", "unknown_rank: yes", "net.prototxt:1:15: error: field 'unknown_rank' of 'tensorflow.TensorShapeProto' is a bool: it takes true or false, not 'yes'")]
    [InlineData("onnx.TensorProto", "int32_data: 2147483648", "net.prototxt:1:13: error: '2147483648' is out of range for field 'int32_data' of 'onnx.TensorProto' (an int32)")]
    [InlineData("onnx.TensorProto", "uint64_data: -1", "net.prototxt:1:14: error: '-1' is out of range for field 'uint64_data' of 'onnx.TensorProto' (a uint64)")]
    [InlineData("onnx.TensorProto", "int64_data: 99999999999999999999", "net.prototxt:1:13: error: '99999999999999999999' is out of range for field 'int64_data' of 'onnx.TensorProto' (an int64)")]
    [InlineData("onnx.ModelProto", "ir_version: 09", "net.prototxt:1:13: error: '09' is not an octal number (an integer with a leading 0 is octal)")]
    [InlineData("onnx.GraphProto", "name: \"\\377\"", "net.prototxt:1:7: error: string field 'name' of 'onnx.GraphProto' is given bytes that are not UTF-8")]
    // an enum value that does not exist
    [InlineData("tensorflow.AttrValue", "type: DT_FLOATX", "net.prototxt:1:7: error: enum 'tensorflow.DataType' (field 'type' of 'tensorflow.AttrValue') has no value 'DT_FLOATX'")]
    [InlineData("tensorflow.AttrValue", "list { type: [DT_FLOAT, DT_HALFX] }", "net.prototxt:1:25: error: enum 'tensorflow.DataType' (field 'type' of 'tensorflow.AttrValue.ListValue') has no value 'DT_HALFX'")]
    [InlineData("tensorflow.AttrValue", "type: 1.0", "net.prototxt:1:7: error: field 'type' of 'tensorflow.AttrValue' is an enum (tensorflow.DataType): it takes a value name of enum 'tensorflow.DataType', not '1.0'")]
    // bad escapes, at the backslash
    [InlineData("onnx.GraphProto", "name: \"ab\\qc\"", "net.prototxt:1:10: error: invalid escape '\\q' in a string (the escapes are \\n \\t \\r \\\\ \\' \\\" \\a \\b \\f \\v \\?, \\ooo octal, \\xHH hex, \\uXXXX)")]
    [InlineData("onnx.GraphProto", "doc_string: 'ok'\n  name: \"a\" \"b\\xZ\"", "net.prototxt:2:15: error: '\\x' must be followed by hex digits")]
    [InlineData("onnx.TensorProto", "raw_data: \"\\777\"", "net.prototxt:1:12: error: octal escape '\\777' is over \\377 (a byte)")]
    [InlineData("onnx.GraphProto", "name: \"\\ud800\"", "net.prototxt:1:8: error: '\\ud800' is not a Unicode code point")]
    // unterminated string and message
    [InlineData("onnx.GraphProto", "name: \"abc\n", "net.prototxt:1:7: error: unterminated string: a string must close on the line it opens")]
    [InlineData("onnx.ModelProto", "graph {\n  node {\n    name: \"x\"\n", "net.prototxt:2:8: error: '{' is never closed: the text ends before its '}'")]
    [InlineData("onnx.ModelProto", "graph <\n  name: \"x\"", "net.prototxt:1:7: error: '<' is never closed: the text ends before its '>'")]
    [InlineData("onnx.TensorProto", "dims: [1, 2", "net.prototxt:1:7: error: '[' is never closed: the text ends before its ']'")]
    // other syntax errors
    [InlineData("onnx.GraphProto", "node { name: \"x\" >", "net.prototxt:1:18: error: unexpected '>', expected one of '[', '}', a name")]
    [InlineData("onnx.GraphProto", "name \"x\"", "net.prototxt:1:6: error: unexpected '\"x\"', expected one of ':', '[', '{', '<'")]
    [InlineData("onnx.GraphProto", "name: @", "net.prototxt:1:7: error: unexpected character '@'")]
    [InlineData("onnx.GraphProto", "name:", "net.prototxt:1:6: error: unexpected end of text, expected a value")]
    // a field given twice, two members of one oneof, a list for one value, a map entry
    [InlineData("onnx.GraphProto", "name: \"a\"\nname: \"b\"", "net.prototxt:2:1: error: field 'name' of 'onnx.GraphProto' is not repeated and is already given at 1:1")]
    [InlineData("tensorflow.AttrValue", "i: 1 f: 2", "net.prototxt:1:6: error: fields 'f' and 'i' (at 1:1) of 'tensorflow.AttrValue' are both in oneof 'value': give only one")]
    [InlineData("onnx.GraphProto", "name: [\"a\"]", "net.prototxt:1:7: error: field 'name' of 'onnx.GraphProto' is not repeated: it takes one value, not a list")]
    [InlineData("tensorflow.NodeDef", "attr { kee: \"a\" }", "net.prototxt:1:8: error: an entry of map field 'attr' of 'tensorflow.NodeDef' has only 'key' and 'value', not 'kee'")]
    [InlineData("tensorflow.NodeDef", "attr: 5", "net.prototxt:1:7: error: field 'attr' of 'tensorflow.NodeDef' is a map: write each entry as 'attr { key: ... value: ... }'")]
    [InlineData("onnx.GraphProto", "[onnx.ext]: 1", "net.prototxt:1:1: error: '[onnx.ext]' in message 'onnx.GraphProto': extensions and Any expansions are not supported")]
    public void ErrorAtItsPlace(string type, string text, string expected)
    {
        var e = Assert.Throws<ProtoTextException>(() => ProtoText.Parse(Type(type), text, "net.prototxt"));
        Assert.Equal(expected, e.Format().Split('\n')[0]);
    }

    [Fact]
    public void TheLineAndACaretFollow()
    {
        var e = Assert.Throws<ProtoTextException>(() => ProtoText.Parse<GraphProto>("node {\n\tname: 5\n}", "g.pbtxt"));
        Assert.Equal("g.pbtxt:2:8: error: field 'name' of 'onnx.NodeProto' is a string: it takes a quoted string, not '5'\n\tname: 5\n\t      ^", e.Format());
        Assert.Equal(("g.pbtxt", 2, 8, 14), (e.File, e.Line, e.Column, e.Offset));
    }
}
