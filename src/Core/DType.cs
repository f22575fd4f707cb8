// DType: the element types a tensor can hold.
namespace Tiny;

/// <summary>Element type of a tensor. float32 is the default; float64 exists for gradient checks.</summary>
public enum DType
{
    /// <summary>IEEE 754 single precision (4 bytes), the default.</summary>
    Float32,
    /// <summary>IEEE 754 double precision (8 bytes), for gradient checks and references.</summary>
    Float64,
}

/// <summary>Helpers on <see cref="DType"/>.</summary>
public static class DTypeExtensions
{
    /// <summary>Bytes per element.</summary>
    public static int Size(this DType dtype) => dtype == DType.Float64 ? 8 : 4;

    /// <summary>PyTorch-style name: float32 / float64.</summary>
    public static string Name(this DType dtype) => dtype == DType.Float64 ? "float64" : "float32";

    /// <summary>Parses "float32"/"f32"/"float" and "float64"/"f64"/"double".</summary>
    public static DType Parse(string name) => name.ToLowerInvariant() switch
    {
        "float32" or "f32" or "float" or "single" => DType.Float32,
        "float64" or "f64" or "double" => DType.Float64,
        _ => throw new ArgumentException($"unknown dtype '{name}' (known: float32, float64)", nameof(name)),
    };
}
