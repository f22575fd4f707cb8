// OnnxProto: the few messages of ONNX's onnx.proto that an exported policy needs, written with Google.Protobuf's
// CodedOutputStream (write-only, managed: no generated code, no protoc, no native library).
//
// Field numbers and enum values are onnx.proto's (github.com/onnx/onnx, onnx/onnx.proto3, IR version 7 and later):
//   ModelProto          ir_version 1, producer_name 2, producer_version 3, domain 4, model_version 5, doc_string 6,
//                       graph 7, opset_import 8, metadata_props 14
//   OperatorSetIdProto  domain 1, version 2            StringStringEntryProto  key 1, value 2
//   GraphProto          node 1, name 2, initializer 5, doc_string 10, input 11, output 12
//   NodeProto           input 1, output 2, name 3, op_type 4, attribute 5, doc_string 6, domain 7
//   AttributeProto      name 1, f 2, i 3, floats 7, ints 8, type 20 (AttributeType FLOAT 1, INT 2, FLOATS 6, INTS 7)
//   TensorProto         dims 1, data_type 2 (DataType FLOAT 1, INT64 7), name 8, raw_data 9 (little-endian)
//   ValueInfoProto      name 1, type 2, doc_string 3
//   TypeProto           tensor_type 1;  TypeProto.Tensor  elem_type 1, shape 2
//   TensorShapeProto    dim 1;  TensorShapeProto.Dimension  dim_value 1, dim_param 2
// Repeated scalars (dims, ints, floats) are written one tag per element, as proto2's onnx.proto declares them
// (unpacked); every protobuf parser accepts that form.
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Google.Protobuf;

namespace Tiny.Rl.Onnx;

/// <summary>A message that writes its fields to a protobuf stream.</summary>
internal abstract class OnnxMessage
{
    /// <summary>Writes this message's fields (not a length prefix).</summary>
    public abstract void WriteTo(CodedOutputStream o);

    /// <summary>The message's wire bytes.</summary>
    public byte[] ToByteArray()
    {
        using var ms = new MemoryStream();
        using (var o = new CodedOutputStream(ms, leaveOpen: true)) WriteTo(o);   // Dispose flushes
        return ms.ToArray();
    }

    // Proto3 semantics: a scalar at its default (0, "") is not written.
    protected static void Message(CodedOutputStream o, int field, OnnxMessage? m)
    {
        if (m is null) return;
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteBytes(UnsafeByteOperations.UnsafeWrap(m.ToByteArray()));
    }

    protected static void Messages(CodedOutputStream o, int field, IEnumerable<OnnxMessage> ms)
    {
        foreach (var m in ms) Message(o, field, m);
    }

    protected static void String(CodedOutputStream o, int field, string? s)
    {
        if (string.IsNullOrEmpty(s)) return;
        o.WriteTag(field, WireFormat.WireType.LengthDelimited);
        o.WriteString(s);
    }

    protected static void Int64(CodedOutputStream o, int field, long v)
    {
        if (v == 0) return;
        o.WriteTag(field, WireFormat.WireType.Varint);
        o.WriteInt64(v);
    }
}

/// <summary>ModelProto: the file's top-level message.</summary>
internal sealed class ModelProto : OnnxMessage
{
    public long IrVersion { get; init; }
    public List<OperatorSetIdProto> OpsetImport { get; } = [];
    public string ProducerName { get; init; } = "";
    public string ProducerVersion { get; init; } = "";
    public string Domain { get; init; } = "";
    public long ModelVersion { get; init; }
    public string DocString { get; init; } = "";
    public GraphProto? Graph { get; init; }
    public List<StringStringEntryProto> MetadataProps { get; } = [];

    public override void WriteTo(CodedOutputStream o)
    {
        Int64(o, 1, IrVersion);
        String(o, 2, ProducerName);
        String(o, 3, ProducerVersion);
        String(o, 4, Domain);
        Int64(o, 5, ModelVersion);
        String(o, 6, DocString);
        Message(o, 7, Graph);
        Messages(o, 8, OpsetImport);
        Messages(o, 14, MetadataProps);
    }
}

