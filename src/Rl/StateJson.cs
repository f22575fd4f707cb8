// StateJson: how training state (env physics, counters, generators, statistics) is written to and read back from
// JSON exactly, for checkpoints that resume bit for bit.
using System.Globalization;
using System.Text.Json.Nodes;

namespace Tiny.Rl;

/// <summary>
/// Exact JSON encodings of state values. Finite doubles and floats are JSON numbers (System.Text.Json writes the
/// shortest text that parses back to the same bits); NaN and the infinities, which JSON numbers cannot hold, are the
/// strings "NaN", "Infinity" and "-Infinity". Readers throw <see cref="InvalidDataException"/> naming the key.
/// </summary>
public static class StateJson
{
    /// <summary>A double as a JSON node, exactly.</summary>
    public static JsonNode Num(double x) => double.IsFinite(x) ? JsonValue.Create(x) : JsonValue.Create(x.ToString(CultureInfo.InvariantCulture));

    /// <summary>A double array as a JSON array, exactly.</summary>
    public static JsonArray Nums(ReadOnlySpan<double> xs)
    {
        var a = new JsonArray();
        foreach (var x in xs) a.Add(Num(x));
        return a;
    }

    /// <summary>A float array as a JSON array, exactly.</summary>
    public static JsonArray Nums(ReadOnlySpan<float> xs)
    {
        var a = new JsonArray();
        foreach (var x in xs) a.Add(float.IsFinite(x) ? JsonValue.Create(x) : JsonValue.Create(x.ToString(CultureInfo.InvariantCulture)));
        return a;
    }

    /// <summary>An int array as a JSON array.</summary>
    public static JsonArray Ints(ReadOnlySpan<int> xs)
    {
        var a = new JsonArray();
        foreach (var x in xs) a.Add(x);
        return a;
    }

    /// <summary>A generator's state as JSON.</summary>
    public static JsonObject Rng(Tiny.Rng rng)
    {
        var s = rng.State;
        return new JsonObject
        {
            ["s"] = new JsonArray(s.S0, s.S1, s.S2, s.S3),
            ["spare"] = Num(s.SpareNormal), ["has_spare"] = s.HasSpare,
        };
    }

    /// <summary>The node at key (throws naming the key when absent).</summary>
    public static JsonNode Get(JsonObject o, string key) =>
        o[key] ?? throw new InvalidDataException($"checkpoint state: '{key}' is missing");

    /// <summary>The double at key.</summary>
    public static double Double(JsonObject o, string key) => ToDouble(Get(o, key), key);

    /// <summary>The long at key.</summary>
    public static long Long(JsonObject o, string key) => Read(o, key, n => n.GetValue<long>());

    /// <summary>The int at key.</summary>
    public static int Int(JsonObject o, string key) => Read(o, key, n => n.GetValue<int>());

    /// <summary>The bool at key.</summary>
    public static bool Bool(JsonObject o, string key) => Read(o, key, n => n.GetValue<bool>());

    /// <summary>The object at key.</summary>
    public static JsonObject Object(JsonObject o, string key) => Get(o, key) as JsonObject ?? throw new InvalidDataException($"checkpoint state: '{key}' is not an object");

    /// <summary>The double array at key.</summary>
    public static double[] Doubles(JsonObject o, string key) => Array(o, key).Select(n => ToDouble(n!, key)).ToArray();

    /// <summary>The float array at key.</summary>
    public static float[] Floats(JsonObject o, string key) => Array(o, key).Select(n => (float)ToDouble(n!, key)).ToArray();

    /// <summary>The int array at key.</summary>
    public static int[] IntArray(JsonObject o, string key) => Array(o, key).Select(n => Read(n!, key, v => v.GetValue<int>())).ToArray();

    /// <summary>The generator saved at key by <see cref="Rng(Tiny.Rng)"/>.</summary>
    public static Tiny.Rng ReadRng(JsonObject o, string key)
    {
        var r = Object(o, key);
        var s = Array(r, "s").Select(n => Read(n!, key, v => v.GetValue<ulong>())).ToArray();
        if (s.Length != 4) throw new InvalidDataException($"checkpoint state: '{key}' has {s.Length} state words, not 4");
        try { return Tiny.Rng.FromState(new RngState(s[0], s[1], s[2], s[3], Double(r, "spare"), Bool(r, "has_spare"))); }
        catch (ArgumentException e) { throw new InvalidDataException($"checkpoint state: '{key}': {e.Message}"); }
    }

    private static JsonArray Array(JsonObject o, string key) => Get(o, key) as JsonArray ?? throw new InvalidDataException($"checkpoint state: '{key}' is not an array");

    private static double ToDouble(JsonNode n, string key)
    {
        if (n is JsonValue v && v.TryGetValue<string>(out var text))
            return text switch
            {
                "NaN" => double.NaN, "Infinity" => double.PositiveInfinity, "-Infinity" => double.NegativeInfinity,
                _ => throw new InvalidDataException($"checkpoint state: '{key}' holds '{text}', not a number"),
            };
        return Read(n, key, x => x.GetValue<double>());
    }

    private static T Read<T>(JsonObject o, string key, Func<JsonNode, T> get) => Read(Get(o, key), key, get);

    private static T Read<T>(JsonNode n, string key, Func<JsonNode, T> get)
    {
        try { return get(n); }
        catch (Exception e) when (e is InvalidOperationException or FormatException or OverflowException)
        {
            throw new InvalidDataException($"checkpoint state: '{key}' has the wrong type ({n.ToJsonString()})");
        }
    }
}
