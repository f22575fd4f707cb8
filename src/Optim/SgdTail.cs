// SgdTail: SGD's weight decay, momentum (dampening, Nesterov) and step on a direction d, written once and composed
// into Sgd and AlphaGrad (optax's chain: add_decayed_weights, trace, scale).
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Tiny.Optim;

/// <summary>
/// The tail of torch.optim.SGD's update, per element:
/// <code>
/// if wd != 0: d = d + wd*p                                   # fma(wd, p, d)
/// if mu != 0: buf = first step ? d : mu*buf + (1-dampening)*d  # fma(1-dampening, d, mu*buf)
///             d = nesterov ? d + mu*buf : buf                # fma(mu, buf, d)
/// p = p - lr*d                                               # fma(-lr, d, p)
/// </code>
/// </summary>
public struct SgdTail<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The constants rounded to T: weight decay wd, momentum mu, 1 - dampening and -lr.</summary>
    public T Wd, Mu, OneMinusDampening, NegLr;
    /// <summary>Switches: add wd*p, keep a momentum buffer, Nesterov's look-ahead, the buffer was just created (it takes d as is).</summary>
    public Flag UseWd, UseMu, Nesterov, Fresh;

    /// <summary>The tail's constants rounded to T. fresh: the momentum buffer was just created.</summary>
    public static SgdTail<T> Of(double lr, double momentum, double dampening, bool nesterov, double weightDecay, bool fresh) => new()
    {
        Wd = T.CreateTruncating(weightDecay), Mu = T.CreateTruncating(momentum), OneMinusDampening = T.CreateTruncating(1 - dampening),
        NegLr = T.CreateTruncating(-lr), UseWd = weightDecay != 0, UseMu = momentum != 0, Nesterov = nesterov, Fresh = fresh,
    };

    /// <summary>The state buffers the tail needs: the momentum buffer when momentum != 0.</summary>
    public static string[] Buffers(double momentum) => momentum != 0 ? MomentumBuffer : [];
    private static readonly string[] MomentumBuffer = ["momentum_buffer"];

    /// <summary>Applies the tail to p with direction d (buf: the momentum buffer, untouched without momentum).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void Apply<L>(ref L p, L d, ref L buf) where L : struct, ILane<L, T>
    {
        if (UseWd) d = L.Fma(L.Splat(Wd), p, d);                                              // d <- d + wd*p
        if (UseMu)
        {
            buf = Fresh ? d : L.Fma(L.Splat(OneMinusDampening), d, L.Splat(Mu) * buf);        // buf <- mu*buf + (1-dampening)*d
            d = Nesterov ? L.Fma(L.Splat(Mu), buf, d) : buf;                                   // d <- nesterov ? d + mu*buf : buf
        }
        p = L.Fma(L.Splat(NegLr), d, p);                                                       // p <- p - lr*d
    }
}
