// Lookahead: Zhang, Lucas, Hinton, Ba, "Lookahead Optimizer: k steps forward, 1 step back", NeurIPS 2019
// (arXiv 1907.08610). Follows the authors' michaelrzhang/lookahead, commit c4fd85f (lookahead_pytorch.py, class
// Lookahead, pullback_momentum="none"), op by op: p.mul_(alpha).add_(cached, alpha=1-alpha) is
// fma(1-alpha, cached, p*alpha) in torch 1.13 (tests/Tiny.Tests/data/OPTIM_SEMANTICS.md).
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Tiny.Optim;

/// <summary>
/// Lookahead around any optimizer (the inner one takes the "fast" steps). The slow weights start as a copy of the
/// parameters when the wrapper is built, as in the reference; then, per Step:
/// <code>
/// inner.Step() ;  la_step += 1
/// if la_step &gt;= k:                                    # every k steps, for every parameter (gradient or not)
///     la_step = 0
///     p = p*alpha + slow*(1 - alpha)                     # fma(1-alpha, slow, p*alpha)
///     slow = p
/// </code>
/// The slow weights are state tensors on each parameter's device (one fused pass does both lines); the state dict holds
/// the inner optimizer's state, the slow weights (buffer "cached_params") and la_step (a group scalar), so a resumed
/// run continues bit for bit (the reference's state_dict() keeps the inner optimizer's state only). The reference's
/// pullback_momentum "reset" and "pullback" modes (SGD's momentum buffer) are not offered. Train()/Eval() are the
/// inner optimizer's. The registry builds it from any optimizer's spec with lookahead_k (and lookahead_alpha):
/// "adam:lr=1e-3,lookahead_k=5,lookahead_alpha=0.5".
/// </summary>
public sealed class Lookahead : Optimizer
{
    /// <summary>Each parameter's slow weights, bound as the fused map's state slot (an array made once: a step allocates nothing).</summary>
    private readonly Dictionary<Tensor, Storage?[]> _slow = new(ReferenceEqualityComparer.Instance);
    private int _step;

    /// <summary>Wraps optimizer (its groups are shared: lr, options and gradients are the inner optimizer's). k: steps
    /// between synchronisations (the reference's la_steps, 5); alpha: the slow weights' step (la_alpha, 0.8; 1 gives the
    /// inner optimizer back). The groups' options record k and alpha (<see cref="OptimizerOptions.LookaheadK"/>).</summary>
    public Lookahead(Optimizer optimizer, int k = 5, double alpha = 0.8) : base(Checked(optimizer, k, alpha).ParamGroups)
    {
        Inner = optimizer;
        K = k;
        Alpha = alpha;
        foreach (var group in ParamGroups)
        {
            group.Options = group.Options with { LookaheadK = k, LookaheadAlpha = alpha };
            foreach (var p in group.Params) _slow[p] = [Copy(p, p).Storage];
        }
    }

    /// <summary>The wrapped optimizer.</summary>
    public Optimizer Inner { get; }

    /// <summary>Steps between synchronisations.</summary>
    public int K { get; }

    /// <summary>The slow weights' step toward the fast ones.</summary>
    public double Alpha { get; }

    /// <summary>Inner steps since the last synchronisation.</summary>
    public int StepsSinceSync => _step;

    /// <summary>The slow weights of p (a copy).</summary>
    public Tensor SlowWeights(Tensor p) => Copy(p, Slow(p));

    private Tensor Slow(Tensor p) => new(_slow[p][0]!, p.Shape);

    /// <summary>Throws ArgumentException unless k &gt;= 1 and 0 &lt;= alpha &lt;= 1.</summary>
    public static void Check(int k, double alpha)
    {
        if (k < 1) throw new ArgumentException($"Invalid lookahead_k: {k} (steps between synchronisations, at least 1)", "k");
        if (!(alpha >= 0 && alpha <= 1)) throw new ArgumentException($"Invalid lookahead_alpha: {Optimizers.Format(alpha)} (between 0 and 1)", "alpha");
    }

