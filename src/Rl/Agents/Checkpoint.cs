// Checkpoint: the resumable state of a training run in progress, written as DIR/checkpoint.safetensors (optimizer
// buffers, replay buffer: the large arrays) and DIR/checkpoint.json (counters, generators, env and optimizer scalars).
using System.Runtime.InteropServices;
using Tiny.Nn;
using Tiny.Optim;

namespace Tiny.Rl;

/// <summary>
/// Collects what an agent saves to resume exactly: named arrays (exact float32/float64 bits in safetensors) and JSON
/// values (<see cref="StateJson"/>'s exact encoding). <see cref="Save"/> writes both files, each atomically.
/// </summary>
public sealed class CheckpointWriter
{
    private readonly List<Safetensors.Blob> _blobs = [];

    /// <summary>The JSON half of the checkpoint (agents add their counters, generators and env state).</summary>
    public JsonObject Json { get; } = new();

    /// <summary>Adds the first <paramref name="rows"/> rows of a [*, cols] float array (no copy until written).</summary>
    public void Add(string name, float[] data, int rows, int cols)
    {
        if ((long)rows * cols > data.Length) throw new ArgumentException($"checkpoint: '{name}' has {data.Length} floats, fewer than {rows} x {cols}");
        _blobs.Add(new(name, DType.Float32, [rows, cols], s => s.Write(MemoryMarshal.AsBytes(data.AsSpan(0, rows * cols)))));
    }

    /// <summary>Adds a double array.</summary>
    public void Add(string name, double[] data) =>
        _blobs.Add(new(name, DType.Float64, [data.Length], s => s.Write(MemoryMarshal.AsBytes(data.AsSpan()))));

    /// <summary>
    /// Adds an optimizer's whole state: its buffers as arrays "{name}.{param}.{buffer}" and, under Json[name], each
    /// group's lr and scalars and each parameter's step and scalars (what <see cref="Optimizer.StateDict"/> holds).
    /// </summary>
    public void Add(string name, Optimizer optimizer)
    {
        var d = optimizer.StateDict();
        var groups = new JsonArray();
        foreach (var (g, group) in d.Groups.Zip(optimizer.ParamGroups))
            groups.Add(new JsonObject { ["lr"] = StateJson.Num(group.Lr), ["initial_lr"] = StateJson.Num(g.InitialLr), ["scalars"] = Scalars(g.Scalars) });
        var state = new JsonArray();
        foreach (var e in d.State)
        {
            foreach (var (key, values) in e.Buffers) Add($"{name}.{e.Param}.{key}", values);
            state.Add(new JsonObject
            {
                ["param"] = e.Param, ["step"] = e.Step, ["float32"] = e.Float32, ["scalars"] = Scalars(e.Scalars),
                ["buffers"] = new JsonArray(e.Buffers.Keys.Select(k => (JsonNode)k).ToArray()),
            });
        }
        Json[name] = new JsonObject { ["groups"] = groups, ["state"] = state };
    }

    private static JsonObject Scalars(Dictionary<string, double> scalars)
    {
        var o = new JsonObject();
        foreach (var (k, v) in scalars) o[k] = StateJson.Num(v);
        return o;
    }

    /// <summary>Writes DIR/checkpoint.safetensors and DIR/checkpoint.json (each to a temporary name, then renamed).</summary>
    public void Save(string dir)
    {
        Directory.CreateDirectory(dir);
        Safetensors.Save(Path.Combine(dir, CheckpointReader.TensorsFile), _blobs);
        string json = Path.Combine(dir, CheckpointReader.JsonFile);
        File.WriteAllText(json + ".tmp", Json.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        File.Move(json + ".tmp", json, overwrite: true);
    }
}

/// <summary>Reads what a <see cref="CheckpointWriter"/> saved; every problem is an <see cref="InvalidDataException"/>
/// naming the file and the entry.</summary>
public sealed class CheckpointReader
{
    /// <summary>The arrays' file name in a checkpoint folder.</summary>
    public const string TensorsFile = "checkpoint.safetensors";
    /// <summary>The JSON file name in a checkpoint folder.</summary>
    public const string JsonFile = "checkpoint.json";

    private readonly Dictionary<string, Safetensors.Entry> _arrays;
    private readonly string _dir;

    private CheckpointReader(string dir, Dictionary<string, Safetensors.Entry> arrays, JsonObject json)
    {
        _dir = dir; _arrays = arrays; Json = json;
    }

