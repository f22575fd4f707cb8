// Safetensors: reading and writing named tensors in the safetensors format (PyTorch's loader reads our files).
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace Tiny.Nn;

/// <summary>
/// The safetensors format: 8-byte little-endian header length N, N bytes of JSON header
/// {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}}, then raw
/// little-endian data.
/// </summary>
public static class Safetensors
{
    /// <summary>Writes named tensors (and optional string metadata) to path atomically (temp file + rename).</summary>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        Save(path, tensors.Select(kv => new Blob(kv.Key, kv.Value.DType, kv.Value.Shape.ToArray(), fs =>
        {
            // One tensor at a time through the host, so a large model is never copied whole.
            if (kv.Value.DType == DType.Float32) fs.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(kv.Value.ToArray().AsSpan()));
            else fs.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(kv.Value.ToDoubleArray().AsSpan()));
        })).ToList(), metadata);

    /// <summary>One named entry to write: its dtype, shape, and a callback writing exactly its little-endian bytes
    /// (e.g. a slice of a host array, with no copy).</summary>
    /// <param name="Name">The tensor's name in the file.</param>
    /// <param name="DType">Float32 (F32) or Float64 (F64).</param>
    /// <param name="Shape">Its shape; the callback writes product(Shape) elements.</param>
    /// <param name="Write">Writes the data to the stream.</param>
    public sealed record Blob(string Name, DType DType, int[] Shape, Action<Stream> Write);

    /// <summary>Writes named blobs (and optional metadata) to path atomically (temp file + rename); a blob whose
    /// callback writes another number of bytes than its shape says fails the save and leaves path untouched.</summary>
    public static void Save(string path, IReadOnlyList<Blob> blobs, IReadOnlyDictionary<string, string>? metadata = null)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Safetensors: big-endian hosts are not supported");
        var header = new Dictionary<string, object>();
        if (metadata is { Count: > 0 }) header["__metadata__"] = metadata;
        long offset = 0;
        var lengths = new long[blobs.Count];
        for (int k = 0; k < blobs.Count; k++)
        {
            var b = blobs[k];
            lengths[k] = b.Shape.Aggregate(1L, (a, x) => a * x) * b.DType.Size();
            header[b.Name] = new Dictionary<string, object>
            {
                ["dtype"] = b.DType == DType.Float32 ? "F32" : "F64",
                ["shape"] = b.Shape,
                ["data_offsets"] = new[] { offset, offset + lengths[k] },
            };
            offset += lengths[k];
        }
        var json = JsonSerializer.SerializeToUtf8Bytes(header);
        int pad = (8 - json.Length % 8) % 8;   // align data to 8 bytes with trailing spaces, as the reference writer does
        var headerBytes = new byte[json.Length + pad];
        json.CopyTo(headerBytes, 0);
        for (int i = json.Length; i < headerBytes.Length; i++) headerBytes[i] = (byte)' ';
        string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        string tmp = path + ".tmp";
        try
        {
            using (var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write))
            {
                Span<byte> len8 = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(len8, (ulong)headerBytes.Length);
                fs.Write(len8);
                fs.Write(headerBytes);
                for (int k = 0; k < blobs.Count; k++)
                {
                    long before = fs.Position;
                    blobs[k].Write(fs);
                    if (fs.Position - before != lengths[k])
                        throw new InvalidOperationException($"Safetensors: '{blobs[k].Name}' wrote {fs.Position - before} bytes, its shape needs {lengths[k]}");
                }
            }
            File.Move(tmp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    /// <summary>A tensor read from a file.</summary>
    public sealed record Entry(string Name, DType DType, int[] Shape, Array Data);

    /// <summary>Reads every tensor and the metadata; throws InvalidDataException naming what is wrong.</summary>
    public static (List<Entry> Tensors, Dictionary<string, string> Metadata) Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"safetensors: file not found: {path}", path);
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8) throw new InvalidDataException($"safetensors: {path} is truncated ({bytes.Length} bytes, no header length)");
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (n > (ulong)(bytes.Length - 8)) throw new InvalidDataException($"safetensors: {path} header length {n} exceeds the file size {bytes.Length}");
        JsonDocument doc;
        try { doc = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, (int)n)); }
        catch (JsonException e) { throw new InvalidDataException($"safetensors: {path} has a corrupt JSON header: {e.Message}"); }
        var result = new List<Entry>();
        var meta = new Dictionary<string, string>();
        long dataStart = 8 + (long)n, dataLen = bytes.Length - dataStart;
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"safetensors: {path} header is not a JSON object");
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "__metadata__")
                {
                    foreach (var m in prop.Value.EnumerateObject()) meta[m.Name] = m.Value.GetString() ?? "";
                    continue;
                }
                try
                {
                    string dt = prop.Value.GetProperty("dtype").GetString() ?? "";
                    var shape = prop.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
                    var offs = prop.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                    long numel = shape.Aggregate(1L, (a, b) => a * b);
                    int size = dt switch { "F32" => 4, "F64" => 8, _ => throw new InvalidDataException($"safetensors: {path}: tensor '{prop.Name}' has unsupported dtype {dt} (F32, F64 supported)") };
                    if (offs.Length != 2 || offs[0] < 0 || offs[1] < offs[0] || offs[1] > dataLen)
                        throw new InvalidDataException($"safetensors: {path}: tensor '{prop.Name}' data_offsets [{string.Join(", ", offs)}] lie outside the {dataLen} data bytes (file truncated?)");
                    if (offs[1] - offs[0] != numel * size)
                        throw new InvalidDataException($"safetensors: {path}: tensor '{prop.Name}' has {offs[1] - offs[0]} bytes for shape [{string.Join(", ", shape)}] ({numel * size} expected)");
                    var src = bytes.AsSpan((int)(dataStart + offs[0]), (int)(offs[1] - offs[0]));
                    Array data = size == 4 ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(src).ToArray()
                                           : System.Runtime.InteropServices.MemoryMarshal.Cast<byte, double>(src).ToArray();
                    result.Add(new Entry(prop.Name, size == 4 ? DType.Float32 : DType.Float64, shape, data));
                }
                catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
                {
                    throw new InvalidDataException($"safetensors: {path}: tensor '{prop.Name}' has a malformed header entry ({e.Message})");
                }
            }
        }
        return (result, meta);
    }

    /// <summary>
    /// Loads a file into existing named parameters. Every name must be present with the same shape; dtypes are
    /// converted. All checks run before any parameter is written, so a bad file leaves them unchanged.
    /// </summary>
    public static void LoadInto(string path, IReadOnlyList<KeyValuePair<string, Tensor>> targets)
    {
        var (entries, _) = Read(path);
        var byName = entries.ToDictionary(e => e.Name);
        var missing = targets.Where(t => !byName.ContainsKey(t.Key)).Select(t => t.Key).ToList();
        var extra = byName.Keys.Except(targets.Select(t => t.Key)).ToList();
        if (missing.Count > 0 || extra.Count > 0)
            throw new InvalidDataException($"safetensors: {path} does not match the module: missing [{string.Join(", ", missing)}], unexpected [{string.Join(", ", extra)}]");
        var staged = new List<(Tensor Target, Tensor Value)>();
        foreach (var (name, t) in targets)
        {
            var e = byName[name];
            if (!t.Shape.ToArray().AsSpan().SequenceEqual(e.Shape))
                throw new InvalidDataException($"safetensors: {path}: '{name}' has shape [{string.Join(", ", e.Shape)}] in the file but {t.Shape} in the module");
            var v = e.Data is float[] f ? Tensor.FromArray(f, e.Shape) : Tensor.FromArray((double[])e.Data, e.Shape);
            staged.Add((t, v));
        }
        using var _ = Tensor.NoGrad();
        foreach (var (t, v) in staged) t.CopyFrom(v);
    }
}
