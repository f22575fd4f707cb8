// Rng: the seeded pseudo-random generator behind every random number in Tiny (xoshiro256** seeded by SplitMix64).
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Tiny;

/// <summary>
/// A fast, seeded random generator (xoshiro256**). The same seed gives the same stream on every machine and run.
/// Not thread-safe: give each thread its own (see <see cref="Fork"/>).
/// </summary>
public sealed class Rng
{
    private ulong _s0, _s1, _s2, _s3;
    private double _spareNormal;
    private bool _hasSpare;

    /// <summary>Creates a generator from a 64-bit seed.</summary>
    public Rng(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix64(ref x); _s1 = SplitMix64(ref x); _s2 = SplitMix64(ref x); _s3 = SplitMix64(ref x);
    }

    /// <summary>Creates a generator from an integer seed (negative seeds are allowed).</summary>
    public Rng(int seed) : this(unchecked((ulong)(long)seed)) { }

    private static ulong SplitMix64(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The next 64 random bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong NextUInt64()
    {
        ulong result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0; _s3 ^= _s1; _s1 ^= _s2; _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform double in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform float in [0, 1) with 24 random bits.</summary>
    public float NextSingle() => (NextUInt64() >> 40) * (1.0f / (1U << 24));

    /// <summary>Uniform double in [low, high).</summary>
    public double Uniform(double low, double high) => low + (high - low) * NextDouble();

    /// <summary>Uniform integer in [0, n) without modulo bias.</summary>
    public int NextInt(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, "Rng.NextInt: n must be positive");
        // Lemire's multiply-shift with rejection.
        ulong range = (ulong)n;
        while (true)
        {
            ulong x = NextUInt64() >> 32;
            ulong m = x * range;
            ulong low = m & 0xFFFFFFFFUL;
            if (low >= range || low >= (0x1_0000_0000UL - range) % range) return (int)(m >> 32);
        }
    }

    /// <summary>Standard normal sample (Box-Muller, the second value cached).</summary>
    public double NextNormal()
    {
        if (_hasSpare) { _hasSpare = false; return _spareNormal; }
        double u1;
        do { u1 = NextDouble(); } while (u1 <= double.Epsilon);
        double u2 = NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        double a = 2.0 * Math.PI * u2;
        _spareNormal = r * Math.Sin(a);
        _hasSpare = true;
        return r * Math.Cos(a);
    }

    /// <summary>Normal sample with the given mean and standard deviation.</summary>
    public double Normal(double mean, double std) => mean + std * NextNormal();

    /// <summary>Fisher-Yates shuffle in place.</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>A new generator whose stream is independent of this one's; advances this one.</summary>
    public Rng Fork() => new(NextUInt64());

    /// <summary>
    /// The generator's whole state: the four xoshiro256** words and Box-Muller's cached second normal. Setting it
    /// makes this generator continue exactly where the one it was read from stood (checkpoints and resume).
    /// </summary>
    public RngState State
    {
        get => new(_s0, _s1, _s2, _s3, _spareNormal, _hasSpare);
        set
        {
            if ((value.S0 | value.S1 | value.S2 | value.S3) == 0)
                throw new ArgumentException("Rng.State: xoshiro256** cannot run from the all-zero state", nameof(value));
            (_s0, _s1, _s2, _s3, _spareNormal, _hasSpare) = (value.S0, value.S1, value.S2, value.S3, value.SpareNormal, value.HasSpare);
        }
    }

    /// <summary>A generator that continues from a saved <see cref="State"/>.</summary>
    public static Rng FromState(RngState state) => new(1UL) { State = state };
}

/// <summary>A snapshot of an <see cref="Rng"/>: its four state words and the cached normal (if any).</summary>
/// <param name="S0">State word 0.</param>
/// <param name="S1">State word 1.</param>
/// <param name="S2">State word 2.</param>
/// <param name="S3">State word 3.</param>
/// <param name="SpareNormal">The second Box-Muller normal, returned by the next NextNormal when HasSpare.</param>
/// <param name="HasSpare">Whether SpareNormal is pending.</param>
public readonly record struct RngState(ulong S0, ulong S1, ulong S2, ulong S3, double SpareNormal, bool HasSpare);
