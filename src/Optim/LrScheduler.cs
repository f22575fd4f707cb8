// Learning-rate schedulers with torch.optim.lr_scheduler's (1.13) semantics: built with last_epoch = -1 they set
// the epoch-0 lr at once; Step() once per epoch sets the next lr of every group (the recursive "chainable" forms).
namespace Tiny.Optim;

/// <summary>Base of the schedulers: BaseLrs are the groups' lrs at construction (torch's initial_lr).</summary>
public abstract class LrScheduler
{
    /// <summary>Binds the scheduler to optimizer and records each group's current lr as its base lr.</summary>
    protected LrScheduler(Optimizer optimizer)
    {
        Optimizer = optimizer;
        BaseLrs = optimizer.ParamGroups.Select(g => g.Lr).ToArray();
    }

    /// <summary>The optimizer whose groups' lrs this scheduler sets.</summary>
    public Optimizer Optimizer { get; }
    /// <summary>Each group's lr when the scheduler was built (torch's initial_lr), in group order.</summary>
    public IReadOnlyList<double> BaseLrs { get; }

    /// <summary>Number of Step() calls so far (torch's last_epoch).</summary>
    public int LastEpoch { get; private set; } = -1;

    /// <summary>The lrs set by the last Step() (torch's get_last_lr()).</summary>
    public double[] LastLr => Optimizer.ParamGroups.Select(g => g.Lr).ToArray();

    /// <summary>Advances one epoch and sets every group's lr.</summary>
    public void Step()
    {
        LastEpoch++;
        var groups = Optimizer.ParamGroups;
        for (int i = 0; i < groups.Count; i++) groups[i].Lr = NextLr(groups[i].Lr, BaseLrs[i], LastEpoch);
    }

    /// <summary>The lr of epoch `epoch` from the group's current lr (chainable) or its base lr.</summary>
    protected abstract double NextLr(double lr, double baseLr, int epoch);
}

/// <summary>lr = base * factor, factor linear from startFactor to endFactor over totalIters epochs.</summary>
public sealed class LinearLR : LrScheduler
{
    private readonly double _start, _end;
    private readonly int _total;

    /// <summary>torch's LinearLR: sets lr = base*startFactor now, then moves the factor linearly to endFactor over totalIters steps.</summary>
    public LinearLR(Optimizer optimizer, double startFactor = 1.0 / 3, double endFactor = 1.0, int totalIters = 5) : base(optimizer)
    {
        if (startFactor > 1 || startFactor <= 0) throw new ArgumentException("Starting multiplicative factor expected to be greater than 0 and less or equal to 1.", nameof(startFactor));
        if (endFactor > 1 || endFactor < 0) throw new ArgumentException("Ending multiplicative factor expected to be between 0 and 1.", nameof(endFactor));
        (_start, _end, _total) = (startFactor, endFactor, totalIters);
        Step();
    }

    /// <inheritdoc/>
    protected override double NextLr(double lr, double baseLr, int epoch) =>
        epoch == 0 ? lr * _start
        : epoch > _total ? lr
        : lr * (1.0 + (_end - _start) / (_total * _start + (epoch - 1) * (_end - _start)));
}

/// <summary>lr *= gamma every stepSize epochs.</summary>
public sealed class StepLR : LrScheduler
{
    private readonly int _stepSize;
    private readonly double _gamma;

    /// <summary>torch's StepLR: multiplies every group's lr by gamma every stepSize epochs.</summary>
    public StepLR(Optimizer optimizer, int stepSize, double gamma = 0.1) : base(optimizer)
    {
        if (stepSize <= 0) throw new ArgumentException($"step_size must be positive, got {stepSize}", nameof(stepSize));
        (_stepSize, _gamma) = (stepSize, gamma);
        Step();
    }

    /// <inheritdoc/>
    protected override double NextLr(double lr, double baseLr, int epoch) =>
        epoch == 0 || epoch % _stepSize != 0 ? lr : lr * _gamma;
}

/// <summary>lr *= gamma every epoch.</summary>
public sealed class ExponentialLR : LrScheduler
{
    private readonly double _gamma;

    /// <summary>torch's ExponentialLR: multiplies every group's lr by gamma every epoch.</summary>
    public ExponentialLR(Optimizer optimizer, double gamma) : base(optimizer) { _gamma = gamma; Step(); }

    /// <inheritdoc/>
    protected override double NextLr(double lr, double baseLr, int epoch) => epoch == 0 ? lr : lr * _gamma;
}

/// <summary>Cosine annealing from base lr to etaMin over tMax epochs (SGDR without restarts; rises again after).</summary>
public sealed class CosineAnnealingLR : LrScheduler
{
    private readonly int _tMax;
    private readonly double _etaMin;

    /// <summary>torch's CosineAnnealingLR: lr = etaMin + (base - etaMin)*(1 + cos(pi*epoch/tMax))/2, in torch's recursive form.</summary>
    public CosineAnnealingLR(Optimizer optimizer, int tMax, double etaMin = 0) : base(optimizer)
    {
        if (tMax <= 0) throw new ArgumentException($"T_max must be positive, got {tMax}", nameof(tMax));
        (_tMax, _etaMin) = (tMax, etaMin);
        Step();
    }

    /// <inheritdoc/>
    protected override double NextLr(double lr, double baseLr, int e)
    {
        if (e == 0) return lr;
        if ((e - 1 - _tMax) % (2 * _tMax) == 0)
            return lr + (baseLr - _etaMin) * (1 - Math.Cos(Math.PI / _tMax)) / 2;
        return (1 + Math.Cos(Math.PI * e / _tMax)) / (1 + Math.Cos(Math.PI * (e - 1) / _tMax)) * (lr - _etaMin) + _etaMin;
    }
}

/// <summary>lr = base * lambda(epoch).</summary>
public sealed class LambdaLR : LrScheduler
{
    private readonly Func<int, double> _lambda;

    /// <summary>torch's LambdaLR: lr = base * lrLambda(epoch).</summary>
    public LambdaLR(Optimizer optimizer, Func<int, double> lrLambda) : base(optimizer) { _lambda = lrLambda; Step(); }

    /// <inheritdoc/>
    protected override double NextLr(double lr, double baseLr, int epoch) => baseLr * _lambda(epoch);
}
