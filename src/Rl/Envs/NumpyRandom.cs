// NumpyRandom: numpy's legacy np.random.RandomState (MT19937 and its rand/randint), so the MinAtar games draw exactly
// what kenjyoung/MinAtar's reference draws for the same seed.
namespace Tiny.Rl;

/// <summary>
/// The generator behind numpy's <c>np.random.RandomState(seed)</c>: MT19937 (Matsumoto and Nishimura 1998) seeded by
/// init_genrand (numpy's <c>mt19937_seed</c>, used for an integer seed), <c>rand()</c> as numpy's
/// <c>random_standard_uniform</c> (53 bits from two outputs) and <c>randint(low, high)</c> as the legacy masked
/// rejection sampler (numpy's <c>random_bounded_uint64_fill</c> with <c>use_masked</c>). Array draws
/// (<c>rand(n)</c>, <c>randint(low, high, n)</c>) are n scalar draws in order.
/// </summary>
internal sealed class NumpyRandom
{
    private const int N = 624, M = 397;
    private const uint MatrixA = 0x9908b0dfu, UpperMask = 0x80000000u, LowerMask = 0x7fffffffu;

    private readonly uint[] _key = new uint[N];
    private int _pos;

    /// <summary>The state of <c>np.random.RandomState(seed)</c> (numpy refuses seeds outside [0, 2^32)).</summary>
    public NumpyRandom(uint seed)
    {
        _key[0] = seed;
        for (int i = 1; i < N; i++) _key[i] = 1812433253u * (_key[i - 1] ^ (_key[i - 1] >> 30)) + (uint)i;
        _pos = N;
    }

    private NumpyRandom(uint[] key, int pos)
    {
        key.CopyTo(_key, 0);
        _pos = pos;
    }

    /// <summary>The next 32-bit output (tempered).</summary>
    public uint NextUInt32()
    {
        if (_pos == N) Twist();
        uint y = _key[_pos++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680u;
        y ^= (y << 15) & 0xefc60000u;
        return y ^ (y >> 18);
    }

    private void Twist()
    {
        for (int i = 0; i < N; i++)
        {
            uint y = (_key[i] & UpperMask) | (_key[(i + 1) % N] & LowerMask);
            _key[i] = _key[(i + M) % N] ^ (y >> 1) ^ ((y & 1) != 0 ? MatrixA : 0u);
        }
        _pos = 0;
    }

    /// <summary><c>rand()</c>: a double in [0, 1) from 27 + 26 bits of two outputs.</summary>
    public double Rand()
    {
        uint a = NextUInt32() >> 5, b = NextUInt32() >> 6;
        return (a * 67108864.0 + b) / 9007199254740992.0;
    }

    /// <summary>
    /// <c>randint(low, high)</c>: an integer in [low, high). With range r = high - 1 - low and mask the smallest
    /// 2^k - 1 >= r, outputs masked to k bits are drawn until one is &lt;= r; r = 0 draws nothing.
    /// </summary>
    public int RandInt(int low, int high)
    {
        if (high <= low) throw new ArgumentOutOfRangeException(nameof(high), high, $"NumpyRandom.RandInt: high ({high}) must be above low ({low})");
        uint range = (uint)((long)high - 1 - low);
        if (range == 0) return low;
        uint mask = range;
        mask |= mask >> 1; mask |= mask >> 2; mask |= mask >> 4; mask |= mask >> 8; mask |= mask >> 16;
        uint v;
        while ((v = NextUInt32() & mask) > range) { }
        return (int)(low + v);
    }

    /// <summary>The state words and position (numpy's <c>get_state()</c> key and pos).</summary>
    public (uint[] Key, int Pos) State => ((uint[])_key.Clone(), _pos);

    /// <summary>A generator continuing from a saved <see cref="State"/>.</summary>
    public static NumpyRandom FromState(uint[] key, int pos)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (key.Length != N || pos < 0 || pos > N) throw new InvalidDataException($"NumpyRandom: a state needs {N} words and a position in [0, {N}] (got {key.Length} words, position {pos})");
        return new NumpyRandom(key, pos);
    }
}
