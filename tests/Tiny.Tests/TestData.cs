// TestData: reads the committed golden JSON files (tensors as {"shape", "data"}) from the test output folder.
using System.Text.Json;
using NUnit.Framework;

namespace Tiny.Tests;

internal static class TestData
{
    public static string PathOf(string file) => Path.Combine(TestContext.CurrentContext.TestDirectory, "data", file);

    public static JsonDocument Load(string file) => JsonDocument.Parse(File.ReadAllText(PathOf(file)));

    public static int[] Shape(JsonElement t) => t.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();

    public static double[] Data(JsonElement t) => t.GetProperty("data").EnumerateArray().Select(e => e.GetDouble()).ToArray();

    public static int[] Ints(JsonElement t) => t.GetProperty("data").EnumerateArray().Select(e => e.GetInt32()).ToArray();

    /// <summary>A tensor from {"shape","data"} in the given dtype (float32 values are exact in the JSON).</summary>
    public static Tensor Tensor(JsonElement t, DType dtype)
    {
        var shape = Shape(t);
        var data = Data(t);
        var x = Tiny.Tensor.FromArray(data, shape.Length == 0 ? [] : shape);
        if (shape.Length == 0) x = x.Reshape();
        return x.To(dtype);
    }
}