    /// <summary>The JSON half.</summary>
    public JsonObject Json { get; }

    /// <summary>Whether DIR holds a checkpoint (both files).</summary>
    public static bool Exists(string dir) => File.Exists(Path.Combine(dir, TensorsFile)) && File.Exists(Path.Combine(dir, JsonFile));

    /// <summary>Reads DIR's checkpoint.</summary>
    public static CheckpointReader Open(string dir)
    {
        string json = Path.Combine(dir, JsonFile);
        if (!Exists(dir)) throw new FileNotFoundException($"{dir} holds no checkpoint ({TensorsFile} and {JsonFile})");
        JsonObject o;
        try { o = JsonNode.Parse(File.ReadAllText(json)) as JsonObject ?? throw new InvalidDataException($"{json} is not a JSON object"); }
        catch (System.Text.Json.JsonException e) { throw new InvalidDataException($"{json} is corrupt: {e.Message}"); }
        var (entries, _) = Safetensors.Read(Path.Combine(dir, TensorsFile));
        return new CheckpointReader(dir, entries.ToDictionary(e => e.Name), o);
    }

    private Safetensors.Entry Entry(string name) =>
        _arrays.GetValueOrDefault(name) ?? throw new InvalidDataException($"{Path.Combine(_dir, TensorsFile)} has no '{name}'");

    /// <summary>The float array saved as name, with its row count (shape [rows, cols] with cols as expected).</summary>
    public (float[] Data, int Rows) Floats(string name, int cols)
    {
        var e = Entry(name);
        if (e.Data is not float[] f || e.Shape.Length != 2 || e.Shape[1] != cols)
            throw new InvalidDataException($"{Path.Combine(_dir, TensorsFile)}: '{name}' is {e.DType} [{string.Join(", ", e.Shape)}], not float32 [*, {cols}]");
        return (f, e.Shape[0]);
    }

    /// <summary>The double array saved as name.</summary>
    public double[] Doubles(string name) =>
        Entry(name).Data as double[] ?? throw new InvalidDataException($"{Path.Combine(_dir, TensorsFile)}: '{name}' is not float64");

    /// <summary>Restores an optimizer saved by <see cref="CheckpointWriter.Add(string, Optimizer)"/> under name; the
    /// optimizer must be built from the same spec over the same parameters.</summary>
    public void Load(string name, Optimizer optimizer)
    {
        var o = StateJson.Object(Json, name);
        var groups = StateJson.Get(o, "groups") as JsonArray ?? throw new InvalidDataException($"checkpoint: '{name}.groups' is not an array");
        if (groups.Count != optimizer.ParamGroups.Count)
            throw new InvalidDataException($"checkpoint: '{name}' has {groups.Count} parameter groups, the optimizer {optimizer.ParamGroups.Count}");
        var d = new OptimizerStateDict();
        int first = 0;
        for (int k = 0; k < groups.Count; k++)
        {
            var g = groups[k]!.AsObject();
            var group = optimizer.ParamGroups[k];
            d.Groups.Add(new OptimizerStateDict.GroupEntry
            {
                Params = Enumerable.Range(first, group.Params.Count).ToList(),
                Options = group.Options with { Lr = StateJson.Double(g, "lr") },
                InitialLr = StateJson.Double(g, "initial_lr"),
                Scalars = ReadScalars(StateJson.Object(g, "scalars")),
            });
            first += group.Params.Count;
        }
        foreach (var node in StateJson.Get(o, "state") as JsonArray ?? [])
        {
            var e = node!.AsObject();
            int param = StateJson.Int(e, "param");
            var entry = new OptimizerStateDict.ParamStateEntry
            {
                Param = param, Step = StateJson.Long(e, "step"), Float32 = StateJson.Bool(e, "float32"),
                Scalars = ReadScalars(StateJson.Object(e, "scalars")),
            };
            foreach (var key in StateJson.Get(e, "buffers") as JsonArray ?? [])
            {
                string k = key!.GetValue<string>();
                entry.Buffers[k] = Doubles($"{name}.{param}.{k}");
            }
            d.State.Add(entry);
        }
        try { optimizer.LoadStateDict(d); }
        catch (ArgumentException e) { throw new InvalidDataException($"checkpoint: '{name}' does not fit the optimizer: {e.Message}"); }
    }

    private static Dictionary<string, double> ReadScalars(JsonObject o) => o.ToDictionary(kv => kv.Key, kv => StateJson.Double(o, kv.Key));
}
