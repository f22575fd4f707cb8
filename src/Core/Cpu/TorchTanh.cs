// TorchTanh: tanh exactly as PyTorch 1.13 computes it on CPU. torch's vectorised tanh (at::vml::vtanh, also for
// the tail, which it pads into a vector) calls SLEEF's Sleef_tanhf8_u10 / Sleef_tanhd4_u10 (AVX2 + FMA build).
// This is our own implementation of SLEEF's algorithm (Shibata, "SLEEF: a portable vectorized library of C
// standard mathematical functions", tanh_u1 of src/libm/sleefsimd{sp,dp}.c): tanh(|x|) = (e - 1/e) / (e + 1/e)
// with e = exp(|x|) as an unevaluated double-float (pair hi + lo) sum, and every step in double-float arithmetic
// with the same operations, the same operation order and FMAs exactly where the AVX2 build fuses, so each result
// has the same bits. The scalar, Vector256 and (float) Vector512 versions compute the same function lane by lane;
// the float vector versions (one width-generic code) first try two cheaper evaluations whose every lane is checked
// against SLEEF's error bound (a short polynomial for small arguments, float64 arithmetic otherwise) and run SLEEF's
// where one is unsure.
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Tiny.Cpu;

/// <summary>tanh bit-exact with PyTorch 1.13 on CPU (SLEEF's u10 tanh), float32 and float64.</summary>
public static class TorchTanh
{
    // ---- constants: ln 2 split in a high part with trailing zeros and a low part; 1/ln 2
    private const float R_Ln2F = 1.442695040888963407359924681001892137426645954152985934135449406931f;
    private const float L2UF = 0.693145751953125f, L2LF = 1.428606765330187045e-06f;
    private const double R_Ln2 = 1.442695040888963407359924681001892137426645954152985934135449406931;
    private const double L2U = .69314718055966295651160180568695068359375, L2L = .28235290563031577122588448175013436025525412068e-12;
    // beyond these |x|, tanh is 1 to the last bit (and the exp above would overflow)
    private const float ThresholdF = 8.664339742f;
    private const double Threshold = 18.714973875;
    // float32 exp(s) - 1 - s - s^2/2 - s^3/6 polynomial (Horner), float64 polynomial (Estrin, c9 .. c0)
    private const float P0F = 0.1980960224e-3f, P1F = 0.1394256484e-2f, P2F = 0.8333456703e-2f, P3F = 0.4166637361e-1f;
    private const float SixthF = 0.166666659414234244790680580464e+0f;
    private const double C9 = 0.1602472219709932072e-9, C8 = 0.2092255183563157007e-8, C7 = 0.2505230023782644465e-7,
        C6 = 0.2755724800902135303e-6, C5 = 0.2755731892386044373e-5, C4 = 0.2480158735605815065e-4,
        C3 = 0.1984126984148071858e-3, C2 = 0.1388888888886763255e-2, C1 = 0.8333333333333347095e-2,
        C0 = 0.4166666666666669905e-1, Sixth = 0.1666666666666666574e+0;

    // ================================================================= float32, scalar