/// <summary>OperatorSetIdProto: an operator set the model's nodes bind against ("" = the default ai.onnx domain).</summary>
internal sealed class OperatorSetIdProto : OnnxMessage
{
    public string Domain { get; init; } = "";
    public long Version { get; init; }

    public override void WriteTo(CodedOutputStream o)
    {
        String(o, 1, Domain);
        Int64(o, 2, Version);
    }
}

/// <summary>StringStringEntryProto: one key/value pair (model metadata).</summary>
internal sealed class StringStringEntryProto : OnnxMessage
{
    public string Key { get; init; } = "";
    public string Value { get; init; } = "";

    public override void WriteTo(CodedOutputStream o)
    {
        String(o, 1, Key);
        String(o, 2, Value);
    }
}

/// <summary>GraphProto: nodes in topological order, constant tensors (initializers), inputs and outputs.</summary>
internal sealed class GraphProto : OnnxMessage
{
    public List<NodeProto> Node { get; } = [];
    public string Name { get; init; } = "";
    public List<TensorProto> Initializer { get; } = [];
    public string DocString { get; init; } = "";
    public List<ValueInfoProto> Input { get; } = [];
    public List<ValueInfoProto> Output { get; } = [];

    public override void WriteTo(CodedOutputStream o)
    {
        Messages(o, 1, Node);
        String(o, 2, Name);
        Messages(o, 5, Initializer);
        String(o, 10, DocString);
        Messages(o, 11, Input);
        Messages(o, 12, Output);
    }
}

/// <summary>NodeProto: one operator call, its inputs and outputs named values of the graph.</summary>
internal sealed class NodeProto : OnnxMessage
{
    public List<string> Input { get; } = [];
    public List<string> Output { get; } = [];
    public string Name { get; init; } = "";
    public string OpType { get; init; } = "";
    public List<AttributeProto> Attribute { get; } = [];
    public string DocString { get; init; } = "";
    public string Domain { get; init; } = "";

    public override void WriteTo(CodedOutputStream o)
    {
        // A repeated string keeps empty entries: "" marks an optional input left out.
        foreach (var s in Input) { o.WriteTag(1, WireFormat.WireType.LengthDelimited); o.WriteString(s); }
        foreach (var s in Output) { o.WriteTag(2, WireFormat.WireType.LengthDelimited); o.WriteString(s); }
        String(o, 3, Name);
        String(o, 4, OpType);
        Messages(o, 5, Attribute);
        String(o, 6, DocString);
        String(o, 7, Domain);
    }
}

/// <summary>AttributeProto: a named int, float or list of ints/floats; Type says which (IR 2 and later require it).</summary>
internal sealed class AttributeProto : OnnxMessage
{
    /// <summary>AttributeProto.AttributeType values.</summary>
    public const int Float = 1, Int = 2, Floats = 6, Ints = 7;

    public string Name { get; init; } = "";
    public int Type { get; init; }
    public float F { get; init; }
    public long I { get; init; }
    public float[] FloatList { get; init; } = [];
    public long[] IntList { get; init; } = [];

    public static AttributeProto OfInt(string name, long v) => new() { Name = name, Type = Int, I = v };
    public static AttributeProto OfInts(string name, params long[] v) => new() { Name = name, Type = Ints, IntList = v };
    public static AttributeProto OfFloat(string name, float v) => new() { Name = name, Type = Float, F = v };

    public override void WriteTo(CodedOutputStream o)
    {
        String(o, 1, Name);
        // The value field of the declared type is written even when it is 0: it is the attribute's value.
        if (Type == Float) { o.WriteTag(2, WireFormat.WireType.Fixed32); o.WriteFloat(F); }
        if (Type == Int) { o.WriteTag(3, WireFormat.WireType.Varint); o.WriteInt64(I); }
        if (Type == Floats) foreach (var f in FloatList) { o.WriteTag(7, WireFormat.WireType.Fixed32); o.WriteFloat(f); }
        if (Type == Ints) foreach (var i in IntList) { o.WriteTag(8, WireFormat.WireType.Varint); o.WriteInt64(i); }
        Int64(o, 20, Type);
    }
}

