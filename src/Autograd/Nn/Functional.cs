// Functional: losses (MSE, smooth L1, cross-entropy, NLL) composed from tensor ops, like torch.nn.functional.
namespace Tiny.Nn;

/// <summary>Loss functions, each the mean over elements (PyTorch's default reduction).</summary>
public static class F
{
    private static void SameShape(Tensor a, Tensor b, string op)
    {
        if (a.Shape != b.Shape) throw new ArgumentException($"{op}: input {a.Shape} and target {b.Shape} differ");
    }

    /// <summary>mean((input - target)^2).</summary>
    public static Tensor MseLoss(Tensor input, Tensor target)
    {
        SameShape(input, target, "MseLoss");
        var d = input - target;
        return (d * d).Mean();
    }

    /// <summary>Huber / smooth L1: 0.5 d^2/beta where |d| &lt; beta, else |d| - 0.5 beta; mean.</summary>
    public static Tensor SmoothL1Loss(Tensor input, Tensor target, double beta = 1.0)
    {
        SameShape(input, target, "SmoothL1Loss");
        var d = input - target;
        if (beta == 0) return d.Abs().Mean();
        var ad = d.Abs();
        return Tensor.Where(ad.Lt(beta), d.Square().Mul(0.5 / beta), ad.Add(-0.5 * beta)).Mean();
    }

    /// <summary>Negative log-likelihood of log-probabilities [N, C] at integer targets [N]; mean.</summary>
    public static Tensor NllLoss(Tensor logProbs, int[] targets)
    {
        if (logProbs.Rank != 2) throw new ArgumentException($"NllLoss: input must be [N, C], got {logProbs.Shape}");
        int n = logProbs.Shape[0], c = logProbs.Shape[1];
        if (targets.Length != n) throw new ArgumentException($"NllLoss: {targets.Length} targets for input {logProbs.Shape}");
        foreach (int t in targets)
            if ((uint)t >= (uint)c) throw new ArgumentOutOfRangeException(nameof(targets), $"NllLoss: target {t} is out of range for {c} classes");
        return logProbs.Gather(1, targets, n, 1).Mean().Neg();
    }

    /// <summary>Cross-entropy from logits [N, C] and integer targets [N]; mean.</summary>
    public static Tensor CrossEntropy(Tensor logits, int[] targets) => NllLoss(logits.LogSoftmax(1), targets);
}