    /// <summary>tanh(x) with the bits of torch.tanh on a float32 CPU tensor.</summary>
    public static float Tanh(float x)
    {
        float a = MathF.Abs(x);
        // e = exp(a) as (ex, ey): range reduction a = q ln2 + s, with s as a pair
        float q = MathF.Round(a * R_Ln2F, MidpointRounding.ToEven);
        float sx, sy;
        {   // s = (a, 0) + q * -L2U, then + q * -L2L: two-sum with the low parts carried
            float c = q * -L2UF, s = a + c, v = s - a;
            sx = s; sy = ((a - (s - v)) + (c - v)) + 0f;
            c = q * -L2LF; s = sx + c; v = s - sx;
            float t = (sx - (s - v)) + (c - v);
            sy = t + sy; sx = s;
        }
        float u = P0F;
        u = MathF.FusedMultiplyAdd(u, sx, P1F);
        u = MathF.FusedMultiplyAdd(u, sx, P2F);
        u = MathF.FusedMultiplyAdd(u, sx, P3F);
        float tx, ty;
        {   // t = s * u + 1/6
            float m = sx * u, ml = MathF.FusedMultiplyAdd(sy, u, MathF.FusedMultiplyAdd(sx, u, -m));
            (tx, ty) = Add2(m, ml, SixthF);
        }
        {   // t = s * t + 1/2
            float m = sx * tx, ml = MathF.FusedMultiplyAdd(sx, ty, MathF.FusedMultiplyAdd(sy, tx, MathF.FusedMultiplyAdd(sx, tx, -m)));
            (tx, ty) = Add2(m, ml, 0.5f);
        }
        {   // t = s + s^2 * t
            float q2 = sx * sx, q2l = MathF.FusedMultiplyAdd(sx + sx, sy, MathF.FusedMultiplyAdd(sx, sx, -q2));
            float m = q2 * tx, ml = MathF.FusedMultiplyAdd(q2, ty, MathF.FusedMultiplyAdd(q2l, tx, MathF.FusedMultiplyAdd(q2, tx, -m)));
            float s = sx + m, v = s - sx;
            float t = (sx - (s - v)) + (m - v);
            tx = s; ty = t + (sy + ml);
        }
        {   // t = 1 + t
            float s = 1f + tx;
            ty = ((1f - s) + tx) + ty; tx = s;
        }
        int qi = (int)q, h = qi >> 1;                                 // e = t * 2^q, in two exact steps
        float p1 = Pow2(h), p2 = Pow2(qi - h);
        float ex = tx * p1 * p2, ey = ty * p1 * p2;
        // r = 1/e as a pair
        float rx = 1f / ex, ry = rx * MathF.FusedMultiplyAdd(-ey, rx, MathF.FusedMultiplyAdd(-ex, rx, 1f));
        // n = e - r, d = e + r (pair adds, |e| >= |r|)
        float nx = ex + -rx, ny = (((ex - nx) + -rx) + ey) + -ry;
        float dx = ex + rx, dy = (((ex - dx) + rx) + ey) + ry;
        // n / d as a pair, then rounded to one float
        float it = 1f / dx, qx = nx * it;
        float w = MathF.FusedMultiplyAdd(it, nx, -qx);
        float z = MathF.FusedMultiplyAdd(-dy, it, MathF.FusedMultiplyAdd(-dx, it, 1f));
        float y = qx + MathF.FusedMultiplyAdd(qx, z, MathF.FusedMultiplyAdd(ny, it, w));
        if (a > ThresholdF || float.IsNaN(y)) y = 1f;
        y = BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(y) ^ (BitConverter.SingleToInt32Bits(x) & int.MinValue));
        return float.IsNaN(x) ? BitConverter.Int32BitsToSingle(-1) : y;   // SLEEF ORs the NaN mask in: all bits set
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (float, float) Add2(float xx, float xy, float y)   // (xx, xy) + y, no magnitude order assumed
    {
        float s = xx + y, v = s - xx;
        float t = (xx - (s - v)) + (y - v);
        return (s, t + xy);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Pow2(int e) => BitConverter.Int32BitsToSingle((e + 0x7f) << 23);

    // ================================================================= float64, scalar

    /// <summary>tanh(x) with the bits of torch.tanh on a float64 CPU tensor.</summary>
    public static double Tanh(double x)
    {
        double a = Math.Abs(x);
        double q = Math.Round(a * R_Ln2, MidpointRounding.ToEven);
        double sx, sy;
        {
            double c = q * -L2U, s = a + c, v = s - a;
            sx = s; sy = ((a - (s - v)) + (c - v)) + 0.0;
            c = q * -L2L; s = sx + c; v = s - sx;
            double t = (sx - (s - v)) + (c - v);
            sy = t + sy; sx = s;
        }
        // s2 = s^2, s4 = s2^2 (pairs), s8 = s4.hi^2
        double s2x = sx * sx, s2y = Math.FusedMultiplyAdd(sx + sx, sy, Math.FusedMultiplyAdd(sx, sx, -s2x));
        double s4x = s2x * s2x;
        double s8 = s4x * s4x;
        double s4y = Math.FusedMultiplyAdd(s2x + s2x, s2y, Math.FusedMultiplyAdd(s2x, s2x, -s4x));
        // Estrin: u = s8 (c9 s + c8) + s4 (s2 (c7 s + c6) + (c5 s + c4)) + (s2 (c3 s + c2) + (c1 s + c0))
        double hi4 = Math.FusedMultiplyAdd(s2x, Math.FusedMultiplyAdd(sx, C7, C6), Math.FusedMultiplyAdd(sx, C5, C4));
        double lo4 = Math.FusedMultiplyAdd(s2x, Math.FusedMultiplyAdd(sx, C3, C2), Math.FusedMultiplyAdd(sx, C1, C0));
        double u = Math.FusedMultiplyAdd(s8, Math.FusedMultiplyAdd(sx, C9, C8), Math.FusedMultiplyAdd(s4x, hi4, lo4));
        double tx, ty;
        {   // t = 0.5 + s * 1/6
            double m = sx * Sixth, ml = Math.FusedMultiplyAdd(sy, Sixth, Math.FusedMultiplyAdd(sx, Sixth, -m));
            (tx, ty) = AddD(0.5, m, ml);
        }
        for (int k = 0; k < 2; k++)
        {   // t = 1 + t * s, twice
            double m = tx * sx, ml = Math.FusedMultiplyAdd(tx, sy, Math.FusedMultiplyAdd(ty, sx, Math.FusedMultiplyAdd(tx, sx, -m)));
            (tx, ty) = AddD(1.0, m, ml);
        }
        {   // t = t + s4 * u (|t| >= |s4 u|)
            double m = s4x * u, ml = Math.FusedMultiplyAdd(s4y, u, Math.FusedMultiplyAdd(s4x, u, -m));
            double s = tx + m;
            ty = (((tx - s) + m) + ty) + ml; tx = s;
        }
        int qi = (int)q, h = qi >> 1;
        double p1 = Pow2(h, 0.0), p2 = Pow2(qi - h, 0.0);
        double ex = tx * p1 * p2, ey = ty * p1 * p2;
        double rx = 1.0 / ex, ry = rx * Math.FusedMultiplyAdd(-ey, rx, Math.FusedMultiplyAdd(-ex, rx, 1.0));
        // n = e - r, d = e + r (pair adds without magnitude order)
        var (nx, ny) = Add2D(ex, ey, -rx, -ry);
        var (dx, dy) = Add2D(ex, ey, rx, ry);
        double it = 1.0 / dx, qx = nx * it;
        double w = Math.FusedMultiplyAdd(it, nx, -qx);
        double z = Math.FusedMultiplyAdd(-dy, it, Math.FusedMultiplyAdd(-dx, it, 1.0));
        double y = qx + Math.FusedMultiplyAdd(qx, z, Math.FusedMultiplyAdd(ny, it, w));
        if (a > Threshold || double.IsNaN(y)) y = 1.0;
        y = BitConverter.Int64BitsToDouble(BitConverter.DoubleToInt64Bits(y) ^ (BitConverter.DoubleToInt64Bits(x) & long.MinValue));
        return double.IsNaN(x) ? BitConverter.Int64BitsToDouble(-1L) : y;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (double, double) AddD(double x, double yx, double yy)   // x + (yx, yy), |x| >= |yx|
    {
        double s = x + yx;
        return (s, ((x - s) + yx) + yy);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (double, double) Add2D(double xx, double xy, double yx, double yy)
    {
        double s = xx + yx, v = s - xx;
        double t = (xx - (s - v)) + (yx - v);
        return (s, t + (xy + yy));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static double Pow2(int e, double _) => BitConverter.Int64BitsToDouble((long)(e + 0x3ff) << 52);

    // ================================================================= float32 vectors (Vector256 and Vector512)
    // One width-generic code (over IFloatLanes: F8 = Vector256, F16 = Vector512) computes each lane as the scalar
    // Tanh(float) does. SLEEF's algorithm (SleefOf) is tried last: first, where every |x| < 2^-5 (a normalised
    // gradient, AlphaGrad's argument), the short SmallOf path; else the float64 GeneralOf path. Both check every lane
    // against SLEEF's error bound, and a vector with a lane either is not sure of runs SLEEF's code.

    /// <summary>Eight float32 tanh at once (AVX2), each lane equal to <see cref="Tanh(float)"/>: the
    /// <see cref="Small(Vector256{float}, out Vector256{float})"/> or <see cref="General(Vector256{float}, out uint)"/>
    /// path where each is sure of every lane, else SLEEF's algorithm.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Tanh(Vector256<float> x) => TanhOf(new F8(x)).Vec;

    /// <summary>Sixteen float32 tanh at once (AVX-512), each lane equal to <see cref="Tanh(float)"/>: as the Vector256
    /// version, sixteen lanes at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Tanh(Vector512<float> x) => TanhOf(new F16(x)).Vec;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static V TanhOf<V>(V x) where V : struct, IFloatLanes<V>
    {
        var signMask = V.Bits(int.MinValue);
        var a = V.AndNot(x, signMask);
        if (V.AllLess(a, V.Splat(SmallMax)))   // false for NaN
        {
            var y = SmallOf(a, out var unsure);
            if (!V.AnySet(unsure)) return y | (x & signMask);
            return SleefOf(x);
        }
        return NotSmall(x);
    }

    /// <summary>The float64 path, else SLEEF's: kept out of line, so a fused map's loop (AlphaGrad's update) holds
    /// only the small path.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static V NotSmall<V>(V x) where V : struct, IFloatLanes<V>
    {
        if (V.HasFloat64)
        {
            var y = GeneralOf(x, out uint unsure);
            if (unsure == 0) return y;
        }
        return SleefOf(x);
    }

    // ---- tanh(a) for 0 <= a < 2^-5 in float32 arithmetic, with each lane's rounding checked.
    // SLEEF's result is its double-float value rounded once to float. For these a that value is tanh(a) within a
    // relative 2^-34: its polynomial's 1/6 is float 1/6 (7e-9 off), which moves tanh by 2^-27 a^2 relative, and its
    // double-float sums lose more below 2^-7 (measured: every input passes with 2^-34, 920 fail with 2^-38). So where
    // tanh(a) is farther than that from a rounding boundary, SLEEF returns round(tanh(a)), and so does a + c with
    // c = a^3 p(a^2) computed in float: tanh(a) - a = -a^3/3 + 2a^5/15 - 17a^7/315 + 62a^9/2835 - ... (the a^9 term
    // is 2^-34 of c at a = 2^-5: dropped), c carries four roundings (2^-22 relative), and s = RN(a + c) with the exact
    // remainder err = a + c - s (Fast2Sum, a >= |c|) says how far a + c lies from the boundary between s and its
    // neighbour. A lane is unsure when |err| + 2^-21 |c| + 2^-34 s reaches half the gap to the float below s (the
    // smaller gap), and in [2^-24, 2^-23), where SLEEF returns the next float up for one input in eight (its e - 1/e
    // cancels); elsewhere below 2^-12 SLEEF returns a, and so does this. The same float operations on either width:
    // proven on every float with |x| < 2^-5 against SLEEF's lanes (TorchTanhTests, both widths: 0.83% of them unsure,
    // 0.01% outside [2^-24, 2^-23)).
    private const float SmallMax = 0.03125f, SmallC3 = -1f / 3f, SmallC5 = 2f / 15f, SmallC7 = -17f / 315f;
    // twice 2^-21 |c| + 2^-34 s, bounded by s (2^-33 + 0.3336 2^-20 a^2): |p| <= 1/3 and c's four roundings give
    // |c| <= a^3/3 (1 + 2^-21), and s >= a (1 - a^2/3), so |c| <= 0.33344 a^2 s
    private const float SmallErrA2 = 0.3336f / 1048576f, SmallErrS2 = 1.1641532182693481e-10f;

    /// <summary>tanh(a) for 0 &lt;= a &lt; 2^-5 (lanes past it: anything), and unsure: all bits set in the lanes that may
    /// differ from SLEEF's (see the comment above), zero in the others.</summary>
    internal static Vector256<float> Small(Vector256<float> a, out Vector256<float> unsure)
    {
        var s = SmallOf(new F8(a), out var u);
        unsure = u.Vec;
        return s.Vec;
    }

    /// <summary>The sixteen-lane <see cref="Small(Vector256{float}, out Vector256{float})"/>.</summary>
    internal static Vector512<float> Small(Vector512<float> a, out Vector512<float> unsure)
    {
        var s = SmallOf(new F16(a), out var u);
        unsure = u.Vec;
        return s.Vec;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static V SmallOf<V>(V a, out V unsure) where V : struct, IFloatLanes<V>
    {
        var a2 = a * a;
        var p = V.Fma(V.Fma(V.Splat(SmallC7), a2, V.Splat(SmallC5)), a2, V.Splat(SmallC3));
        var c = (a * a2) * p;                                             // tanh(a) - a (the a^9 term is 2^-34 of it: dropped)
        var s = a + c;
        var err = (a - s) + c;                                            // a + c = s + err exactly
        var slack2 = s * V.Fma(a2, V.Splat(SmallErrA2), V.Splat(SmallErrS2));   // >= 2^-20 |c| + 2^-33 s: |c| <= 0.33344 a^2 s
        var gap = s - V.IntSub(s, V.Bits(1));                             // s minus the float below it (NaN for s = 0: sure)
        // 2(|err| + slack) >= gap, or a in [2^-24, 2^-23) (its exponent field is 103)
        var quirk = V.IntEqual(V.ShiftRightArithmetic(a, 23), V.Bits(103));
        unsure = V.GreaterOrEqual(V.Fma(V.Abs(err), V.Splat(2f), slack2), gap) | quirk;
        return s;
    }

    // ---- tanh(x) for any x in float64 arithmetic, with each lane's rounding checked.
    // SLEEF's value before its last rounding is (e^2 - 1)/(e^2 + 1) for its e = 2^q P(s), s = |x| - q ln2, P(s) =
    // 1 + s + s^2/2 + s^3 c + s^4 u(s) with float c (1/6) and u evaluated in float from s rounded to float, all in
    // double-float pairs (about 2^-44 relative). Here u is SLEEF's own float u (same FMAs, same bits), s, P and
    // E = e - 1 = 2^q P - 1 (no cancellation for small x) are float64, tanh = E(E + 2) / (E(E + 2) + 2) (AVX-512: by a
    // reciprocal estimate and two Newton corrections; AVX2: one correctly rounded division): within 2^-50 of SLEEF's
    // formula, which differs from SLEEF's pairs by its pair rounding and by its float rounding of q ln2's low part
    // (2^-38). The lane is sure when the float64 result is farther than 2^-13 of a float32 ulp (2^-9 below 2^-7, where
    // SLEEF's pairs lose more to e - 1/e) from a rounding boundary, i.e. the low 29 bits of its significand are not
    // within that of 2^28; [2^-24, 2^-23) is never sure (see the small path). Proven for each width on all 2^32 floats
    // against SLEEF's lanes (TorchTanhTests, explicit).
    private const ulong GeneralMargin = 1UL << 16, GeneralMarginSmall = 1UL << 20;

    /// <summary>tanh(x) on eight lanes through float64 (sign, |x| &gt; 8.66 and NaN handled as SLEEF does; AVX), and
    /// unsure: bit l set when lane l may differ from SLEEF's (see the comment above).</summary>
    internal static Vector256<float> General(Vector256<float> x, out uint unsure) => GeneralOf(new F8(x), out unsure).Vec;

    /// <summary>The sixteen-lane <see cref="General(Vector256{float}, out uint)"/> (AVX-512F).</summary>
    internal static Vector512<float> General(Vector512<float> x, out uint unsure) => GeneralOf(new F16(x), out unsure).Vec;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static V GeneralOf<V>(V x, out uint unsure) where V : struct, IFloatLanes<V>
    {
        var signMask = V.Bits(int.MinValue);
        var a = V.AndNot(x, signMask);
        var quirk = V.IntEqual(V.ShiftRightArithmetic(a, 23), V.Bits(103));   // a in [2^-24, 2^-23)
        var ac = V.MinNative(a, V.Splat(ThresholdF));                   // NaN and the large lanes: the threshold (set below)
        var q = V.Round(ac * V.Splat(R_Ln2F));
        var sx = V.Fma(q, V.Splat(-L2UF), ac) + q * V.Splat(-L2LF);    // SLEEF's s, rounded
        var u = V.Fma(V.Splat(P0F), sx, V.Splat(P1F));                   // SLEEF's float u
        u = V.Fma(u, sx, V.Splat(P2F));
        u = V.Fma(u, sx, V.Splat(P3F));
        var y = V.Float64Tanh(ac, q, u, out unsure);
        unsure |= V.SignBits(quirk);
        y = V.Select(V.LessOrEqual(a, V.Splat(ThresholdF)), y, V.Splat(1f));
        return (y | (x & signMask)) | ~V.Equal(x, x);                   // NaN in: all bits set, as SLEEF
    }

    /// <summary>Four lanes of <see cref="General(Vector256{float}, out uint)"/> in float64: tanh of a (0 &lt;= a &lt;= 8.66,
    /// q = round(a / ln 2), u SLEEF's float polynomial) rounded to float, and the lanes within the margin of a
    /// rounding boundary (all bits set). Ordered for a short dependency chain (four lanes of this are about 50
    /// operations; latency, not throughput, bounds it): the part of P(s) - 1 without u while u's float chain runs,
    /// e^2 + 1 as one FMA beside e^2 - 1, one division.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> GeneralQuarter(Vector128<float> af, Vector128<float> qf, Vector128<float> uf, out Vector256<long> unsure)
    {
        var a = Avx.ConvertToVector256Double(af);
        var q = Avx.ConvertToVector256Double(qf);
        var u = Avx.ConvertToVector256Double(uf);
        var one = Vector256<double>.One;
        var two = Vector256.Create(2.0);
        var s = Vector256.FusedMultiplyAdd(q, Vector256.Create(-((double)L2UF + L2LF)), a);   // a - q ln2 (q ln2's parts exact)
        var s2 = s * s;
        var lead = Vector256.FusedMultiplyAdd(s2, Vector256.FusedMultiplyAdd(s, Vector256.Create((double)SixthF), Vector256.Create(0.5)), s);
        var em1 = Vector256.FusedMultiplyAdd(s2 * s2, u, lead);                               // P(s) - 1 = s + s^2/2 + s^3 c + s^4 u
        // 2^q: q (0 .. 13) + 2^52 + 1023 has q + 1023 in its low bits, shifted up into the exponent
        var p = Vector256.ShiftLeft((q + Vector256.Create(4503599627371519.0)).AsInt64(), 52).AsDouble();
        var e = Vector256.FusedMultiplyAdd(em1, p, p - one);                                  // E = 2^q P(s) - 1
        var e2 = e + two;
        var y = (e * e2) / Vector256.FusedMultiplyAdd(e, e2, two);                            // (e^2 - 1) / (e^2 + 1), e = E + 1
        // unsure: low = (y's low 29 bits - (2^28 - margin)) mod 2^29 <= 2 margin, margin by a < 2^-7
        var small = Vector256.LessThan(a, Vector256.Create(0.0078125)).AsInt64();
        var offset = Vector256.ConditionalSelect(small, Vector256.Create((1L << 28) - (long)GeneralMarginSmall), Vector256.Create((1L << 28) - (long)GeneralMargin));
        var limit = Vector256.ConditionalSelect(small, Vector256.Create(2 * (long)GeneralMarginSmall + 1), Vector256.Create(2 * (long)GeneralMargin + 1));
        unsure = Vector256.GreaterThan(limit, (y.AsInt64() - offset) & Vector256.Create((1L << 29) - 1));
        return Avx.ConvertToVector128Single(y);
    }

    /// <summary>Eight lanes of <see cref="General(Vector512{float}, out uint)"/> in float64, as
    /// <see cref="GeneralQuarter"/> with AVX-512's 2^q and a reciprocal estimate refined by Newton steps.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> GeneralHalf(Vector256<float> af, Vector256<float> qf, Vector256<float> uf, out Vector512<ulong> unsure)
    {
        var a = Avx512F.ConvertToVector512Double(af);
        var q = Avx512F.ConvertToVector512Double(qf);
        var u = Avx512F.ConvertToVector512Double(uf);
        var one = Vector512<double>.One;
        var two = Vector512.Create(2.0);
        var s = Vector512.FusedMultiplyAdd(q, Vector512.Create(-((double)L2UF + L2LF)), a);   // a - q ln2 (q ln2's parts exact)
        var w = Vector512.FusedMultiplyAdd(s, u, Vector512.Create((double)SixthF));
        w = Vector512.FusedMultiplyAdd(s, w, Vector512.Create(0.5));
        var em1 = Vector512.FusedMultiplyAdd(s * s, w, s);                                    // P(s) - 1
        var p = Avx512F.Scale(one, q);                                                        // 2^q
        var e = Vector512.FusedMultiplyAdd(em1, p, p - one);                                  // E = 2^q P(s) - 1
        var n = e * (e + two);                                                                // e^2 - 1
        var d = n + two;                                                                      // e^2 + 1
        var r = Avx512F.Reciprocal14(d);
        r = Vector512.FusedMultiplyAdd(Avx512F.FusedMultiplyAddNegated(d, r, one), r, r);     // 1/d to 2^-28
        var y0 = n * r;
        var y = Vector512.FusedMultiplyAdd(Avx512F.FusedMultiplyAddNegated(y0, d, n), r, y0); // n/d to about 2^-52
        var small = Vector512.LessThan(a, Vector512.Create(0.0078125)).AsUInt64();            // a < 2^-7
        var margin = Vector512.ConditionalSelect(small, Vector512.Create(GeneralMarginSmall), Vector512.Create(GeneralMargin));
        var low = (y.AsUInt64() - (Vector512.Create(1UL << 28) - margin)) & Vector512.Create((1UL << 29) - 1);
        unsure = Vector512.LessThanOrEqual(low, margin + margin);
        return Avx512F.ConvertToVector256Single(y);
    }

    /// <summary>SLEEF's algorithm on eight lanes (the exact path of <see cref="Tanh(Vector256{float})"/>).</summary>
    internal static Vector256<float> Sleef(Vector256<float> x) => SleefOf(new F8(x)).Vec;

    /// <summary>SLEEF's algorithm on sixteen lanes (the exact path of <see cref="Tanh(Vector512{float})"/>).</summary>
    internal static Vector512<float> Sleef(Vector512<float> x) => SleefOf(new F16(x)).Vec;

    /// <summary>The scalar Tanh(float)'s operations, lane by lane.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static V SleefOf<V>(V x) where V : struct, IFloatLanes<V>
    {
        var signMask = V.Bits(int.MinValue);
        var a = V.AndNot(x, signMask);
        var q = V.Round(a * V.Splat(R_Ln2F));
        V sx, sy;
        {
            var c = q * V.Splat(-L2UF); var s = a + c; var v = s - a;
            sx = s; sy = ((a - (s - v)) + (c - v)) + V.Splat(0f);
            c = q * V.Splat(-L2LF); s = sx + c; v = s - sx;
            var t = (sx - (s - v)) + (c - v);
            sy = t + sy; sx = s;
        }
        var u = V.Fma(V.Splat(P0F), sx, V.Splat(P1F));
        u = V.Fma(u, sx, V.Splat(P2F));
        u = V.Fma(u, sx, V.Splat(P3F));
        V tx, ty;
        {
            var m = sx * u; var ml = V.Fma(sy, u, V.Fma(sx, u, -m));
            (tx, ty) = Add2(m, ml, V.Splat(SixthF));
        }
        {
            var m = sx * tx;
            var ml = V.Fma(sx, ty, V.Fma(sy, tx, V.Fma(sx, tx, -m)));
            (tx, ty) = Add2(m, ml, V.Splat(0.5f));
        }
        {
            var q2 = sx * sx; var q2l = V.Fma(sx + sx, sy, V.Fma(sx, sx, -q2));
            var m = q2 * tx;
            var ml = V.Fma(q2, ty, V.Fma(q2l, tx, V.Fma(q2, tx, -m)));
            var s = sx + m; var v = s - sx;
            var t = (sx - (s - v)) + (m - v);
            tx = s; ty = t + (sy + ml);
        }
        var one = V.Splat(1f);
        {
            var s = one + tx;
            ty = ((one - s) + tx) + ty; tx = s;
        }
        // q is integral and small (or the lane is discarded below): its int from the bits of q + 1.5*2^23
        var qi = V.IntSub(q + V.Splat(12582912f), V.Bits(0x4B400000));
        var h = V.ShiftRightArithmetic(qi, 1);
        var bias = V.Bits(0x7f);
        var p1 = V.ShiftLeft(V.IntAdd(h, bias), 23);
        var p2 = V.ShiftLeft(V.IntAdd(V.IntSub(qi, h), bias), 23);
        var ex = tx * p1 * p2; var ey = ty * p1 * p2;
        var rx = one / ex;
        var ry = rx * V.Fma(-ey, rx, V.Fma(-ex, rx, one));
        var nrx = -rx;
        var nx = ex + nrx; var ny = (((ex - nx) + nrx) + ey) + -ry;
        var dx = ex + rx; var dy = (((ex - dx) + rx) + ey) + ry;
        var it = one / dx; var qx = nx * it;
        var w = V.Fma(it, nx, -qx);
        var z = V.Fma(-dy, it, V.Fma(-dx, it, one));
        var y = qx + V.Fma(qx, z, V.Fma(ny, it, w));
        var big = V.GreaterThan(a, V.Splat(ThresholdF)) | ~V.Equal(y, y);
        y = V.Select(big, one, y);
        y ^= x & signMask;
        return y | ~V.Equal(x, x);   // NaN in: all bits set
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (V, V) Add2<V>(V xx, V xy, V y) where V : struct, IFloatLanes<V>
    {
        var s = xx + y; var v = s - xx;
        var t = (xx - (s - v)) + (y - v);
        return (s, t + xy);
    }

    /// <summary>The float32 vector operations the width-generic code above is written in (F8: Vector256, F16:
    /// Vector512); the Int* and Shift* ones act on the lanes' bits as int32, masks are all-ones lanes.</summary>
    private interface IFloatLanes<V> where V : struct, IFloatLanes<V>
    {
        static abstract int Count { get; }
        static abstract V Load(ReadOnlySpan<float> x);   // the first Count floats
        static abstract void Store(V v, Span<float> y);
        static abstract V Splat(float x);
        static abstract V Bits(int bits);
        static abstract V operator +(V a, V b);
        static abstract V operator -(V a, V b);
        static abstract V operator *(V a, V b);
        static abstract V operator /(V a, V b);
        static abstract V operator -(V a);
        static abstract V operator &(V a, V b);
        static abstract V operator |(V a, V b);
        static abstract V operator ^(V a, V b);
        static abstract V operator ~(V a);
        static abstract V Fma(V a, V b, V c);
        static abstract V Round(V a);                  // to nearest, ties to even
        static abstract V Abs(V a);
        static abstract V AndNot(V a, V b);            // a & ~b
        static abstract V MinNative(V a, V b);         // x86 min: b where either is NaN
        static abstract V Equal(V a, V b);
        static abstract V GreaterThan(V a, V b);
        static abstract V GreaterOrEqual(V a, V b);
        static abstract V LessOrEqual(V a, V b);
        static abstract V Select(V mask, V a, V b);
        static abstract V IntAdd(V a, V b);
        static abstract V IntSub(V a, V b);
        static abstract V ShiftLeft(V a, int n);
        static abstract V ShiftRightArithmetic(V a, int n);
        static abstract V IntEqual(V a, V b);
        static abstract bool AllLess(V a, V b);
        static abstract bool AnySet(V mask);            // a lane with any bit set
        static abstract uint SignBits(V mask);         // bit l: lane l's sign
        /// <summary>Float64Tanh can run here.</summary>
        static abstract bool HasFloat64 { get; }
        /// <summary>GeneralOf's float64 part: the lanes' tanh(a) rounded to float and the unsure lanes' bits.</summary>
        static abstract V Float64Tanh(V a, V q, V u, out uint unsure);
    }

    /// <summary>Eight float32 lanes (Vector256; the float64 part needs AVX).</summary>
    private readonly struct F8(Vector256<float> v) : IFloatLanes<F8>
    {
        public readonly Vector256<float> Vec = v;
        public static int Count => 8;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 Load(ReadOnlySpan<float> x) => new(Vector256.Create(x));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(F8 v, Span<float> y) => v.Vec.CopyTo(y);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 Splat(float x) => new(Vector256.Create(x));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 Bits(int bits) => new(Vector256.Create(bits).AsSingle());
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 operator +(F8 a, F8 b) => new(a.Vec + b.Vec);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 operator -(F8 a, F8 b) => new(a.Vec - b.Vec);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 operator *(F8 a, F8 b) => new(a.Vec * b.Vec);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 operator /(F8 a, F8 b) => new(a.Vec / b.Vec);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 operator -(F8 a) => new(-a.Vec);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 operator &(F8 a, F8 b) => new(a.Vec & b.Vec);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 operator |(F8 a, F8 b) => new(a.Vec | b.Vec);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 operator ^(F8 a, F8 b) => new(a.Vec ^ b.Vec);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 operator ~(F8 a) => new(~a.Vec);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 Fma(F8 a, F8 b, F8 c) => new(Vector256.FusedMultiplyAdd(a.Vec, b.Vec, c.Vec));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 Round(F8 a) => new(Vector256.Round(a.Vec));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 Abs(F8 a) => new(Vector256.Abs(a.Vec));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 AndNot(F8 a, F8 b) => new(Vector256.AndNot(a.Vec, b.Vec));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 MinNative(F8 a, F8 b) => new(Avx.Min(a.Vec, b.Vec));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 Equal(F8 a, F8 b) => new(Vector256.Equals(a.Vec, b.Vec));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 GreaterThan(F8 a, F8 b) => new(Vector256.GreaterThan(a.Vec, b.Vec));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 GreaterOrEqual(F8 a, F8 b) => new(Vector256.GreaterThanOrEqual(a.Vec, b.Vec));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 LessOrEqual(F8 a, F8 b) => new(Vector256.LessThanOrEqual(a.Vec, b.Vec));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 Select(F8 m, F8 a, F8 b) => new(Vector256.ConditionalSelect(m.Vec, a.Vec, b.Vec));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 IntAdd(F8 a, F8 b) => new((a.Vec.AsInt32() + b.Vec.AsInt32()).AsSingle());
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 IntSub(F8 a, F8 b) => new((a.Vec.AsInt32() - b.Vec.AsInt32()).AsSingle());
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 ShiftLeft(F8 a, int n) => new(Vector256.ShiftLeft(a.Vec.AsInt32(), n).AsSingle());
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 ShiftRightArithmetic(F8 a, int n) => new(Vector256.ShiftRightArithmetic(a.Vec.AsInt32(), n).AsSingle());
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F8 IntEqual(F8 a, F8 b) => new(Vector256.Equals(a.Vec.AsInt32(), b.Vec.AsInt32()).AsSingle());
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AllLess(F8 a, F8 b) => Vector256.LessThanAll(a.Vec, b.Vec);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AnySet(F8 m) => m.Vec.AsUInt32() != Vector256<uint>.Zero;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static uint SignBits(F8 m) => m.Vec.ExtractMostSignificantBits();
        public static bool HasFloat64 => Avx.IsSupported;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static F8 Float64Tanh(F8 a, F8 q, F8 u, out uint unsure)
        {
            var lo = GeneralQuarter(a.Vec.GetLower(), q.Vec.GetLower(), u.Vec.GetLower(), out var ulo);
            var hi = GeneralQuarter(a.Vec.GetUpper(), q.Vec.GetUpper(), u.Vec.GetUpper(), out var uhi);
            unsure = ulo.ExtractMostSignificantBits() | (uhi.ExtractMostSignificantBits() << 4);
            return new(Vector256.Create(lo, hi));
        }
    }

    /// <summary>Sixteen float32 lanes (Vector512; the float64 part needs AVX-512F).</summary>
    private readonly struct F16(Vector512<float> v) : IFloatLanes<F16>
    {
        public readonly Vector512<float> Vec = v;
        public static int Count => 16;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 Load(ReadOnlySpan<float> x) => new(Vector512.Create(x));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(F16 v, Span<float> y) => v.Vec.CopyTo(y);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 Splat(float x) => new(Vector512.Create(x));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 Bits(int bits) => new(Vector512.Create(bits).AsSingle());
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 operator +(F16 a, F16 b) => new(a.Vec + b.Vec);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 operator -(F16 a, F16 b) => new(a.Vec - b.Vec);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 operator *(F16 a, F16 b) => new(a.Vec * b.Vec);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 operator /(F16 a, F16 b) => new(a.Vec / b.Vec);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 operator -(F16 a) => new(-a.Vec);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 operator &(F16 a, F16 b) => new(a.Vec & b.Vec);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 operator |(F16 a, F16 b) => new(a.Vec | b.Vec);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 operator ^(F16 a, F16 b) => new(a.Vec ^ b.Vec);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 operator ~(F16 a) => new(~a.Vec);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 Fma(F16 a, F16 b, F16 c) => new(Vector512.FusedMultiplyAdd(a.Vec, b.Vec, c.Vec));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 Round(F16 a) => new(Vector512.Round(a.Vec));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 Abs(F16 a) => new(Vector512.Abs(a.Vec));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 AndNot(F16 a, F16 b) => new(Vector512.AndNot(a.Vec, b.Vec));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 MinNative(F16 a, F16 b) => new(Avx512F.Min(a.Vec, b.Vec));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 Equal(F16 a, F16 b) => new(Vector512.Equals(a.Vec, b.Vec));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 GreaterThan(F16 a, F16 b) => new(Vector512.GreaterThan(a.Vec, b.Vec));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 GreaterOrEqual(F16 a, F16 b) => new(Vector512.GreaterThanOrEqual(a.Vec, b.Vec));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 LessOrEqual(F16 a, F16 b) => new(Vector512.LessThanOrEqual(a.Vec, b.Vec));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 Select(F16 m, F16 a, F16 b) => new(Vector512.ConditionalSelect(m.Vec, a.Vec, b.Vec));
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 IntAdd(F16 a, F16 b) => new((a.Vec.AsInt32() + b.Vec.AsInt32()).AsSingle());
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 IntSub(F16 a, F16 b) => new((a.Vec.AsInt32() - b.Vec.AsInt32()).AsSingle());
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 ShiftLeft(F16 a, int n) => new(Vector512.ShiftLeft(a.Vec.AsInt32(), n).AsSingle());
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 ShiftRightArithmetic(F16 a, int n) => new(Vector512.ShiftRightArithmetic(a.Vec.AsInt32(), n).AsSingle());
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static F16 IntEqual(F16 a, F16 b) => new(Vector512.Equals(a.Vec.AsInt32(), b.Vec.AsInt32()).AsSingle());
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AllLess(F16 a, F16 b) => Vector512.LessThanAll(a.Vec, b.Vec);
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AnySet(F16 m) => m.Vec.AsUInt32() != Vector512<uint>.Zero;
        [MethodImpl(MethodImplOptions.AggressiveInlining)] public static uint SignBits(F16 m) => (uint)m.Vec.ExtractMostSignificantBits();
        public static bool HasFloat64 => Avx512F.IsSupported;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static F16 Float64Tanh(F16 a, F16 q, F16 u, out uint unsure)
        {
            var lo = GeneralHalf(a.Vec.GetLower(), q.Vec.GetLower(), u.Vec.GetLower(), out var ulo);
            var hi = GeneralHalf(a.Vec.GetUpper(), q.Vec.GetUpper(), u.Vec.GetUpper(), out var uhi);
            unsure = (uint)(ulo.ExtractMostSignificantBits() | (uhi.ExtractMostSignificantBits() << 8));
            return new(Vector512.Create(lo, hi));
        }
    }

    // ================================================================= float64, Vector256

    /// <summary>Four float64 tanh at once, each lane equal to <see cref="Tanh(double)"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Tanh(Vector256<double> x)
    {
        var signMask = Vector256.Create(long.MinValue).AsDouble();
        var a = Vector256.AndNot(x, signMask);
        var q = Vector256.Round(a * Vector256.Create(R_Ln2));
        Vector256<double> sx, sy;
        {
            var c = q * Vector256.Create(-L2U); var s = a + c; var v = s - a;
            sx = s; sy = ((a - (s - v)) + (c - v)) + Vector256<double>.Zero;
            c = q * Vector256.Create(-L2L); s = sx + c; v = s - sx;
            var t = (sx - (s - v)) + (c - v);
            sy = t + sy; sx = s;
        }
        var s2x = sx * sx; var s2y = Vector256.FusedMultiplyAdd(sx + sx, sy, Vector256.FusedMultiplyAdd(sx, sx, -s2x));
        var s4x = s2x * s2x;
        var s8 = s4x * s4x;
        var s4y = Vector256.FusedMultiplyAdd(s2x + s2x, s2y, Vector256.FusedMultiplyAdd(s2x, s2x, -s4x));
        var hi4 = Vector256.FusedMultiplyAdd(s2x, Vector256.FusedMultiplyAdd(sx, Vector256.Create(C7), Vector256.Create(C6)),
                                             Vector256.FusedMultiplyAdd(sx, Vector256.Create(C5), Vector256.Create(C4)));
        var lo4 = Vector256.FusedMultiplyAdd(s2x, Vector256.FusedMultiplyAdd(sx, Vector256.Create(C3), Vector256.Create(C2)),
                                             Vector256.FusedMultiplyAdd(sx, Vector256.Create(C1), Vector256.Create(C0)));
        var u = Vector256.FusedMultiplyAdd(s8, Vector256.FusedMultiplyAdd(sx, Vector256.Create(C9), Vector256.Create(C8)),
                                           Vector256.FusedMultiplyAdd(s4x, hi4, lo4));
        Vector256<double> tx, ty;
        {
            var c6 = Vector256.Create(Sixth);
            var m = sx * c6; var ml = Vector256.FusedMultiplyAdd(sy, c6, Vector256.FusedMultiplyAdd(sx, c6, -m));
            (tx, ty) = AddD(Vector256.Create(0.5), m, ml);
        }
        var one = Vector256<double>.One;
        for (int k = 0; k < 2; k++)
        {
            var m = tx * sx;
            var ml = Vector256.FusedMultiplyAdd(tx, sy, Vector256.FusedMultiplyAdd(ty, sx, Vector256.FusedMultiplyAdd(tx, sx, -m)));
            (tx, ty) = AddD(one, m, ml);
        }
        {
            var m = s4x * u; var ml = Vector256.FusedMultiplyAdd(s4y, u, Vector256.FusedMultiplyAdd(s4x, u, -m));
            var s = tx + m;
            ty = (((tx - s) + m) + ty) + ml; tx = s;
        }
        // q and h = floor(q/2) as longs from the bits of q + 1.5*2^52 (no 64-bit shift right or convert in AVX2)
        var magic = Vector256.Create(6755399441055744.0);
        var qi = (q + magic).AsInt64() - magic.AsInt64();
        var h = (Vector256.Floor(q * Vector256.Create(0.5)) + magic).AsInt64() - magic.AsInt64();
        var bias = Vector256.Create(0x3ffL);
        var p1 = Vector256.ShiftLeft(h + bias, 52).AsDouble();
        var p2 = Vector256.ShiftLeft(qi - h + bias, 52).AsDouble();
        var ex = tx * p1 * p2; var ey = ty * p1 * p2;
        var rx = one / ex;
        var ry = rx * Vector256.FusedMultiplyAdd(-ey, rx, Vector256.FusedMultiplyAdd(-ex, rx, one));
        var (nx, ny) = Add2D(ex, ey, -rx, -ry);
        var (dx, dy) = Add2D(ex, ey, rx, ry);
        var it = one / dx; var qx = nx * it;
        var w = Vector256.FusedMultiplyAdd(it, nx, -qx);
        var z = Vector256.FusedMultiplyAdd(-dy, it, Vector256.FusedMultiplyAdd(-dx, it, one));
        var y = qx + Vector256.FusedMultiplyAdd(qx, z, Vector256.FusedMultiplyAdd(ny, it, w));
        var big = Vector256.GreaterThan(a, Vector256.Create(Threshold)) | ~Vector256.Equals(y, y);
        y = Vector256.ConditionalSelect(big, one, y);
        y ^= x & signMask;
        return y | ~Vector256.Equals(x, x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<double>, Vector256<double>) AddD(Vector256<double> x, Vector256<double> yx, Vector256<double> yy)
    {
        var s = x + yx;
        return (s, ((x - s) + yx) + yy);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector256<double>, Vector256<double>) Add2D(Vector256<double> xx, Vector256<double> xy, Vector256<double> yx, Vector256<double> yy)
    {
        var s = xx + yx; var v = s - xx;
        var t = (xx - (s - v)) + (yx - v);
        return (s, t + (xy + yy));
    }

    // ================================================================= spans

    /// <summary>y[i] = tanh(x[i]) as torch computes it; x and y may be the same span.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tanh(ReadOnlySpan<float> x, Span<float> y)
    {
        if (y.Length < x.Length) throw new ArgumentException("destination too short", nameof(y));
        int i = 0;
        if (Vector512.IsHardwareAccelerated) i = Vectors<F16>(x, y, i);
        if (Vector256.IsHardwareAccelerated) i = Vectors<F8>(x, y, i);
        for (; i < x.Length; i++) y[i] = Tanh(x[i]);
    }

    /// <summary>y = tanh(x) on the whole vectors from i on, one loop per width with the fast paths inlined into it (a
    /// call per vector, as the loop above had, ran 1.2-2.6x slower and varied with the JIT's tiering); returns where
    /// they end.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int Vectors<V>(ReadOnlySpan<float> x, Span<float> y, int i) where V : struct, IFloatLanes<V>
    {
        for (; i + V.Count <= x.Length; i += V.Count) V.Store(TanhOf(V.Load(x.Slice(i))), y.Slice(i));
        return i;
    }

    /// <summary>y[i] = tanh(x[i]) as torch computes it; x and y may be the same span.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tanh(ReadOnlySpan<double> x, Span<double> y)
    {
        if (y.Length < x.Length) throw new ArgumentException("destination too short", nameof(y));
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; i + 4 <= x.Length; i += 4) Tanh(Vector256.Create(x.Slice(i, 4))).CopyTo(y.Slice(i, 4));
        for (; i < x.Length; i++) y[i] = Tanh(x[i]);
    }

    /// <summary>The span version for T = float or double.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Tanh<T>(ReadOnlySpan<T> x, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float))
            Tanh(System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(x), System.Runtime.InteropServices.MemoryMarshal.Cast<T, float>(y));
        else if (typeof(T) == typeof(double))
            Tanh(System.Runtime.InteropServices.MemoryMarshal.Cast<T, double>(x), System.Runtime.InteropServices.MemoryMarshal.Cast<T, double>(y));
        else
            for (int i = 0; i < x.Length; i++) y[i] = T.Tanh(x[i]);
    }
}