/// <summary>TensorProto: a named constant, its elements in raw_data (row-major, little-endian).</summary>
internal sealed class TensorProto : OnnxMessage
{
    /// <summary>TensorProto.DataType values.</summary>
    public const int FloatType = 1, Int64Type = 7;

    public long[] Dims { get; init; } = [];
    public int DataType { get; init; }
    public string Name { get; init; } = "";
    public byte[] RawData { get; init; } = [];

    /// <summary>A float32 tensor of the given shape.</summary>
    public static TensorProto OfFloats(string name, ReadOnlySpan<float> data, params long[] dims)
    {
        var raw = new byte[data.Length * sizeof(float)];
        if (BitConverter.IsLittleEndian) MemoryMarshal.AsBytes(data).CopyTo(raw);
        else for (int i = 0; i < data.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(i * 4), data[i]);
        return new TensorProto { Name = name, DataType = FloatType, Dims = dims, RawData = raw };
    }

    /// <summary>An int64 tensor of the given shape (shapes for Reshape).</summary>
    public static TensorProto OfInt64s(string name, ReadOnlySpan<long> data, params long[] dims)
    {
        var raw = new byte[data.Length * sizeof(long)];
        for (int i = 0; i < data.Length; i++) BinaryPrimitives.WriteInt64LittleEndian(raw.AsSpan(i * 8), data[i]);
        return new TensorProto { Name = name, DataType = Int64Type, Dims = dims, RawData = raw };
    }

    public override void WriteTo(CodedOutputStream o)
    {
        foreach (var d in Dims) { o.WriteTag(1, WireFormat.WireType.Varint); o.WriteInt64(d); }
        Int64(o, 2, DataType);
        String(o, 8, Name);
        if (RawData.Length > 0) { o.WriteTag(9, WireFormat.WireType.LengthDelimited); o.WriteBytes(UnsafeByteOperations.UnsafeWrap(RawData)); }
    }
}

/// <summary>ValueInfoProto: a graph input or output: its name and tensor type (element type and shape).</summary>
internal sealed class ValueInfoProto : OnnxMessage
{
    public string Name { get; init; } = "";
    public int ElemType { get; init; } = TensorProto.FloatType;
    /// <summary>The shape: a long is a fixed size, a string a symbolic one (dim_param, e.g. "batch").</summary>
    public object[] Shape { get; init; } = [];
    public string DocString { get; init; } = "";

    public override void WriteTo(CodedOutputStream o)
    {
        String(o, 1, Name);
        Message(o, 2, new TypeProto(ElemType, Shape));
        String(o, 3, DocString);
    }

    // TypeProto { tensor_type 1: TypeProto.Tensor { elem_type 1, shape 2: TensorShapeProto { dim 1: Dimension } } }
    private sealed class TypeProto(int elemType, object[] shape) : OnnxMessage
    {
        public override void WriteTo(CodedOutputStream o) => Message(o, 1, new TensorType(elemType, shape));
    }

    private sealed class TensorType(int elemType, object[] shape) : OnnxMessage
    {
        public override void WriteTo(CodedOutputStream o)
        {
            Int64(o, 1, elemType);
            Message(o, 2, new TensorShape(shape));
        }
    }

    private sealed class TensorShape(object[] dims) : OnnxMessage
    {
        public override void WriteTo(CodedOutputStream o)
        {
            foreach (var d in dims) Message(o, 1, new Dimension(d));
        }
    }

    private sealed class Dimension(object d) : OnnxMessage
    {
        public override void WriteTo(CodedOutputStream o)
        {
            if (d is string param) String(o, 2, param);
            else { o.WriteTag(1, WireFormat.WireType.Varint); o.WriteInt64(Convert.ToInt64(d, System.Globalization.CultureInfo.InvariantCulture)); }
        }
    }
}