    private static Optimizer Checked(Optimizer optimizer, int k, double alpha)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        Check(k, alpha);
        return optimizer;
    }

    /// <summary>A state tensor like p (its backend, dtype and shape) holding src's values.</summary>
    private static Tensor Copy(Tensor p, Tensor src)
    {
        if (!ReferenceEquals(src.Backend, p.Backend)) return ParamState.Upload(p, p.DType == DType.Float32 ? src.ToArray() : src.ToDoubleArray());
        var t = new Tensor(p.Backend.Full(p.DType, p.Numel, 0), p.Shape).Keep();
        p.Backend.CopyInPlace(t.Storage, src.Storage);
        return t;
    }

    /// <summary>One inner step; every k-th call also pulls each parameter toward its slow weights, p = alpha*p + (1-alpha)*slow,
    /// and copies the result into the slow weights.</summary>
    private protected override void StepCore()
    {
        Inner.Step();
        if (++_step < K) return;
        _step = 0;
        using var _ = Tensor.NoGrad();
        for (int j = 0; j < ParamGroups.Count; j++)        // indexed: foreach over an IReadOnlyList boxes its enumerator
            for (int i = 0; i < ParamGroups[j].Params.Count; i++)
            {
                var p = ParamGroups[j].Params[i];
                var slow = _slow[p];
                if (!ReferenceEquals(slow[0]!.Backend, p.Backend)) slow[0] = Copy(p, Slow(p)).Storage;   // p moved since
                if (p.DType == DType.Float32) Sync<float>(p, slow);
                else Sync<double>(p, slow);
                p.MarkModified();
            }
    }

    private void Sync<T>(Tensor p, Storage?[] slow) where T : unmanaged, IFloatingPointIeee754<T> =>
        p.Backend.FusedMap<Map<T>, T>(new Map<T> { Alpha = T.CreateTruncating(Alpha), OneMinusAlpha = T.CreateTruncating(1.0 - Alpha) },
                                      p.Storage, p.Storage, slow);

    /// <summary>The synchronisation per element (x: p; y unused; s0: the slow weights).</summary>
    public struct Map<T> : IFusedMap<Map<T>, T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        /// <summary>alpha and 1 - alpha rounded to T.</summary>
        public T Alpha, OneMinusAlpha;

        /// <summary>One lane of the synchronisation: p = fma(1-alpha, slow, p*alpha), then slow = p; r, y, s1-s3 unused.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Apply<L>(in Map<T> c, L r, ref L p, L y, ref L slow, ref L s1, ref L s2, ref L s3) where L : struct, ILane<L, T>
        {
            p = L.Fma(L.Splat(c.OneMinusAlpha), slow, p * L.Splat(c.Alpha));          // p.mul_(alpha).add_(slow, alpha=1-alpha)
            slow = p;                                                                   // cached_params.copy_(p)
        }
    }

    /// <summary>The inner optimizer's internals (the recorded update includes a synchronisation every k-th step).</summary>
    internal override void Internals(InternalsProbe probe) => Inner.Internals(probe);

    /// <summary>Puts the inner optimizer in train mode.</summary>
    public override void Train() => Inner.Train();

    /// <summary>Puts the inner optimizer in eval mode.</summary>
    public override void Eval() => Inner.Eval();

    /// <summary>The inner optimizer's state of p (the slow weights are kept apart).</summary>
    public override ParamState? StateOf(Tensor p) => Inner.StateOf(p);

    /// <summary>Bytes of the inner optimizer's state plus the slow weights.</summary>
    public override long StateBytes => Inner.StateBytes + _slow.Values.Sum(s => s[0]!.Bytes);

    private protected override void Update(Tensor p, Tensor grad, ParamGroup group, ParamState state) =>
        throw new InvalidOperationException("Lookahead steps through its inner optimizer");

    private const string Cached = "cached_params", LaStep = "la_step";

    /// <summary>The inner optimizer's state dict, plus each parameter's slow weights ("cached_params") and la_step (a
    /// scalar of every group).</summary>
    public override OptimizerStateDict StateDict()
    {
        var d = Inner.StateDict();
        var entries = d.State.ToDictionary(e => e.Param);
        int i = 0;
        foreach (var group in ParamGroups)
            foreach (var p in group.Params)
            {
                if (!entries.TryGetValue(i, out var e))
                    d.State.Add(e = new OptimizerStateDict.ParamStateEntry { Param = i, Float32 = p.DType == DType.Float32 });
                e.Buffers[Cached] = Slow(p).ToDoubleArray();
                i++;
            }
        d.State.Sort((a, b) => a.Param.CompareTo(b.Param));
        foreach (var g in d.Groups) g.Scalars[LaStep] = _step;
        return d;
    }

    /// <summary>Restores a <see cref="StateDict"/>: the inner optimizer's part goes to it; slow weights and la_step the
    /// dict lacks (one of a plain optimizer) stay as they are. k and alpha stay this wrapper's.</summary>
    public override void LoadStateDict(OptimizerStateDict d)
    {
        var inner = new OptimizerStateDict
        {
            Groups = d.Groups.Select(g => new OptimizerStateDict.GroupEntry
            {
                Params = g.Params, Options = g.Options, InitialLr = g.InitialLr,
                Scalars = g.Scalars.Where(kv => kv.Key != LaStep).ToDictionary(),
            }).ToList(),
        };
        foreach (var e in d.State)
        {
            var rest = new OptimizerStateDict.ParamStateEntry
            {
                Param = e.Param, Step = e.Step, Float32 = e.Float32,
                Buffers = e.Buffers.Where(kv => kv.Key != Cached).ToDictionary(), Scalars = e.Scalars,
            };
            if (rest.Step != 0 || rest.Buffers.Count > 0 || rest.Scalars.Count > 0) inner.State.Add(rest);
        }
        Inner.LoadStateDict(inner);
        foreach (var group in ParamGroups) group.Options = group.Options with { LookaheadK = K, LookaheadAlpha = Alpha };
        var ps = ParamGroups.SelectMany(g => g.Params).ToList();
        foreach (var e in d.State)
            if (e.Buffers.TryGetValue(Cached, out var a))
            {
                var p = ps[e.Param];
                if (a.Length != p.Numel) throw new ArgumentException($"state buffer {Cached} of param {e.Param} has {a.Length} values, the param {p.Numel}", nameof(d));
                _slow[p][0] = ParamState.Upload(p, a).Storage;
            }
        if (d.Groups.Count > 0 && d.Groups[0].Scalars.TryGetValue(LaStep, out var s)) _step = (int)s;
    }
}
